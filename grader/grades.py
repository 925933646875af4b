"""Grades out of nbgrader's gradebook: per student and assignment, and per test cell."""
import csv
from dataclasses import dataclass

from nbgrader.api import Gradebook, MissingEntry

from .course import Course

GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score"]
BY_TEST_COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score"]


@dataclass(frozen=True)
class TestScore:
    student_id: str
    assignment: str
    notebook: str
    grade_id: str
    score: float
    max_score: float


def test_scores(course=None):
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


def totals(scores):
    """dict (student_id, assignment) -> (score, max_score)."""
    out = {}
    for row in scores:
        score, max_score = out.get((row.student_id, row.assignment), (0.0, 0.0))
        out[(row.student_id, row.assignment)] = (score + row.score, max_score + row.max_score)
    return out


def write_grade_csvs(course=None):
    """Write reports/grades.csv and reports/grades_by_test.csv; return their paths."""
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
    with open(grades, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(GRADES_COLUMNS)
        for (student, assignment), (score, max_score) in sorted(totals(scores).items(), key=lambda kv: (kv[0][1], kv[0][0])):
            writer.writerow([student, assignment, f"{round(score, 2):g}", f"{max_score:g}"])
    return grades, by_test
