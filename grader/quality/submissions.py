"""Build submissions from the notebooks: what a student with given answers would hand in.

A submission starts from the released notebooks (what students receive), fills each solution
cell with the instructor's solution (without the solution markers, as a student's answer
looks), then replaces chosen solution cells with other code (a bug, a different correct
implementation, a syntax error). Used for the sample class, the mutation harness, the benchmark
and the tests.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from ..conventions import is_solution_code, nbgrader_meta
from ..course import read_course_notebook

if TYPE_CHECKING:
    from ..course import Course

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
#: when the sample students hand in (nbgrader reads timestamp.txt of a submission)
SAMPLE_TIMESTAMP = "2026-11-30 23:59:00.000000 UTC"


def solution_sources_in(folder: Path | str) -> dict[str, str]:
    """grade_id -> source of every solution (code) cell of the notebooks in `folder`."""
    sources = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        for cell in read_course_notebook(path).cells:
            if is_solution_code(cell):
                sources[nbgrader_meta(cell)["grade_id"]] = cell.source
    return sources


def solution_sources(course: Course, assignment: str) -> dict[str, str]:
    """grade_id -> source of every solution cell in the instructor's source notebooks."""
    return solution_sources_in(course.source_dir / assignment)


def as_answer(source: str) -> str:
    """A solution cell's source as a student's answer: without the solution marker lines."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def build_submission(course: Course, assignment: str, student_id: str, replacements: dict[str, str] | None = None,
                     blank: bool = False, drop_notebooks: tuple[str, ...] = (), root: Path | None = None,
                     timestamp: str | None = SAMPLE_TIMESTAMP) -> Path:
    """Write submitted/<student_id>/<assignment>/ and return its path.

    Inputs:
    - replacements: dict grade_id -> new source for that solution cell
    - blank: hand in the release untouched (no solutions filled in)
    - drop_notebooks: notebook file names left out of the submission
    - root: submitted-directory root (default: the course's submitted/)
    - timestamp: written to timestamp.txt (nbgrader's submission time), unless None

    Every solution cell not replaced gets the instructor's solution, unless blank.
    """
    replacements = dict(replacements or {})
    all_solutions = solution_sources(course, assignment)
    solutions = {} if blank else all_solutions
    unknown = set(replacements) - set(all_solutions)
    if unknown:
        raise KeyError("no solution cell with grade_id %s" % ", ".join(sorted(unknown)))
    dest = Path(root or course.submitted_dir) / student_id / assignment
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for path in course.release_notebooks(assignment):
        if path.name in drop_notebooks:
            continue
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id in replacements:
                cell.source = replacements[grade_id]
            elif grade_id in solutions:
                cell.source = as_answer(solutions[grade_id])
        nbformat.write(nb, dest / path.name)
    if timestamp is not None:
        (dest / "timestamp.txt").write_text(timestamp + "\n")
    return dest


def remove_submissions(course: Course) -> None:
    """Delete submitted/, autograded/, feedback/ and the staging folder (not the gradebook)."""
    for folder in (course.submitted_dir, course.autograded_dir, course.feedback_dir, course.staged_dir):
        if os.path.isdir(folder):
            shutil.rmtree(folder)
