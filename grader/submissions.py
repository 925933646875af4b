"""Build submissions from the notebooks: what a student with given answers would hand in.

A submission starts from the released notebooks (what students receive), fills
each solution cell with the instructor's solution, then replaces chosen solution
cells with other code (a bug, a different correct implementation, a syntax error).
Used for the sample class, the mutation harness and the tests.
"""
import os
import shutil
from pathlib import Path

import nbformat

from .preflight import STAGED, read_course_notebook


def solution_sources_in(folder):
    """grade_id -> source of every solution cell of the notebooks in `folder`."""
    sources = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        nb = read_course_notebook(path)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
                sources[meta["grade_id"]] = cell.source
    return sources


def solution_sources(course, assignment):
    """grade_id -> source of every solution cell in the instructor's source notebooks."""
    return solution_sources_in(course.source_dir / assignment)


def function_cell(function):
    """The grade_id of the solution cell that defines `function`."""
    return f"{function}_solution"


def build_submission(course, assignment, student_id, replacements=None, blank=False,
                     drop_notebooks=(), root=None):
    """Write submitted/<student_id>/<assignment>/ and return its path.

    Inputs:
    - course: the Course
    - assignment: assignment name
    - student_id: folder name of the student
    - replacements: dict grade_id -> new source for that solution cell
    - blank: hand in the release untouched (no solutions filled in)
    - drop_notebooks: notebook file names left out of the submission
    - root: submitted-directory root (default: the course's submitted/)

    Every solution cell not replaced gets the instructor's solution, unless blank.
    """
    replacements = dict(replacements or {})
    solutions = {} if blank else solution_sources(course, assignment)
    unknown = set(replacements) - set(solution_sources(course, assignment))
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
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in replacements:
                cell.source = replacements[grade_id]
            elif grade_id in solutions:
                cell.source = solutions[grade_id]
        nbformat.write(nb, dest / path.name)
    return dest


def remove_submissions(course):
    """Delete submitted/, autograded/ and feedback/ trees (not the gradebook)."""
    for folder in (course.submitted_dir, course.autograded_dir, course.feedback_dir, course.root / STAGED):
        if os.path.isdir(folder):
            shutil.rmtree(folder)


def graded_functions_in(folder):
    """Names of the graded functions and classes: their solution cells are `<name>_solution`."""
    suffix = "_solution"
    return sorted(g[: -len(suffix)] for g in solution_sources_in(folder) if g.endswith(suffix))


def graded_functions(course, assignment):
    """Names of an assignment's graded functions and classes, from the source notebooks."""
    return graded_functions_in(course.source_dir / assignment)


def function_of_test(grade_id, functions):
    """The graded function a test cell belongs to: the longest name its grade_id starts with."""
    matches = [f for f in functions if grade_id == f or grade_id.startswith(f + "_")]
    if not matches:
        raise ValueError(f"test cell {grade_id!r} does not start with the name of a graded function")
    return max(matches, key=len)
