"""grader.reports.grades: written answers await manual grading until a TA grades them; totals and statuses."""
from grader.reports import grades
from grader.reports.grades import AWAITING, AssignmentGrade

from .gradebooks import ASSIGNMENT, gradebook, manual_grade


def rows(gb, status=None):
    return {g.student_id: g for g in grades.assignment_grades_in(gb, status or {})}


def test_an_ungraded_written_answer_awaits_manual_grading_and_counts_in_max_only(tmp_path):
    with gradebook(tmp_path) as gb:
        tests, written = grades._grades_in(gb)
        assert [(t.student_id, t.score, t.max_score) for t in tests] == [("ada", 3.0, 4.0), ("bob", 3.0, 4.0)]
        assert [(w.student_id, w.score, w.awaiting) for w in written] == [("ada", None, True), ("bob", None, True)]
        got = rows(gb)
        assert got["ada"] == AssignmentGrade("ada", ASSIGNMENT, 3.0, 6.0, AWAITING)
        assert not got["ada"].final


def test_a_manual_grade_adds_its_points_and_makes_the_grade_final(tmp_path):
    with gradebook(tmp_path) as gb:
        manual_grade(gb, "ada", 1.5)
        got = rows(gb)
        assert got["ada"] == AssignmentGrade("ada", ASSIGNMENT, 4.5, 6.0, "graded") and got["ada"].final
        assert got["bob"].status == AWAITING
        assert grades.awaiting_manual_grading(grades._grades_in(gb)[1]).keys() == {("bob", ASSIGNMENT)}


def test_a_manual_grade_of_zero_is_a_grade(tmp_path):
    with gradebook(tmp_path) as gb:
        manual_grade(gb, "ada", 0)
        assert rows(gb)["ada"].status == "graded" and rows(gb)["ada"].score == 3.0


def test_an_unchanged_answer_scores_zero_and_awaits_nothing(tmp_path):
    from .gradebooks import autograde

    with gradebook(tmp_path) as gb:
        autograde(gb, "bob", test=0, written_changed=False)
        assert rows(gb)["bob"] == AssignmentGrade("bob", ASSIGNMENT, 0.0, 6.0, "graded")


def test_a_failed_autograding_wins_over_awaiting_and_a_student_without_scores_still_has_a_row(tmp_path):
    with gradebook(tmp_path, students=("ada",)) as gb:
        got = rows(gb, {("ada", ASSIGNMENT): "failed: the sandbox died", ("cyd", ASSIGNMENT): "failed: no notebook"})
        assert got["ada"].status == "failed: the sandbox died" and not got["ada"].final
        assert got["cyd"] == AssignmentGrade("cyd", ASSIGNMENT, 0.0, 6.0, "failed: no notebook")
        assert "bob" not in got


def test_totals_count_graded_written_answers_and_the_maximum_of_all():
    tests = [grades.TestScore("ada", "a", "nb", "t1", 2.0, 3.0), grades.TestScore("ada", "b", "nb", "t1", 1.0, 1.0)]
    written = [grades.WrittenScore("ada", "a", "nb", "w1", None, 2.0),
               grades.WrittenScore("ada", "a", "nb", "w2", 1.5, 2.0)]
    assert grades.totals(tests, written) == {("ada", "a"): (3.5, 7.0), ("ada", "b"): (1.0, 1.0)}
    assert grades.awaiting_manual_grading(written) == {("ada", "a"): [written[0]]}
