"""The TA's side, in a real browser: nbgrader's formgrader on a scratch copy of the course after the kit's
autograde (`python -m grader autograde`, what `make autograde` runs).

Two students of the sample class hand in fc_nets: Emmy Noether (sgd_momentum adds the gradient to the
velocity: partial credit on that test cell; her written answers are the first paragraphs of the model
answers) and Mallory Forger (a wrong softmax_loss, and the test cells' Checks.score patched to give full
points: only the sandboxed pipeline keeps her from forging her grade). The TA opens Emmy's notebooks, reads
the autograded partial credit, grades her written answers with a comment, and `grades` shows the new
total; then presses Autograde and Generate Feedback for Mallory.
"""
import csv
import re
import shutil
from dataclasses import replace

import pytest

from conftest import catalog, copy_course, gradebook_scores, needs_sandbox, run_grader, secret_lines
from grader.course import Course
from grader.quality.sample_class import build_student, import_roster

from .jupyter_browser import HIDDEN_REGIONS, html_text, jupyter_server, log_in, new_tab, screenshot

pytestmark = needs_sandbox

ASSIGNMENT = "fc_nets"
EMMY, MALLORY = "momentum_sign", "adv_forge_score"
#: what the TA gives Emmy's written answers (grade_id -> notebook, points); each is worth 2
MANUAL = {"written_dropout_test_time": ("03_dropout", 1.5), "written_update_rules": ("05_networks", 2),
          "written_batchnorm_weight_scale": ("05_networks", 1)}
COMMENT = "Right about the identity at test time; say why the 1/(1-p) scaling keeps the expected activation."


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch copy of the course with fc_nets released, the two students handed in, in the roster, and
    autograded by the kit."""
    root = copy_course(tmp_path_factory.mktemp("formgrader") / "course", assignments=(ASSIGNMENT,))
    run_grader(root, "release", "--assignment", ASSIGNMENT)
    course = Course(root)
    samples = {s.student_id: s for s in (*catalog().SAMPLE_STUDENTS, *catalog().BENCH_ATTACKS)}
    students = [samples[EMMY], replace(samples[MALLORY], first_name="Mallory", last_name="Forger")]
    for student in students:
        build_student(course, ASSIGNMENT, student)
    import_roster(course, students)
    run_grader(root, "autograde")
    return course


@pytest.fixture(scope="module")
def server(course, tmp_path_factory):
    """The formgrader: a Jupyter server in the course folder (nbgrader reads its nbgrader_config.py)."""
    with jupyter_server(course.root, tmp_path_factory.mktemp("ta-home")) as server:
        yield server


@pytest.fixture(scope="module")
def kit_scores(course):
    """The gradebook's scores per test cell after the kit's autograde (before anyone touches the formgrader)."""
    return gradebook_scores(course)


def read_grades(course, name="grades.csv"):
    with open(course.reports_dir / name, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def open_formgrader(page, server, path):
    log_in(page, server, f"/formgrader/{path}")
    if "/login" in page.url:
        page.goto(f"{server.url}/formgrader/{path}")
    page.wait_for_load_state("networkidle")


def open_submission(page, server, notebook, name):
    """Manual Grading > the notebook > Show All Names > the student's submission: its grading page."""
    open_formgrader(page, server, f"gradebook/{ASSIGNMENT}/{notebook}")
    page.get_by_text("Show All Names").click()
    page.get_by_role("link", name=name).click()
    page.locator(".nbgrader_cell").first.wait_for()
    page.wait_for_load_state("networkidle")


def test_submissions_show_names_times_and_no_exchange_warning(browser, server, kit_scores):
    with new_tab(browser) as tab:
        page = tab.page
        open_formgrader(page, server, "manage_assignments")
        page.locator("table").get_by_text(ASSIGNMENT, exact=True).wait_for()
        screenshot(page, "formgrader_assignments")
        text = page.locator("body").inner_text()
        assert "exchange directory" not in text and "does not exist" not in text, text
        page.goto(f"{server.url}/formgrader/manage_submissions/{ASSIGNMENT}")
        row = page.locator("tr", has_text=EMMY)
        row.get_by_text("needs manual grading").wait_for()
        cells = row.locator("td").all_inner_texts()
        screenshot(page, "formgrader_submissions")
        assert cells[:3] == ["Noether, Emmy", EMMY, "2026-11-30 23:59:00 UTC"], cells
        assert "Forger, Mallory" in page.locator("tr", has_text=MALLORY).inner_text()
        assert "None" not in page.locator("table").inner_text()
    assert "Unwritable directory" not in server.log_text()


