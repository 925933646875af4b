"""A student's feedback page (`python -m grader feedback`, what `make feedback` runs) in a real browser.

The student hands in the instructor's solutions except two things: sgd raises an error with a long
message (a long FAIL line, with the location of the error), and the written answer of 03_dropout is
markup that would run script if it were rendered as it is. The page must render without console
errors, show no hidden test, run none of the student's script, wrap long lines, name each test cell
by its grade id, and word error locations as the notebook does.
"""
import re

import pytest

from conftest import needs_sandbox, released_class, run_grader, secret_lines
from grader.quality.sample_class import write_answers

from .jupyter_browser import HIDDEN_REGIONS, new_tab, screenshot

pytestmark = needs_sandbox

ASSIGNMENT = "fc_nets"
STUDENT = "mallory_markup"
LONG_MESSAGE = "the learning rate schedule of this update rule is not implemented yet " * 4
SGD = f'''import numpy as np


def sgd(w, dw, config=None):
    raise ValueError("{LONG_MESSAGE.strip()}")
'''
#: a written answer that tries every way to run script in the page (each would set window.__kit_pwned)
HOSTILE = """My answer: dropout keeps every unit at test time.

<script>window.__kit_pwned = "script"; alert("script")</script>
<img id="kit-img" src="does-not-exist.png" onerror="window.__kit_pwned = 'img'; alert('img')">
<iframe src="javascript:parent.__kit_pwned = 'iframe'; alert('iframe')"></iframe>
<svg><script>window.__kit_pwned = "svg"</script></svg>
<a id="kit-link" href="javascript:window.__kit_pwned = 'link'; alert('link')">read more</a>
<div onmouseover="window.__kit_pwned = 'hover'">hover here</div>
"""


@pytest.fixture(scope="module")
def feedback(tmp_path_factory):
    """The student's feedback folder, after the kit's autograde and feedback on a scratch copy of the course."""
    course = released_class(tmp_path_factory.mktemp("feedback") / "course", {STUDENT: {"sgd": SGD}})
    write_answers(course.submitted_dir / STUDENT / ASSIGNMENT, {"written_dropout_test_time": HOSTILE}, full=True)
    run_grader(course.root, "autograde")
    run_grader(course.root, "feedback")
    return course, course.feedback_dir / STUDENT / ASSIGNMENT


def test_update_rules_feedback_renders_wraps_and_names_cells(browser, feedback):
    course, folder = feedback
    with new_tab(browser, width=900) as tab:
        page = tab.page
        page.goto((folder / "04_update_rules.html").as_uri())
        page.wait_for_load_state("load")
        screenshot(page, "feedback_update_rules")
        text = page.locator("body").inner_text()
        assert not tab.errors, tab.errors

        # each test cell is named by its grade id, in the score list and on its panel
        toc = page.locator("#toc").inner_text()
        for grade_id in ("sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam"):
            assert re.search(rf"^{grade_id} \(Score: [\d.]+ / [\d.]+\)$", toc, re.M), toc
            assert f"Test cell: {grade_id}" in text
        assert not re.search(r"^Test cell\s*$", text, re.M)

        # the FAIL line, with the location worded as in the notebook ("<cell N>, line M, in sgd")
        fail = page.locator("pre", has_text="FAIL sgd step").first
        line = fail.inner_text()
        assert re.search(r"FAIL sgd step with learning_rate 1e-3 on a \(4, 5\) array: ValueError: the learning rate "
                         r"schedule .* \(<cell \d+>, line \d+, in sgd\)", line), line
        assert "(in sgd, line" not in text
        # long lines wrap inside the output box: no sideways scrolling, several lines high
        fail.scroll_into_view_if_needed()
        box = page.evaluate("""pre => ({white: getComputedStyle(pre).whiteSpace, scroll: pre.scrollWidth,
                                        client: pre.clientWidth, height: pre.getBoundingClientRect().height,
                                        line: parseFloat(getComputedStyle(pre).lineHeight) || 17})""",
                            fail.element_handle())
        assert box["white"] == "pre-wrap" and box["scroll"] <= box["client"] + 1, box
        assert box["height"] > 2.5 * box["line"], box
        page.emulate_media(media="print")
        assert fail.evaluate("pre => getComputedStyle(pre).whiteSpace") == "pre-wrap"

        # no hidden test source, only the placeholder where the hidden tests ran
        assert "Hidden tests ran here" in text
        hidden = secret_lines(course, ASSIGNMENT, regions=HIDDEN_REGIONS)
        assert len(hidden) > 20
        leaked = [line for line in hidden if line in text]
        assert not leaked, leaked[:5]


def test_student_markup_cannot_run_script_in_the_feedback(browser, feedback):
    _, folder = feedback
    with new_tab(browser) as tab:
        page = tab.page
        page.goto((folder / "03_dropout.html").as_uri())
        page.wait_for_load_state("load")
        answer = page.locator(".nbgrader_cell", has_text="Your written answer")
        answer.get_by_text("My answer: dropout keeps every unit at test time.").wait_for()
        answer.scroll_into_view_if_needed()
        screenshot(page, "feedback_written_answer")
        # the answer's heading names it and says that it awaits a TA
        assert "written_dropout_test_time" in answer.inner_text()
        assert "Awaiting manual grading" in answer.inner_text()
        # try what a reader would do: hover, click the link
        page.get_by_text("hover here").hover()
        link = page.locator("#kit-link")
        if link.count():
            link.click()
        page.wait_for_load_state("load")
        assert page.evaluate("window.__kit_pwned") is None
        assert tab.dialogs == []
        assert page.locator("iframe").count() == 0 and page.locator("[onerror], [onmouseover]").count() == 0
        # the one console error: the broken image the answer links to (kept as an image, without its onerror)
        assert all("ERR_FILE_NOT_FOUND" in e for e in tab.errors), tab.errors
