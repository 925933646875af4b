"""Shared helpers and fixtures: throwaway copies of the course, so tests never touch the real one."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader import course as grader_course
from grader.sandbox.bubblewrap import sandbox_works

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "fc_nets"
SANDBOXED, WHY_NOT = sandbox_works()

#: tests that run student code need the sandbox; CI has it (a missing sandbox fails there, never skips)
needs_sandbox = pytest.mark.skipif(not SANDBOXED and os.environ.get("CI") != "true",
                                   reason=f"no sandbox on this machine: {WHY_NOT}")


def copy_course(dest: Path, assignments: tuple[str, ...] | None = None) -> Path:
    """Copy the course's configuration, support package, notebooks and catalogs into dest.

    assignments: keep only these (default: all)."""
    root = grader_course.copy_course(dest, REPO)
    if assignments is not None:
        import shutil

        for folder in ("source", "release"):
            for path in (root / folder).iterdir():
                if path.is_dir() and path.name not in assignments:
                    shutil.rmtree(path)
    return root


def grader_env() -> dict[str, str]:
    """Environment for running the grader CLI or nbgrader in a subprocess."""
    env = dict(os.environ)
    env.pop("NNKIT_REFERENCE_DIR", None)
    return env


def run_grader(root: Path, *args: str, timeout: int = 1800, check: bool = True) -> subprocess.CompletedProcess:
    """Run `python -m grader --root root args...`; return the completed process (checked)."""
    proc = subprocess.run([sys.executable, "-m", "grader", "--root", str(root), *args],
                          cwd=REPO, env=grader_env(), capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


#: The cell time limit is wall-clock: on a loaded machine a slow test cell could time out in one run
#: and not in the other. Tests that compare two ways of grading allow their copy more time.
GENEROUS_TIMEOUT = "\nc.GraderSettings.cell_timeout = 600\nc.Execute.timeout = 600\n"


def released_class(dest: Path, students: dict[str, dict[str, str] | None], assignment: str = ASSIGNMENT,
                   config: str = GENEROUS_TIMEOUT) -> Any:
    """A released copy of the course in dest with one submission per student; returns its Course.

    students: student id -> {function: new source of its solution cell}, or None for the untouched release.
    """
    from grader.conventions import function_cell
    from grader.course import Course
    from grader.quality.submissions import build_submission

    root = copy_course(dest)
    with open(root / "nbgrader_config.py", "a") as f:
        f.write(config)
    run_grader(root, "release", "--assignment", assignment)
    course = Course(root)
    for student, replacements in students.items():
        build_submission(course, assignment, student, blank=replacements is None,
                         replacements={function_cell(f): s for f, s in (replacements or {}).items()})
    return course


def gradebook_scores(course: Any) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(student, notebook, grade_id) -> (score, max_score) of every graded test cell in the gradebook."""
    from grader.reports import grades

    return {(r.student_id, r.notebook, r.grade_id): (r.score, r.max_score) for r in grades.test_scores(course)}


def catalog(assignment: str = ASSIGNMENT) -> Any:
    """An assignment's catalog module (catalog/<assignment>.py)."""
    from grader.quality.catalog import load_catalog

    return load_catalog(REPO, assignment)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def _region_lines(source: str, begin: str, end: str) -> list[str]:
    """Non-trivial lines between the begin and end markers of a cell."""
    inside, lines = False, []
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside and len(line.strip()) >= 12 and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


def secret_lines(course: Any, assignment: str = ASSIGNMENT,
                 regions: tuple[tuple[str, str], ...] = (("BEGIN SOLUTION", "END SOLUTION"),
                                                         ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))) -> list[str]:
    """Lines of the source notebooks that only occur inside solution or hidden-test regions."""
    import nbformat

    secret = set()
    for path in course.source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            for begin, end in regions:
                secret.update(_region_lines(cell.source, begin, end))
    outside_everything = set()
    for path in course.source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            text = cell.source
            for begin, end in regions:
                kept, inside = [], False
                for line in text.splitlines():
                    if begin in line:
                        inside = True
                    elif end in line:
                        inside = False
                    elif not inside:
                        kept.append(line)
                text = "\n".join(kept)
            outside_everything.update(line.strip() for line in text.splitlines())
    outside_text = "\n".join(outside_everything)
    return sorted(line for line in secret if line not in outside_text)
