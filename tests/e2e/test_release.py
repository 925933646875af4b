"""The source notebooks follow the conventions, and release/ is fresh, complete and answer-free."""
import re
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO, copy_course, grader_env, run_grader, secret_lines
from grader.conventions import function_of_test
from grader.course import Course

from e2e_spec import CONV_NETS, FC_NETS, SPEC_GRADED  # noqa: F401

ASSIGNMENTS = sorted(SPEC_GRADED)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

COURSE = Course(REPO)


def cells(path):
    return nbformat.read(path, as_version=4).cells


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def graded_test_cells(assignment):
    for path in COURSE.source_notebooks(assignment):
        for cell in cells(path):
            if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
                yield path.name, cell


def test_the_course_has_the_spec_assignments():
    assert COURSE.assignments() == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_spec_function_has_a_solution_cell_and_tests(assignment):
    functions = COURSE.graded_functions(assignment)
    assert sorted(functions) == sorted(SPEC_GRADED[assignment])
    tested = {function_of_test(nbgrader_meta(cell)["grade_id"], functions) for _, cell in graded_test_cells(assignment)}
    assert tested == set(SPEC_GRADED[assignment])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_declare_their_points(assignment):
    total = 0
    for name, cell in graded_test_cells(assignment):
        points = nbgrader_meta(cell)["points"]
        declared = re.findall(r"Checks\(points=([0-9.]+)\)", cell.source)
        assert declared and float(declared[0]) == float(points), (name, nbgrader_meta(cell)["grade_id"])
        assert cell.source.rstrip().endswith("checks.score()"), nbgrader_meta(cell)["grade_id"]
        assert "BEGIN HIDDEN TESTS" in cell.source, nbgrader_meta(cell)["grade_id"]
        total += points
    assert 50 <= total <= 110


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("course"))
    run_grader(course, "release")
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_fresh(fresh_release, assignment):
    course = fresh_release
    for committed in COURSE.release_notebooks(assignment):
        fresh = course / "release" / assignment / committed.name
        assert fresh.exists(), f"{committed.name} is no longer generated"
        a, b = nbformat.read(committed, as_version=4), nbformat.read(fresh, as_version=4)
        assert [c.source for c in a.cells] == [c.source for c in b.cells], \
            f"release/{assignment}/{committed.name} is stale: run `make release`"
        assert [c.metadata for c in a.cells] == [c.metadata for c in b.cells]
    fresh_names = sorted(p.name for p in (course / "release" / assignment).rglob("*") if p.is_file())
    committed_names = sorted(p.name for p in (REPO / "release" / assignment).rglob("*") if p.is_file()
                             and "__pycache__" not in p.parts)
    assert fresh_names == committed_names


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solution_or_hidden_test_text(assignment):
    secret = secret_lines(COURSE, assignment)
    assert len(secret) > 50
    released = [p for p in (REPO / "release" / assignment).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert released
    for path in released:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        for marker in MARKERS:
            assert marker not in text, f"{path} contains {marker}"
        if path.suffix != ".ipynb":
            continue  # the support package is public code: only the markers matter there
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path} contains solution or hidden-test lines: {leaked[:3]}"


def _example_calls(np):
    """Plausible arguments for each graded function (the scaffold must raise before using them)."""
    rng = np.random.RandomState(0)
    x, w, b, dout = rng.randn(2, 3), rng.randn(3, 4), rng.randn(4), rng.randn(2, 4)
    scores, y = rng.randn(2, 3), np.array([0, 2])
    bn = lambda: {"mode": "train"}
    drop = lambda: {"p": 0.3, "mode": "train", "seed": 1}
    return {
        "affine_forward": (x, w, b), "affine_backward": (dout, (x, w, b)),
        "relu_forward": (x,), "relu_backward": (x, x),
        "svm_loss": (scores, y), "softmax_loss": (scores, y),
        "affine_relu_forward": (x, w, b), "affine_relu_backward": (dout, ((x, w, b), x @ w + b)),
        "batchnorm_forward": (x, np.ones(3), np.zeros(3), bn()), "batchnorm_backward": (x, None),
        "affine_batchnorm_relu_forward": (x, w, b, np.ones(4), np.zeros(4), bn()),
        "affine_batchnorm_relu_backward": (dout, None),
        "dropout_forward": (x, drop()), "dropout_backward": (x, (drop(), x > 0)),
        "sgd": (w, w, None), "sgd_momentum": (w, w, None), "sgd_nesterov_momentum": (w, w, None),
        "rmsprop": (w, w, None), "adam": (w, w, None),
    }


@pytest.mark.parametrize("function", FC_NETS)
def test_release_scaffold_raises_not_implemented(function):
    np = __import__("numpy")
    namespace = {"np": np}
    found = False
    for path in COURSE.release_notebooks("fc_nets"):
        for cell in cells(path):
            if nbgrader_meta(cell).get("grade_id") == f"{function}_solution":
                exec(compile(cell.source, function, "exec"), namespace)
                found = True
    assert found, f"no solution cell for {function} in release/"
    target = namespace[function]
    with pytest.raises(NotImplementedError):
        if isinstance(target, type):
            X, y = np.random.RandomState(0).randn(2, 5), np.array([0, 1])
            model = target(input_dim=5, num_classes=2) if function == "TwoLayerNet" else \
                target([3], input_dim=5, num_classes=2)
            model.loss(X, y)
        else:
            target(*_example_calls(np)[function])


def _validate(*args):
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "validate", *args], cwd=REPO, env=grader_env(),
                          capture_output=True, text=True, timeout=900)
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_validate_passes_on_source(assignment):
    notebooks = COURSE.source_notebooks(assignment)
    output = _validate(*map(str, notebooks))
    assert output.count("Success! Your notebook passes all the tests.") == len(notebooks), output[-3000:]
    assert "FAILED" not in output and "Partial credit" not in output


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_validate_invert_finds_no_passing_test_in_release(assignment):
    notebooks = COURSE.release_notebooks(assignment)
    output = _validate("--invert", *map(str, notebooks))
    assert output.count("Success! The notebook does not pass any tests.") == len(notebooks), output[-3000:]
    assert "NOTEBOOK PASSED" not in output
