"""The instructor's workflow end to end on the sample class: autograde, feedback, grades, report."""
import csv
import html
import re
from collections import defaultdict

import nbformat
import pytest

from conftest import REPO, catalog, copy_course, run_grader, secret_lines
from grader.conventions import function_of_test
from grader.course import Course
from grader.quality.sample_class import EVERYTHING
from grader.reports.grades import BY_TEST_COLUMNS, GRADES_COLUMNS, test_scores

ASSIGNMENTS = Course(REPO).assignments()
STUDENTS = [(a, s) for a in ASSIGNMENTS for s in catalog(a).SAMPLE_STUDENTS]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A copy of the course with the sample class autograded, fed back, graded and reported."""
    root = copy_course(tmp_path_factory.mktemp("course"))
    outputs = {}
    for step in ("sample-class", "autograde", "feedback", "grades", "report"):
        outputs[step] = run_grader(root, step)
    return Course(root), outputs


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def scores_by_student(course):
    rows = read_csv(course.reports_dir / "grades_by_test.csv")
    assert rows[0] == BY_TEST_COLUMNS
    table = defaultdict(list)
    for student, assignment, notebook, grade_id, score, max_score in rows[1:]:
        table[(assignment, student)].append((notebook, grade_id, float(score), float(max_score)))
    return table


def graded_cells_of_source(course, assignment):
    ids = []
    for path in course.source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                ids.append((path.stem, meta["grade_id"]))
    return sorted(ids)


@pytest.mark.parametrize("assignment, student", STUDENTS, ids=[f"{a}-{s.student_id}" for a, s in STUDENTS])
def test_each_sample_student_loses_exactly_the_expected_tests(graded, assignment, student):
    course, _ = graded
    functions = course.graded_functions(assignment)
    rows = scores_by_student(course)[(assignment, student.student_id)]
    assert sorted((nb, gid) for nb, gid, _, _ in rows) == graded_cells_of_source(course, assignment)
    losing = set()
    for notebook, grade_id, score, max_score in rows:
        function = function_of_test(grade_id, functions)
        if EVERYTHING in student.loses:
            assert score == 0, (grade_id, score)
        elif function in student.loses:
            if score < max_score:
                losing.add(function)
        else:
            assert score == max_score, f"{student.student_id} lost points on {grade_id}: {score}/{max_score}"
    if EVERYTHING not in student.loses:
        assert losing == set(student.loses)


def test_grades_csv_has_one_row_per_student_and_assignment(graded):
    course, _ = graded
    rows = read_csv(course.reports_dir / "grades.csv")
    assert rows[0] == GRADES_COLUMNS
    totals = {(r[1], r[0]): (float(r[2]), float(r[3]), r[4]) for r in rows[1:]}
    assert sorted(totals) == sorted((a, s.student_id) for a, s in STUDENTS)
    for assignment in ASSIGNMENTS:
        full, maximum, status = totals[(assignment, "full_marks")]
        # every test passed; the written answers await a TA, so their points are not in the score yet
        tests_max = sum(r.max_score for r in test_scores(course)
                        if r.student_id == "full_marks" and r.assignment == assignment)
        assert full == tests_max < maximum <= 110 and status == "awaiting manual grading"
        assert totals[(assignment, "untouched_release")][0] == 0
        assert all(score < maximum for (a, student), (score, _, _) in totals.items()
                   if a == assignment and student != "full_marks")


def feedback_text(course, student, assignment="fc_nets"):
    """The visible text of a student's feedback pages, tags stripped."""
    pages = sorted((course.feedback_dir / student / assignment).glob("*.html"))
    assert pages, f"no feedback for {student}"
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


@pytest.mark.parametrize("assignment, student", STUDENTS, ids=[f"{a}-{s.student_id}" for a, s in STUDENTS])
def test_feedback_never_contains_hidden_test_source(graded, assignment, student):
    course, _ = graded
    text = feedback_text(course, student.student_id, assignment)
    assert "BEGIN HIDDEN TESTS" not in text
    hidden = secret_lines(course, assignment, regions=(("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),))
    assert len(hidden) > 50
    leaked = [line for line in hidden if line in text]
    assert not leaked, leaked[:5]


def test_feedback_says_what_was_wrong(graded):
    course, _ = graded
    text = feedback_text(course, "cache_in_place")
    assert re.search(r"(?m)^FAIL .*modified", text)
    text = feedback_text(course, "infinite_loop")
    assert "stopped after 30 s" in text
    text = feedback_text(course, "momentum_sign")
    assert re.search(r"relative error \S+ exceeds threshold|differs from the expected", text)
    text = feedback_text(course, "full_marks")
    assert not re.search(r"(?m)^FAIL ", text) and re.search(r"(?m)^PASS ", text)


def test_report_lists_scores_hardest_tests_and_problems(graded):
    course, _ = graded
    report = (course.reports_dir / "report.md").read_text()
    assert "## The course" in report and "course total" in report
    for assignment in ASSIGNMENTS:
        for section in (f"## {assignment}", f"### {assignment}: tests, hardest first",
                        f"### {assignment}: students with errors or time-outs"):
            assert section in report
        assert (course.reports_dir / f"score_distribution_{assignment}.png").stat().st_size > 1000
        assert (course.reports_dir / f"pass_rates_{assignment}.png").stat().st_size > 1000
    assert (course.reports_dir / "score_distribution.png").stat().st_size > 1000
    problems = report.split("### fc_nets: students with errors or time-outs")[1].split("\n## ")[0]
    assert re.search(r"\| infinite_loop \|.*\| timeout \|", problems)
    assert re.search(r"\| syntax_error \|.*SyntaxError", problems)
    assert re.search(r"\| cell_raises \|.*ImportError", problems)
    assert "full_marks" not in problems


def test_autograde_shows_progress_per_student_and_notebook(graded):
    _, outputs = graded
    log = outputs["autograde"].stderr
    assert "autograde" in log and "full_marks / 05_networks" in log
    assert f"autograded {len(STUDENTS)} of {len(STUDENTS)} submissions" in outputs["autograde"].stdout
