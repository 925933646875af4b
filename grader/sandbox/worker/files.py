"""The working folder: written here, inside the sandbox, from the files the judge sends.

The grader never writes into a folder that student code could have touched: each sandbox
starts with an empty private working folder (a tmpfs), and its worker writes the student's
notebooks and the assignment's support files there before any student code runs.
"""
from __future__ import annotations

# Student code has not run yet, but keep the originals anyway.
from builtins import ValueError, isinstance, str  # noqa: A004

import os
import posixpath
import sys
from typing import Any

from ..protocol import Reply, reply


def safe_relative(path: Any) -> str:
    """A relative path with no '..', no absolute part and no empty component, or ValueError."""
    if not isinstance(path, str) or not path or "\0" in path:
        raise ValueError(f"bad file name {path!r}")
    normal = posixpath.normpath(path)
    if normal.startswith(("/", "../")) or normal in (".", "..") or "/../" in f"/{normal}/":
        raise ValueError(f"file name outside the working folder: {path!r}")
    return normal


def write_files(root: str, files: dict[str, bytes]) -> None:
    """Write files (relative path -> bytes) under root, never through a link or over a file."""
    for rel, data in files.items():
        target = os.path.join(root, safe_relative(rel))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def setup(worker: Any, msg: dict[str, Any]) -> Reply:
    """Write files under the working folder; with `cwd`, make that folder current and first on sys.path.

The judge may send the files in several setup requests (each message is bounded).
"""
    write_files(worker.root, msg.get("files") or {})
    if msg.get("cwd"):
        cwd = os.path.join(worker.root, safe_relative(msg["cwd"]))
        os.makedirs(cwd, exist_ok=True)
        os.chdir(cwd)
        sys.path.insert(0, cwd)
    return reply(True)
