"""A small nbgrader gradebook for the reports' unit tests: one assignment, one notebook with an autograded
test cell (4 points) and a written answer (2 points), and students with and without names."""
from __future__ import annotations

import os
import sys

from nbgrader.api import Gradebook

# nbgrader creates a gradebook with the `alembic` command: this interpreter's, also outside `make test`
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

COURSE, ASSIGNMENT, NOTEBOOK = "course", "hw1", "nb"


def gradebook(tmp_path, students=("ada", "bob")):
    """An open Gradebook (close it with `with`); each listed student has a submission, autograded."""
    gb = Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", COURSE)
    gb.add_assignment(ASSIGNMENT)
    gb.add_notebook(NOTEBOOK, ASSIGNMENT)
    gb.add_grade_cell("test_a", NOTEBOOK, ASSIGNMENT, max_score=4, cell_type="code")
    gb.add_grade_cell("written", NOTEBOOK, ASSIGNMENT, max_score=2, cell_type="markdown")
    gb.add_solution_cell("written", NOTEBOOK, ASSIGNMENT)
    gb.add_student("ada", first_name="Ada", last_name="Lovelace", email="ada@example.edu", lms_user_id="1001")
    gb.add_student("bob")
    gb.add_student("cyd", first_name="Cyd", last_name="Charisse")
    for student in students:
        gb.add_submission(ASSIGNMENT, student)
        autograde(gb, student, test=3)
    return gb


def grade(gb, student, grade_id):
    return gb.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, student)


def autograde(gb, student, test, written_changed=True):
    """What nbgrader's autograde records: the test's score; a changed written answer needs a TA, an unchanged
    one ("YOUR ANSWER HERE") scores 0 automatically."""
    t = grade(gb, student, "test_a")
    t.auto_score, t.needs_manual_grade = test, False
    w = grade(gb, student, "written")
    w.auto_score, w.needs_manual_grade = (None, True) if written_changed else (0.0, False)
    gb.db.commit()


def manual_grade(gb, student, score):
    """What the formgrader records when a TA grades the written answer."""
    w = grade(gb, student, "written")
    w.manual_score, w.needs_manual_grade = score, False
    gb.db.commit()