def test_ta_reads_partial_credit_and_grades_the_written_answers(browser, server, course, kit_scores):
    before = {r[0]: r for r in read_grades_after(course)}
    assert before[EMMY][4] == "awaiting manual grading", before
    with new_tab(browser) as tab:
        page = tab.page
        open_submission(page, server, "04_update_rules", "Noether, Emmy")
        # the autograded test cells: each its own score, partial credit where some of its checks failed
        momentum = page.locator(".nbgrader_cell", has=page.locator("#sgd_momentum"))
        assert page.locator("#sgd_momentum").get_attribute("placeholder") == "1"
        assert "/ 3.0" in momentum.inner_text()
        assert page.locator("#sgd").get_attribute("placeholder") == "2"
        cell_text = page.locator(".cell", has=page.locator("#sgd_momentum")).inner_text()
        assert re.search(r"FAIL .*momentum", cell_text) and re.search(r"\d+/\d+ checks passed: 1 of 3 points",
                                                                       cell_text), cell_text
        screenshot(page, "formgrader_partial_credit")

        for grade_id, (notebook, points) in MANUAL.items():
            if page.locator(f"#{grade_id}").count() == 0:
                open_submission(page, server, notebook, "Noether, Emmy")
            score = page.locator(f"#{grade_id}")
            score.scroll_into_view_if_needed()
            with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT"):
                score.fill(f"{points:g}")
                score.press("Tab")
            if grade_id == "written_dropout_test_time":
                comment = page.locator(f"#{grade_id}-comment")
                with page.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT"):
                    comment.fill(COMMENT)
                    comment.press("Tab")
                screenshot(page, "formgrader_manual_grade", page.locator(".nbgrader_cell", has=comment))

        # what the TA entered is there when the page is opened again
        open_submission(page, server, "03_dropout", "Noether, Emmy")
        assert page.locator("#written_dropout_test_time").input_value() == "1.5"
        assert page.locator("#written_dropout_test_time-comment").input_value() == COMMENT

    rows = {r[0]: r for r in read_grades_after(course)}
    manual = sum(points for _, points in MANUAL.values())
    assert rows[EMMY][2:] == [f"{float(before[EMMY][2]) + manual:g}", before[EMMY][3], "graded"], (before, rows)
    canvas = {r[2]: r for r in read_grades(course, "lms_canvas.csv")[2:]}
    assert canvas[EMMY][0] == "Noether, Emmy" and canvas[EMMY][5] == rows[EMMY][2], canvas
    # Mallory's written answers are still ungraded: no grade goes to the LMS for her
    assert rows[MALLORY][4] == "awaiting manual grading" and canvas[MALLORY][5] == ""


def read_grades_after(course):
    """`python -m grader grades` (what `make grades` runs), then the rows of grades.csv (header dropped)."""
    run_grader(course.root, "grades")
    return read_grades(course)[1:]


AUTOGRADE_LOG = {}


def press_in_row(page, student, column, success):
    """Press the button of a column (autograde, generate-feedback) in a student's row; the modal's text."""
    page.locator("tr", has_text=student).locator(f"td.{column} a").click()
    modal = page.locator(".modal", has_text=success)
    modal.wait_for(timeout=300_000)
    text = modal.inner_text()
    modal.get_by_role("button", name="OK").click()
    modal.wait_for(state="hidden")
    return text


def test_formgrader_autograde_matches_the_kit_and_feedback_hides_hidden_tests(browser, server, course, kit_scores):
    mine = {k: v for k, v in kit_scores.items() if k[0] == MALLORY}
    # the kit gave the forged test cell partial credit only
    assert mine[(MALLORY, "01_layers", "softmax_loss")][0] < mine[(MALLORY, "01_layers", "softmax_loss")][1]
    shutil.rmtree(course.autograded_dir / MALLORY)
    with new_tab(browser) as tab:
        page = tab.page
        open_formgrader(page, server, f"manage_submissions/{ASSIGNMENT}")
        row = page.locator("tr", has_text=MALLORY)
        shown = row.locator("td.score").inner_text()
        AUTOGRADE_LOG["text"] = press_in_row(page, MALLORY, "autograde",
                                            f"Successfully autograded '{ASSIGNMENT}' for student '{MALLORY}'")
        assert (course.autograded_dir / MALLORY / ASSIGNMENT / "01_layers.ipynb").exists()
        row.locator("td.score", has_text=shown).wait_for()
        screenshot(page, "formgrader_autograded")

        # the same scores, cell by cell, as the kit's autograde: the formgrader ran the sandboxed pipeline
        # (nbgrader's plain Execute would have let the patched Checks.score give full points)
        after = {k: v for k, v in gradebook_scores(course).items() if k[0] == MALLORY}
        assert after == mine

        press_in_row(page, MALLORY, "generate-feedback",
                     f"Successfully generated feedback for '{ASSIGNMENT}' for student '{MALLORY}'")
    pages = sorted((course.feedback_dir / MALLORY / ASSIGNMENT).glob("*.html"))
    assert [p.stem for p in pages] == [p.stem for p in course.release_notebooks(ASSIGNMENT)]
    text = "\n".join(html_text(p.read_text(encoding="utf-8")) for p in pages)
    assert "Hidden tests ran here" in text
    hidden = secret_lines(course, ASSIGNMENT, regions=HIDDEN_REGIONS)
    assert len(hidden) > 20
    leaked = [line for line in hidden if line in text]
    assert not leaked, leaked[:5]
    layers = (course.feedback_dir / MALLORY / ASSIGNMENT / "01_layers.html").read_text(encoding="utf-8")
    score, points = mine[(MALLORY, "01_layers", "softmax_loss")]
    # the score list names the test cell by its grade id, with the score the formgrader showed
    assert f"<code>softmax_loss</code></a> (Score: {round(score, 2)} / {float(points)})" in layers


def test_formgrader_autograde_log_has_no_checksum_warnings():
    text = AUTOGRADE_LOG.get("text")
    assert text is not None, "the formgrader's Autograde did not run"
    warnings = [line for line in text.splitlines() if "checksum" in line.lower()]
    assert not warnings, warnings[:3]
