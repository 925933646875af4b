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


#: The cell time limit is wall-clock: on a loaded machine a slow test cell could time out in one run
#: and not in the other. Tests that compare two ways of grading allow their copy more time.
GENEROUS_TIMEOUT = "\nc.SplitExecute.timeout = 600\n"


def released_class(dest, students):
    """A released copy of the course in dest with one submission per student; returns its Course.

    students: student id -> {function: new source of its solution cell}, or None for the untouched release.
    """
    from grader.course import Course
    from grader.submissions import build_submission, function_cell

    root = copy_course(dest)
    with open(root / "nbgrader_config.py", "a") as f:
        f.write(GENEROUS_TIMEOUT)
    run_grader(root, "release")
    course = Course(root)
    for student, replacements in students.items():
        build_submission(course, ASSIGNMENT, student, blank=replacements is None,
                         replacements={function_cell(f): s for f, s in (replacements or {}).items()})
    return course


def gradebook_scores(course):
    """(student, notebook, grade_id) -> (score, max_score) of every graded test cell in the gradebook."""
    from grader import grades

    return {(r.student_id, r.notebook, r.grade_id): (r.score, r.max_score) for r in grades.test_scores(course)}


@pytest.fixture(scope="session")
def repo():
    return REPO


def _region_lines(source, begin, end):
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


def secret_lines(course, assignment=ASSIGNMENT, regions=(("BEGIN SOLUTION", "END SOLUTION"),
                                                         ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))):
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
