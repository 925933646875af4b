"""Shared fixtures: a throwaway copy of the course directory, so tests never touch the real one."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "fc_nets"


def copy_course(dest):
    """Copy the course's configuration, support package, source/ and release/ into dest."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", dest)
    for folder in ("assignments", "source", "release"):
        if (REPO / folder).exists():
            shutil.copytree(REPO / folder, dest / folder, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return dest


def grader_env():
    """Environment for running the grader CLI or nbgrader in a subprocess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "assignments")])
    env.pop("NNKIT_REFERENCE_DIR", None)
    return env


def run_grader(root, *args, timeout=1800):
    """Run `python -m grader --root root args...`; return the completed process (checked)."""
    proc = subprocess.run([sys.executable, "-m", "grader", "--root", str(root), *args],
                          cwd=REPO, env=grader_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def repo():
    return REPO
