"""The source notebooks follow the conventions, and release/ is fresh, complete and answer-free."""
import json
import re
import subprocess
import sys

import nbformat
import pytest

from conftest import ASSIGNMENT, REPO, copy_course, grader_env, run_grader, secret_lines
from grader.course import Course
from grader.submissions import function_of_test, graded_functions

# SPEC section 1: every graded function and class, by notebook convention `<name>_solution`.
SPEC_GRADED = [
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "svm_loss", "softmax_loss",
    "affine_relu_forward", "affine_relu_backward",
    "batchnorm_forward", "batchnorm_backward", "affine_batchnorm_relu_forward", "affine_batchnorm_relu_backward",
    "dropout_forward", "dropout_backward",
    "sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam",
    "TwoLayerNet", "FullyConnectedNet",
]
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

COURSE = Course(REPO)


def cells(path):
    return nbformat.read(path, as_version=4).cells


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def graded_test_cells():
    for path in COURSE.source_notebooks(ASSIGNMENT):
        for cell in cells(path):
            if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
                yield path.name, cell


def test_every_spec_function_has_a_solution_cell_and_tests():
    functions = graded_functions(COURSE, ASSIGNMENT)
    assert sorted(functions) == sorted(SPEC_GRADED)
    tested = {function_of_test(nbgrader_meta(cell)["grade_id"], functions) for _, cell in graded_test_cells()}
    assert tested == set(SPEC_GRADED)


def test_test_cells_declare_their_points_and_total_about_100():
    total = 0
    for name, cell in graded_test_cells():
        points = nbgrader_meta(cell)["points"]
        declared = re.findall(r"Checks\(points=([0-9.]+)\)", cell.source)
        assert declared and float(declared[0]) == float(points), (name, nbgrader_meta(cell)["grade_id"])
        assert cell.source.rstrip().endswith("checks.score()"), nbgrader_meta(cell)["grade_id"]
        assert "BEGIN HIDDEN TESTS" in cell.source, nbgrader_meta(cell)["grade_id"]
        total += points
    assert 90 <= total <= 110


def test_release_is_fresh(tmp_path):
    course = copy_course(tmp_path / "course")
    run_grader(course, "release")
    for committed in COURSE.release_notebooks(ASSIGNMENT):
        fresh = course / "release" / ASSIGNMENT / committed.name
        assert fresh.exists(), f"{committed.name} is no longer generated"
        a, b = nbformat.read(committed, as_version=4), nbformat.read(fresh, as_version=4)
        assert [c.source for c in a.cells] == [c.source for c in b.cells], \
            f"release/{ASSIGNMENT}/{committed.name} is stale: run `make release`"
        assert [c.metadata for c in a.cells] == [c.metadata for c in b.cells]
    fresh_names = sorted(p.name for p in (course / "release" / ASSIGNMENT).rglob("*") if p.is_file())
    committed_names = sorted(p.name for p in (REPO / "release" / ASSIGNMENT).rglob("*") if p.is_file()
                             and "__pycache__" not in p.parts)
    assert fresh_names == committed_names


def test_release_has_no_solution_or_hidden_test_text():
    secret = secret_lines(COURSE)
    assert len(secret) > 100
    released = [p for p in (REPO / "release").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
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


@pytest.mark.parametrize("function", SPEC_GRADED)
def test_release_scaffold_raises_not_implemented(function):
    np = __import__("numpy")
    namespace = {"np": np}
    found = False
    for path in COURSE.release_notebooks(ASSIGNMENT):
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


def test_nbgrader_validate_passes_on_source():
    output = _validate(*map(str, COURSE.source_notebooks(ASSIGNMENT)))
    assert output.count("Success! Your notebook passes all the tests.") == len(COURSE.source_notebooks(ASSIGNMENT)), output[-3000:]
    assert "FAILED" not in output and "Partial credit" not in output


def test_nbgrader_validate_invert_finds_no_passing_test_in_release():
    output = _validate("--invert", *map(str, COURSE.release_notebooks(ASSIGNMENT)))
    assert output.count("Success! The notebook does not pass any tests.") == len(COURSE.release_notebooks(ASSIGNMENT)), output[-3000:]
    assert "NOTEBOOK PASSED" not in output
