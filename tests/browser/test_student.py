"""The student's side, in a real browser: a released notebook in JupyterLab 4 and in Notebook 7, with
nbgrader's extensions (the Validate button) as students install them.

For a blank notebook (the release) and a solved one (the release with the answers filled in): open
it, run all cells, read what the checks print, press Validate and read its verdict. Each front end
gets a Jupyter server of its own, as a student runs one: jupyter_server 2.21 caches static files by
name across its handlers, so fonts of the same name that JupyterLab and Notebook 7 both ship are
refused (403) to the second front end opened on one server.
"""
import re
import shutil

import pytest

from conftest import REPO
from grader.course import Course
from grader.quality.sample_class import write_answers, written_answers
from grader.quality.submissions import build_submission

from .jupyter_browser import jupyter_server, log_in, new_tab, screenshot, unexpected_errors

ASSIGNMENT = "fc_nets"
NOTEBOOK = "04_update_rules.ipynb"   # graded update rules and an experiment cell with a plot
#: where each front end opens a notebook (JupyterLab: in a fresh workspace, not the last test's layout)
UIS = {"lab": "/lab/tree/{path}?reset", "notebook": "/notebooks/{path}"}


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory):
    """The released assignment twice, blank/ and solved/ (the release with the answers filled in)."""
    root = tmp_path_factory.mktemp("student")
    release = REPO / "release" / ASSIGNMENT
    shutil.copytree(release, root / "blank")
    course = Course(REPO)
    built = build_submission(course, ASSIGNMENT, "solved", root=root / "build", timestamp=None)
    write_answers(built, written_answers(course, ASSIGNMENT), full=True)
    shutil.move(str(built), root / "solved")
    shutil.copytree(release / "nnkit", root / "solved" / "nnkit")
    return root


@pytest.fixture(scope="module", params=list(UIS))
def student(request, student_folder, tmp_path_factory):
    """(front end, Jupyter server) of a student's own copy of the folder, one per front end."""
    ui = request.param
    root = tmp_path_factory.mktemp(f"student-{ui}")
    shutil.copytree(student_folder, root, dirs_exist_ok=True)
    with jupyter_server(root, tmp_path_factory.mktemp(f"student-home-{ui}")) as server:
        yield ui, server


def open_notebook(page, server, ui, path):
    url = UIS[ui].format(path=path)
    log_in(page, server, url)
    if "/login" in page.url:
        page.goto(server.url + url)
    notebook(page).locator(".jp-Cell").first.wait_for()
    # the kernel is up once the toolbar shows its name and the page is idle
    page.get_by_text("Python 3 (ipykernel)").locator("visible=true").first.wait_for()
    if ui == "lab":   # JupyterLab's status bar says when the kernel has started: run nothing before
        page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).first.wait_for(timeout=120_000)
    page.wait_for_load_state("networkidle")


def notebook(page):
    """The notebook on screen (JupyterLab keeps other notebooks' panels in the page, hidden)."""
    return page.locator(".jp-NotebookPanel:visible").first


def run_all(page):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).first.click()


def cell_output(page, source_text):
    """The output text of the first code cell whose source contains source_text."""
    cell = notebook(page).locator(".jp-CodeCell", has=page.locator(".jp-InputArea", has_text=source_text)).first
    return cell.locator(".jp-OutputArea").inner_text()


def validate(page):
    """Press nbgrader's Validate button; the verdict dialog's text."""
    page.get_by_role("button", name="Validate").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=180_000)
    return dialog.inner_text()


def test_blank_notebook_shows_failing_checks_and_validate_says_why(browser, student):
    ui, server = student
    with new_tab(browser) as tab:
        page = tab.page
        open_notebook(page, server, ui, f"blank/{NOTEBOOK}")
        screenshot(page, f"student_{ui}_blank_open")
        run_all(page)
        notebook(page).get_by_text("ChecksFailed").first.wait_for(timeout=120_000)
        output = cell_output(page, 'checks.check("sgd step')
        screenshot(page, f"student_{ui}_blank_run")
        # every check of the cell failed: its FAIL line, located as the notebook words it, and the cell raises
        assert re.search(r"FAIL sgd step with learning_rate 1e-3 on a \(4, 5\) array: NotImplementedError: "
                         r"\(no message\) \(<cell \d+>, line \d+, in sgd\)", output), output
        assert "0/1 checks passed: 0 of 2 points" in output
        assert "ChecksFailed: no check passed (0 of 2 points)" in output

        verdict = validate(page)
        screenshot(page, f"student_{ui}_blank_validate")
        # nbgrader reports the failing cell with the checks' FAIL lines, not "partial credit" for a blank notebook
        assert "The following cell failed" in verdict, verdict
        assert "FAIL sgd step with learning_rate 1e-3 on a (4, 5) array: NotImplementedError" in verdict
        assert "Partial credit" not in verdict and "Success!" not in verdict
        assert not unexpected_errors(tab, ui), tab.errors


def test_solved_notebook_passes_with_measured_errors_a_plot_and_validate_success(browser, student):
    ui, server = student
    with new_tab(browser) as tab:
        page = tab.page
        open_notebook(page, server, ui, f"solved/{NOTEBOOK}")
        run_all(page)
        plot = notebook(page).locator(".jp-OutputArea-output img").first
        plot.wait_for(timeout=120_000)
        plot.scroll_into_view_if_needed()
        screenshot(page, f"student_{ui}_solved_plot")
        # the experiment's figure is an image that the browser decoded
        assert page.evaluate("img => img.naturalWidth", plot.element_handle()) > 200

        output = cell_output(page, 'checks.check("sgd step')
        # PASS, then the measured relative error and its threshold on the next line: its own check's
        assert re.search(r"PASS sgd step with learning_rate 1e-3 on a \(4, 5\) array\n\s+next_w: relative error "
                         r"\d\.\d\de[-+]\d\d <= threshold 1e-07", output), output
        assert "1/1 checks passed: 2 of 2 points" in output and "FAIL" not in output
        adam = cell_output(page, 'checks.check("Adam step')
        assert "FAIL" not in adam and re.search(r"(\d+)/\1 checks passed: 4 of 4 points", adam), adam

        verdict = validate(page)
        screenshot(page, f"student_{ui}_solved_validate")
        assert "Success! Your notebook passes all the tests." in verdict, verdict
        assert not unexpected_errors(tab, ui), tab.errors


def test_server_log_has_no_tracebacks(student):
    """Opening, running and validating notebooks left no traceback in the server's log."""
    _, server = student
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]


def test_the_release_tells_students_what_to_install():
    """release/<assignment>/requirements.txt: what the notebooks and the Validate button need, nothing more."""
    for assignment in Course(REPO).assignments():
        text = (REPO / "release" / assignment / "requirements.txt").read_text()
        packages = {line.split("==")[0].strip().lower() for line in text.splitlines()
                    if line.strip() and not line.startswith("#")}
        assert {"numpy", "matplotlib", "scikit-learn", "ipykernel", "jupyterlab", "notebook", "nbgrader"} <= packages
        assert not packages & {"dask", "distributed", "psycopg2-binary", "pytest", "nbval", "playwright", "hypothesis"}
        assert all("==" in line for line in text.splitlines() if line.strip() and not line.startswith("#"))
