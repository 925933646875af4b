"""Grades out of nbgrader's gradebook: per student and assignment, and per test cell.

reports/grades.csv has one row per student and assignment, with the grading status
("graded", or "failed: <reason>"): a submission whose autograding failed never shows old
scores as if they were current. reports/grades_by_test.csv has one row per student and
autograded test cell (SPEC section 4).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..course import Course
from ..pipeline.status import GRADED, load_status

GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score", "status"]
BY_TEST_COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score"]


@dataclass(frozen=True)
class TestScore:
    student_id: str
    assignment: str
    notebook: str
    grade_id: str
    score: float
    max_score: float


def test_scores(course: Course | None = None) -> list[TestScore]:
    """One TestScore per student, assignment and autograded test cell, from the gradebook."""
    course = course or Course()
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        students = [s.id for s in gb.students]
        for assignment in gb.assignments:
            for student in students:
                try:
                    submission = gb.find_submission(assignment.name, student)
                except MissingEntry:
                    continue
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.cell_type != "code":
                            continue
                        score = grade.score if grade.score is not None else 0.0
                        rows.append(TestScore(student, assignment.name, notebook.name, grade.name,
                                              round(float(score), 4), float(grade.max_score)))
    return sorted(rows, key=lambda r: (r.assignment, r.student_id, r.notebook, r.grade_id))


def totals(scores: list[TestScore]) -> dict[tuple[str, str], tuple[float, float]]:
    """dict (student_id, assignment) -> (score, max_score)."""
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for row in scores:
        score, max_score = out.get((row.student_id, row.assignment), (0.0, 0.0))
        out[(row.student_id, row.assignment)] = (score + row.score, max_score + row.max_score)
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


def write_grade_csvs(course: Course | None = None) -> tuple[Path, Path]:
    """Write reports/grades.csv and reports/grades_by_test.csv; return their paths."""
    course = course or Course()
    scores = test_scores(course)
    status = grading_status(course)
    course.reports_dir.mkdir(parents=True, exist_ok=True)
    by_test = course.reports_dir / "grades_by_test.csv"
    with open(by_test, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(BY_TEST_COLUMNS)
        for r in scores:
            writer.writerow([r.student_id, r.assignment, r.notebook, r.grade_id, f"{r.score:g}", f"{r.max_score:g}"])
    rows = totals(scores)
    for key in set(status) - set(rows):   # never graded in full: no scores at all, still a row
        rows[key] = (0.0, assignment_max_scores(course).get(key[1], 0.0))
    grades = course.reports_dir / "grades.csv"
    with open(grades, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(GRADES_COLUMNS)
        for (student, assignment), (score, max_score) in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            writer.writerow([student, assignment, f"{round(score, 2):g}", f"{max_score:g}",
                             status.get((student, assignment), GRADED)])
    return grades, by_test
