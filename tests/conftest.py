"""Shared fixtures: a throwaway copy of the course directory, so tests never touch the real one."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import course as grader_course

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "fc_nets"


def copy_course(dest):
    """Copy the course's configuration, support package, source/ and release/ into dest."""
    return grader_course.copy_course(dest, REPO)


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
