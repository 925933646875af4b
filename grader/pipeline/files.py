"""Reading files that a student could have written: regular files only, never through a link."""
from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path


def read_regular(path: Path, max_bytes: int) -> bytes | None:
    """A regular file's bytes (never through a link), or None if it is not one or is too large."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(max_bytes + 1)[:max_bytes]
    finally:
        os.close(fd)


def student_notebooks(folder: Path, max_bytes: int, names: Collection[str] | None = None) -> dict[str, bytes]:
    """name -> bytes of the regular notebook files directly in a student's folder (links not followed).

    names: only these file names (the assignment's notebooks), so that what a folder may cost the
    trusted side is bounded by the assignment (its number of notebooks times max_bytes), not by
    how many files a student put there.
    """
    out: dict[str, bytes] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if names is not None and entry.name not in names:
            continue
        if entry.name.endswith(".ipynb") and entry.is_file(follow_symlinks=False):
            data = read_regular(Path(entry.path), max_bytes)
            if data is not None:
                out[entry.name] = data
    return out
