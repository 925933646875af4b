"""No stale grades: a grading that fails, or stops midway, never leaves old scores looking current."""
import csv
import json
import sqlite3

import pytest

from conftest import gradebook_scores, needs_sandbox, released_class, run_grader
from grader.pipeline.status import GRADING, UNFINISHED, load_status, save_status, in_progress

pytestmark = needs_sandbox


def grades_csv(course):
    with open(course.reports_dir / "grades.csv", newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_a_failed_regrade_records_the_failure_and_clears_the_old_scores(tmp_path):
    course = released_class(tmp_path, {"ada": {}, "bob": {}})
    run_grader(course.root, "autograde")
    run_grader(course.root, "grades")
    before = gradebook_scores(course)
    assert all(score == top for score, top in before.values())
    assert {r["status"] for r in grades_csv(course).values()} == {"graded"}

    # ada's re-grade fails: nbgrader cannot read her submission's timestamp
    (course.submitted_dir / "ada" / "fc_nets" / "timestamp.txt").write_text("the day before the deadline\n")
    proc = run_grader(course.root, "autograde", "--student", "ada", "--student", "bob", check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run_grader(course.root, "grades")
    rows = grades_csv(course)
    assert rows["ada"]["status"].startswith("failed: "), rows["ada"]
    assert float(rows["ada"]["score"]) == 0
    after = gradebook_scores(course)
    # bob's tests keep full marks; his written answers are the release's (0 points, nothing to grade)
    tests_max = sum(top for key, (_, top) in after.items() if key[0] == "bob")
    assert rows["bob"]["status"] == "graded" and float(rows["bob"]["score"]) == tests_max
    assert float(rows["bob"]["max_score"]) > tests_max
    ada = {k: v for k, v in after.items() if k[0] == "ada"}
    assert ada and all(score == 0 for score, _ in ada.values()), "old scores of ada still stand"


def test_a_grading_that_stops_midway_reads_as_not_finished(tmp_path):
    """The class loop records each submission as being graded before it starts: if the grader dies,
    the record says so (and the gradebook's old autograded scores were cleared before grading)."""
    save_status(tmp_path, in_progress([("fc_nets", "ada"), ("fc_nets", "bob")]))
    rows = json.loads((tmp_path / "autograde_status.json").read_text())
    assert {r["status"] for r in rows} == {GRADING}
    status = load_status(tmp_path)
    assert status[("ada", "fc_nets")]["success"] is False and status[("ada", "fc_nets")]["error"] == UNFINISHED


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_clearing_keeps_manual_grades_and_flags_the_notebooks(tmp_path):
    from grader.pipeline.gradebook import clear_autograded, mark_graded

    course = released_class(tmp_path, {"ada": {}})
    run_grader(course.root, "autograde")
    clear_autograded(course.db_url, course.course_id, "fc_nets", "ada", "grading in progress")
    db = sqlite3.connect(course.root / "gradebook.db")
    assert set(db.execute("SELECT flagged FROM submitted_notebook")) == {(1,)}
    assert all(score == 0 for score, _ in gradebook_scores(course).values())
    mark_graded(course.db_url, course.course_id, "fc_nets", "ada")
    assert set(db.execute("SELECT flagged FROM submitted_notebook")) == {(0,)}
