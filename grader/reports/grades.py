"""Grades out of nbgrader's gradebook: per student and assignment, per test cell, and for an LMS.

reports/grades.csv has one row per student and assignment, with the grading status:
"graded"; "failed: <reason>" (a submission whose autograding failed never shows old scores as
if they were current); or "awaiting manual grading" while a written answer has no grade from
a TA yet. Its score counts the autograded tests and the written answers graded so far; its
max_score counts every graded cell of the assignment, written answers included.
reports/grades_by_test.csv has one row per student and autograded test cell (SPEC section 4).
The LMS files beside them (grader.reports.lms) hold the final grades only.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..course import Course
from ..pipeline.status import GRADED, load_status

GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score", "status"]
BY_TEST_COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score"]
AWAITING = "awaiting manual grading"


@dataclass(frozen=True)
class TestScore:
    student_id: str
    assignment: str
    notebook: str
    grade_id: str
    score: float
    max_score: float


@dataclass(frozen=True)
class WrittenScore:
    """A manually graded answer (a markdown cell with points) of one submission.

    score is None while it awaits a TA's grade; an unchanged answer cell ("YOUR ANSWER HERE")
    is scored 0 by nbgrader itself and awaits nothing.
    """

    student_id: str
    assignment: str
    notebook: str
    grade_id: str
    score: float | None
    max_score: float

    @property
    def awaiting(self) -> bool:
        return self.score is None


def _grades(course: Course) -> tuple[list[TestScore], list[WrittenScore]]:
    with Gradebook(course.db_url, course.course_id) as gb:
        return _grades_in(gb)


def _grades_in(gb: Gradebook) -> tuple[list[TestScore], list[WrittenScore]]:
    tests, written = [], []
    students = [s.id for s in gb.students]
    for assignment in gb.assignments:
        for student in students:
            try:
                submission = gb.find_submission(assignment.name, student)
            except MissingEntry:
                continue
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    key = (student, assignment.name, notebook.name, grade.name)
                    if grade.cell_type == "code":
                        score = grade.score if grade.score is not None else 0.0
                        tests.append(TestScore(*key, round(float(score), 4), float(grade.max_score)))
                    else:
                        awaiting = grade.score is None or (grade.needs_manual_grade and grade.manual_score is None)
                        written.append(WrittenScore(*key, None if awaiting else round(float(grade.score), 4),
                                                    float(grade.max_score)))
    order = lambda r: (r.assignment, r.student_id, r.notebook, r.grade_id)  # noqa: E731
    return sorted(tests, key=order), sorted(written, key=order)


def test_scores(course: Course | None = None) -> list[TestScore]:
    """One TestScore per student, assignment and autograded test cell, from the gradebook."""
    return _grades(course or Course())[0]


def written_scores(course: Course | None = None) -> list[WrittenScore]:
    """One WrittenScore per student, assignment and manually graded answer, from the gradebook."""
    return _grades(course or Course())[1]


def totals(scores: Sequence[TestScore],
           written: Sequence[WrittenScore] = ()) -> dict[tuple[str, str], tuple[float, float]]:
    """dict (student_id, assignment) -> (score, max_score): tests, and written answers graded so far
    (an ungraded one adds its points to max_score only)."""
    out: dict[tuple[str, str], tuple[float, float]] = {}
    rows: list[TestScore | WrittenScore] = [*scores, *written]
    for row in rows:
        score, max_score = out.get((row.student_id, row.assignment), (0.0, 0.0))
        out[(row.student_id, row.assignment)] = (score + (row.score or 0.0), max_score + row.max_score)
    return out


def awaiting_manual_grading(written: list[WrittenScore]) -> dict[tuple[str, str], list[WrittenScore]]:
    """(student_id, assignment) -> its written answers that await a TA's grade (only keys that have some)."""
    out: dict[tuple[str, str], list[WrittenScore]] = {}
    for row in written:
        if row.awaiting:
            out.setdefault((row.student_id, row.assignment), []).append(row)
    return out


def assignment_max_scores(course: Course) -> dict[str, float]:
    """assignment -> its maximum score, from the gradebook."""
    with Gradebook(course.db_url, course.course_id) as gb:
        return {a.name: float(a.max_score or 0.0) for a in gb.assignments}


def grading_status(course: Course) -> dict[tuple[str, str], str]:
    """(student_id, assignment) -> "graded" or "failed: <reason>" (from the autograde records)."""
    out = {}
    for key, row in load_status(course.reports_dir).items():
        out[key] = GRADED if row.get("success") else f"failed: {row.get('error') or 'unknown error'}"
    return out


@dataclass(frozen=True)
class AssignmentGrade:
    """One row of grades.csv."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    status: str

    @property
    def final(self) -> bool:
        return self.status == GRADED


def assignment_grades(course: Course | None = None) -> list[AssignmentGrade]:
    """One AssignmentGrade per student and assignment with a submission or a grading record."""
    course = course or Course()
    with Gradebook(course.db_url, course.course_id) as gb:
        return assignment_grades_in(gb, grading_status(course))


def assignment_grades_in(gb: Gradebook, status: dict[tuple[str, str], str]) -> list[AssignmentGrade]:
    """assignment_grades from an open gradebook and the autograding statuses (grading_status)."""
    tests, written = _grades_in(gb)
    awaiting = awaiting_manual_grading(written)
    rows = totals(tests, written)
    maxima = {a.name: float(a.max_score or 0.0) for a in gb.assignments}
    for key in set(status) - set(rows):   # never graded in full: no scores at all, still a row
        rows[key] = (0.0, maxima.get(key[1], 0.0))
    out = []
    for (student, assignment), (score, max_score) in rows.items():
        state = status.get((student, assignment), GRADED)
        if state == GRADED and (student, assignment) in awaiting:
            state = AWAITING
        out.append(AssignmentGrade(student, assignment, round(score, 2), max_score, state))
    return sorted(out, key=lambda r: (r.assignment, r.student_id))


def write_grade_csvs(course: Course | None = None) -> tuple[list[AssignmentGrade], tuple[Path, Path]]:
    """Write reports/grades.csv and reports/grades_by_test.csv; return the rows of grades.csv and the paths."""
    course = course or Course()
    scores = test_scores(course)
    course.reports_dir.mkdir(parents=True, exist_ok=True)
    by_test = course.reports_dir / "grades_by_test.csv"
    with open(by_test, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(BY_TEST_COLUMNS)
        for r in scores:
            writer.writerow([r.student_id, r.assignment, r.notebook, r.grade_id, f"{r.score:g}", f"{r.max_score:g}"])
    grades = course.reports_dir / "grades.csv"
    rows = assignment_grades(course)
    with open(grades, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(GRADES_COLUMNS)
        for row in rows:
            writer.writerow([row.student_id, row.assignment, f"{row.score:g}", f"{row.max_score:g}", row.status])
    return rows, (grades, by_test)
