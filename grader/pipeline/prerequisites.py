"""Building blocks a student already proved in an earlier assignment.

A later assignment uses the student's own layers of an earlier one (its notebooks import
`../<earlier assignment>/<notebook>.ipynb`). A composite test uses such a block as the student wrote it only when it is
known to be good; otherwise it is swapped for the instructor's version (grader.judge.known_good),
whose every call from the sandbox is a round trip to the reference process. A block is known to be
good here when the student's grading of the earlier assignment gave every test of it full marks
and the notebooks graded then are the ones handed in now: the same code in every answer cell of
that assignment's notebooks. Anything else (not graded yet, a failed or unfinished grading, a
resubmission since, a notebook that cannot be read) proves nothing, and the swap rule applies as
before. `autograde_class` grades a student's earlier assignments first, so the result does not
depend on the order of the class.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat

from ..conventions import cell_role, function_of_test, imported_notebooks, source_of
from ..course import Course, read_course_notebook
from .files import student_notebooks


def prerequisites(course: Course, assignment: str) -> list[str]:
    """The other assignments whose notebooks the assignment's notebooks import ("../<name>/...")."""
    found: list[str] = []
    for path in course.source_notebooks(assignment):
        for name in imported_notebooks(read_course_notebook(path)):
            parts = Path(name).parts
            if len(parts) == 3 and parts[0] == ".." and parts[1] != assignment and parts[1] not in found:
                found.append(parts[1])
    return [a for a in found if a in course.assignments()]


def answer_code(nb: Mapping[str, Any]) -> list[str]:
    """The sources of a notebook's answer cells (code the student wrote), in order."""
    return [source_of(cell) for cell in nb.get("cells", [])
            if cell.get("cell_type") == "code" and cell_role(cell) == "student"]


def _read_notebook(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception:   # any unreadable notebook proves nothing
        return None


def same_code_as_graded(course: Course, assignment: str, student: str, max_bytes: int) -> bool:
    """Whether every notebook the student handed in for `assignment` has the answer code it was graded with."""
    names = {path.name for path in course.source_notebooks(assignment)}
    submitted = student_notebooks(course.submitted_dir / student / assignment, max_bytes, names)
    graded = student_notebooks(course.autograded_dir / student / assignment, max_bytes, names)
    if not submitted or set(submitted) != set(graded):   # the same notebooks, by name
        return False
    for name, data in submitted.items():
        then, now = _read_notebook(graded[name]), _read_notebook(data)
        if then is None or now is None or answer_code(then) != answer_code(now):
            return False
    return True


def passed_everything(grades: Iterable[tuple[str, float | None, float]], functions: list[str]) -> set[str]:
    """The functions all of whose autograded tests got full marks, from (grade_id, score, max_score) rows."""
    passed: dict[str, bool] = {}
    for grade_id, score, max_score in grades:
        try:
            function = function_of_test(grade_id, functions)
        except ValueError:   # a test cell of no graded function
            continue
        passed[function] = passed.get(function, True) and score is not None and 0 < max_score <= score
    return {f for f, ok in passed.items() if ok}


def proven_blocks(course: Course, assignment: str, student: str) -> set[str]:
    """The graded functions of the assignment's prerequisites that this student already proved (see above)."""
    from nbgrader.api import Gradebook, MissingEntry

    own = set(course.graded_functions(assignment))
    max_bytes = course.settings.max_file_mb * 1024 ** 2
    proven: set[str] = set()
    for earlier in prerequisites(course, assignment):
        if not same_code_as_graded(course, earlier, student, max_bytes):
            continue
        functions = course.graded_functions(earlier)
        with Gradebook(course.db_url, course.course_id) as gb:
            try:
                notebooks = list(gb.find_submission(earlier, student).notebooks)
            except MissingEntry:
                continue
            rows = [(grade.name, grade.score, float(grade.max_score or 0.0))
                    for notebook in notebooks if not notebook.flagged
                    for grade in notebook.grades if grade.cell_type == "code" and not grade.needs_manual_grade]
            flagged = {notebook.name for notebook in notebooks if notebook.flagged}
        by_notebook = course.notebook_of_functions(earlier)
        proven |= {f for f in passed_everything(rows, functions) if by_notebook.get(f) not in flagged} - own
    return proven
