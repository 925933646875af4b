"""Grades for a learning management system: CSV files that Canvas and Moodle import as they are.

Both are nbgrader export plugins (`nbgrader export --exporter grader.reports.lms.CanvasExport
--to canvas.csv` works too); `make grades` writes them beside reports/grades.csv:

- reports/lms_canvas.csv, Canvas's gradebook CSV (Grades > Import): the columns Student
  ("Last, First"), ID (the Canvas user id: the student's `lms_user_id` in nbgrader's roster),
  SIS User ID (nbgrader's student id), SIS Login ID (the student's email, else the id) and
  Section, then one column per assignment; the second row is Canvas's "Points Possible" row.
- reports/lms_moodle.csv, for Moodle's grade import (Grades > Import > CSV file): First name,
  Last name, ID number (nbgrader's student id) and Email address, either of the last two to map
  to the Moodle user, then one column per assignment, "<assignment> (out of <points>)".

Only final grades go out: a submission that awaits manual grading of a written answer, or whose
autograding failed, or that is missing, has an empty cell (both LMSs then leave the grade alone).
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin

from ..course import Course
from .grades import AssignmentGrade, assignment_grades_in

CANVAS_FILE, MOODLE_FILE = "lms_canvas.csv", "lms_moodle.csv"
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "    Points Possible"
MOODLE_IDENTITY = ["First name", "Last name", "ID number", "Email address"]


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


class _LmsExport(ExportPlugin):
    """An export plugin writing one LMS's CSV; `grades` (the kit's rows of grades.csv, with the
    autograding failures it recorded) may be set before `export`, else they come from the gradebook."""

    default_file = ""
    grades: Sequence[AssignmentGrade] | None = None

    def export(self, gradebook: Gradebook) -> None:
        dest = Path(self.to or self.default_file)
        grades = list(self.grades) if self.grades is not None else assignment_grades_in(gradebook, {})
        wanted_students = {str(s) for s in self.student}
        wanted_assignments = {str(a) for a in self.assignment}
        students = [s for s in gradebook.students if not wanted_students or s.id in wanted_students]
        assignments = [(a.name, float(a.max_score or 0.0)) for a in gradebook.assignments
                       if not wanted_assignments or a.name in wanted_assignments]
        final = {(g.student_id, g.assignment): g.score for g in grades if g.final}
        self.log.info("Exporting %s grades to %s", type(self).__name__, dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for row in self.rows(students, assignments, final):
                writer.writerow(row)

    def rows(self, students: Sequence[Any], assignments: Sequence[tuple[str, float]],
             final: dict[tuple[str, str], float]) -> Iterable[list[str]]:
        raise NotImplementedError


def _cells(student: Any, assignments: Sequence[tuple[str, float]], final: dict[tuple[str, str], float]) -> list[str]:
    return [_points(final[(student.id, name)]) if (student.id, name) in final else "" for name, _ in assignments]


class CanvasExport(_LmsExport):
    """Canvas's gradebook CSV, with its "Points Possible" row."""

    default_file = CANVAS_FILE

    def rows(self, students: Sequence[Any], assignments: Sequence[tuple[str, float]],
             final: dict[tuple[str, str], float]) -> Iterable[list[str]]:
        yield CANVAS_IDENTITY + [name for name, _ in assignments]
        yield [CANVAS_POINTS_ROW, "", "", "", ""] + [_points(points) for _, points in assignments]
        for s in sorted(students, key=lambda s: ((s.last_name or s.id).lower(), (s.first_name or "").lower(), s.id)):
            name = f"{s.last_name}, {s.first_name}" if s.last_name and s.first_name else (s.last_name or s.id)
            yield [name, s.lms_user_id or "", s.id, s.email or s.id, ""] + _cells(s, assignments, final)


class MoodleExport(_LmsExport):
    """A CSV for Moodle's grade import: identity columns, then one column per assignment."""

    default_file = MOODLE_FILE

    def rows(self, students: Sequence[Any], assignments: Sequence[tuple[str, float]],
             final: dict[tuple[str, str], float]) -> Iterable[list[str]]:
        yield MOODLE_IDENTITY + [f"{name} (out of {_points(points)})" for name, points in assignments]
        for s in sorted(students, key=lambda s: s.id):
            yield [s.first_name or "", s.last_name or "", s.id, s.email or ""] + _cells(s, assignments, final)


def write_lms_csvs(course: Course, grades: Sequence[AssignmentGrade]) -> list[Path]:
    """Write reports/lms_canvas.csv and reports/lms_moodle.csv from the rows of grades.csv; return their paths."""
    paths = []
    with Gradebook(course.db_url, course.course_id) as gb:
        for plugin_class in (CanvasExport, MoodleExport):
            path = course.reports_dir / plugin_class.default_file
            plugin = plugin_class(to=str(path))
            plugin.grades = grades
            plugin.export(gb)
            paths.append(path)
    return paths
