"""Unit tests of the student support package: gradient checks, checks, Solver, data, notebooks."""
import json
import os
import pickle

import numpy as np
import pytest

from nnkit import checks as checks_module
from nnkit.checks import (Checks, assert_allclose, assert_gradient_matches, assert_rel_error, assert_shape,
                          assert_unchanged)
from nnkit.data import get_data, load_cifar10_data, load_digits_data
from nnkit.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                                  eval_numerical_param_gradients, grad_check_sparse, rel_error)
from nnkit.notebooks import import_solutions, known_good
from nnkit.solver import Solver


# --- gradient checks -------------------------------------------------------------------------

def test_rel_error_definition():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.array([0.0]), np.array([1e-9])) == pytest.approx(1e-9 / 1e-8)


def test_numerical_gradient_of_quadratic_is_exact_and_restores_input():
    x = np.random.RandomState(0).randn(3, 4)
    before = x.copy()
    grad = eval_numerical_gradient(lambda z: np.sum(z ** 2), x, verbose=False)
    assert rel_error(grad, 2 * before) < 1e-9
    assert np.array_equal(x, before)


def test_numerical_gradient_array_matches_linear_map():
    rng = np.random.RandomState(1)
    x, w, df = rng.randn(5, 3), rng.randn(3, 2), rng.randn(5, 2)
    grad = eval_numerical_gradient_array(lambda z: z @ w, x, df)
    assert rel_error(grad, df @ w.T) < 1e-9


def test_grad_check_sparse_reports_small_error_for_right_gradient(capsys):
    x = np.random.RandomState(2).randn(4, 4)
    worst = grad_check_sparse(lambda z: np.sum(np.sin(z)), x, np.cos(x), num_checks=5, seed=0)
    assert worst < 1e-7
    assert "relative error" in capsys.readouterr().out


class _LinearSoftmax:
    """A tiny model whose loss() recasts its parameters, as some students do."""

    def __init__(self):
        rng = np.random.RandomState(3)
        self.params = {"W": rng.randn(4, 3), "b": np.zeros(3)}

    def loss(self, X, y=None):
        W = self.params["W"].astype(np.float64)   # a copy: perturbing in place would be lost
        scores = X @ W + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(len(y)), y]).mean()
        dscores = probs.copy()
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def test_param_gradients_see_perturbations_through_copies():
    model = _LinearSoftmax()
    rng = np.random.RandomState(4)
    X, y = rng.randn(6, 4), rng.randint(3, size=6)
    W_before = model.params["W"]
    _, grads = model.loss(X, y)
    numerical = eval_numerical_param_gradients(model, X, y)
    for name in grads:
        assert rel_error(grads[name], numerical[name]) < 1e-7
    assert model.params["W"] is W_before


def test_param_gradients_at_sampled_entries_are_nan_elsewhere():
    model = _LinearSoftmax()
    rng = np.random.RandomState(5)
    X, y = rng.randn(6, 4), rng.randint(3, size=6)
    _, grads = model.loss(X, y)
    numerical = eval_numerical_param_gradients(model, X, y, entries=5, seed=1)
    for name in grads:
        evaluated = ~np.isnan(numerical[name])
        assert evaluated.sum() == min(5, grads[name].size)
        assert rel_error(grads[name][evaluated], numerical[name][evaluated]) < 1e-7
    again = eval_numerical_param_gradients(model, X, y, entries=5, seed=1)
    assert all(np.array_equal(np.isnan(again[k]), np.isnan(numerical[k])) for k in grads)


def test_assert_gradient_matches_checks_evaluated_entries_and_finiteness():
    numerical = np.array([[1.0, np.nan], [np.nan, 2.0]])
    assert_gradient_matches(np.array([[1.0, 99.0], [-5.0, 2.0]]), numerical)
    for bad in (np.array([[1.5, 0.0], [0.0, 2.0]]), np.array([[1.0, np.inf], [0.0, 2.0]]), np.ones(4)):
        with pytest.raises(AssertionError):
            assert_gradient_matches(bad, numerical)
    with pytest.raises(AssertionError, match="no numerical gradient"):
        assert_gradient_matches(np.ones((2, 2)), np.full((2, 2), np.nan))


# --- checks (test-cell partial credit) --------------------------------------------------------

def test_checks_split_points_and_return_a_plain_float(capsys):
    checks = Checks(points=3)
    with checks.check("right"):
        assert_rel_error(np.ones(2), np.ones(2), 1e-8, "dx")
    with checks.check("wrong shape"):
        assert_shape(np.ones(2), (3,), "dx")
    with checks.check("raises"):
        raise NotImplementedError()
    score = checks.score()
    assert type(score) is float and score == 1.0
    out = capsys.readouterr().out
    assert "PASS right" in out and "FAIL wrong shape: dx has shape (2,), expected (3,)" in out
    assert "NotImplementedError" in out and "1/3 checks passed" in out


def test_checks_report_relative_error_and_threshold(capsys):
    checks = Checks(points=1)
    with checks.check("gradient"):
        assert_rel_error(np.array([1.0]), np.array([1.1]), 1e-7, "dw")
    with pytest.raises(AssertionError):
        checks.score()
    assert "FAIL gradient: dw: relative error 4.76e-02 exceeds threshold 1e-07" in capsys.readouterr().out


def test_measured_errors_print_under_their_own_check(capsys):
    checks = Checks(points=2)
    with checks.check("first"):
        assert_rel_error(np.ones(2), np.ones(2), 1e-8, "dx")
    with checks.check("second"):
        assert_rel_error(np.ones(2), np.ones(2), 1e-8, "dx")
        assert_rel_error(np.array([1.0]), np.array([1.1]), 1e-7, "dw")
    assert checks.score() == 1.0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == ["PASS first", "     dx: relative error 0.00e+00 <= threshold 1e-08",
                         "FAIL second: dw: relative error 4.76e-02 exceeds threshold 1e-07",
                         "     dx: relative error 0.00e+00 <= threshold 1e-08"]


def test_a_cell_with_no_passing_check_raises_with_its_fail_lines(capsys):
    from nnkit.checks import ChecksFailed

    checks = Checks(points=4)
    with checks.check("output shape"):
        assert_shape(np.ones(2), (3,), "out")
    with checks.check("runs"):
        raise NotImplementedError()
    with pytest.raises(ChecksFailed) as raised:
        checks.score()
    message = str(raised.value)
    assert message.startswith("no check passed (0 of 4 points):")
    assert "FAIL output shape: out has shape (2,), expected (3,)" in message
    assert "FAIL runs: NotImplementedError: (no message)" in message
    assert "0/2 checks passed" in capsys.readouterr().out


def test_error_locations_name_the_students_cell_not_the_test():
    namespace = {}
    exec(compile("def f(x):\n    y = x + 1\n    raise ValueError('boom')\n", "<cell 2>", "exec"), namespace)
    test = ("checks = Checks(points=2)\nwith checks.check('calls f'):\n    f(1)\n"
            "with checks.check('test bug'):\n    [][1]\nresult = checks.failures")
    scope = {"Checks": Checks, "f": namespace["f"]}
    exec(compile(test, "<cell 3>", "exec"), scope)
    assert scope["result"] == ["FAIL calls f: ValueError: boom (<cell 2>, line 3, in f)",
                               "FAIL test bug: IndexError: list index out of range (in the test cell, line 5)"]


def test_checks_never_write_to_stderr_and_report_warnings(capsys):
    import sys
    import warnings

    checks = Checks(points=2)
    with checks.check("correct code that warns"):
        warnings.warn("overflow somewhere", RuntimeWarning)
        print("student debug output", file=sys.stderr)
    assert checks.score() == 2.0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "RuntimeWarning: overflow somewhere" in captured.out and "student debug output" in captured.out


def test_checks_let_keyboard_interrupt_through():
    checks = Checks(points=1)
    with pytest.raises(KeyboardInterrupt):
        with checks.check("interrupted"):
            raise KeyboardInterrupt
    assert checks.results == []


def test_checks_with_no_checks_score_zero():
    assert Checks(points=2).score() == 0.0


@pytest.mark.parametrize("bad", [np.array([np.nan, 1.0]), np.array([1.0, 2.0, 3.0]), None])
def test_assert_allclose_fails_on_nan_shape_and_none(bad):
    with pytest.raises(AssertionError):
        assert_allclose(bad, np.array([1.0, 1.0]))


def test_assert_unchanged_detects_in_place_changes():
    x = np.arange(4.0)
    before = x.copy()
    assert_unchanged(before, x)
    x[0] = 7
    with pytest.raises(AssertionError, match="modified"):
        assert_unchanged(before, x, "x")


def test_partial_credit_matches_nbgrader_reading():
    from nbformat.v4 import new_code_cell, new_output
    from nbgrader.utils import determine_grade

    cell = new_code_cell("checks.score()", metadata={"nbgrader": {
        "grade": True, "solution": False, "points": 3, "grade_id": "x", "locked": True, "schema_version": 3}})
    checks = Checks(points=3)
    with checks.check("a"):
        pass
    with checks.check("b"):
        assert False, "no"
    cell.outputs = [new_output("execute_result", {"text/plain": repr(checks.score())}, execution_count=1)]
    assert determine_grade(cell) == (1.5, 3.0)


# --- notebooks -------------------------------------------------------------------------------

def _write_notebook(path, cells):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade": False, "grade_id": gid}},
         "source": src, "outputs": [], "execution_count": None, "id": gid} for gid, src in cells]}
    path.write_text(json.dumps(nb))


def test_import_solutions_runs_each_solution_cell_in_isolation(tmp_path, capsys):
    nb = tmp_path / "layers.ipynb"
    _write_notebook(nb, [("good", "def double(x):\n    return 2 * np.asarray(x)"),
                         ("broken", "def half(x)\n    return x / 2"),
                         ("after", "CONSTANT = 3")])
    names = import_solutions(str(nb))
    assert list(names["double"]([1, 2])) == [2, 4]
    assert "half" not in names and names["CONSTANT"] == 3
    assert "Cell broken of layers.ipynb failed: SyntaxError" in capsys.readouterr().out


def test_known_good_swaps_only_when_grading(tmp_path, monkeypatch):
    _write_notebook(tmp_path / "ref.ipynb", [("f", "def layer(x):\n    return x + 1")])
    namespace = {"layer": lambda x: x - 1}
    own = namespace["layer"]
    monkeypatch.delenv("NNKIT_REFERENCE_DIR", raising=False)
    with known_good(namespace, ["ref.ipynb"], ["layer"]):
        assert namespace["layer"](0) == -1
    monkeypatch.setenv("NNKIT_REFERENCE_DIR", str(tmp_path))
    with pytest.raises(ZeroDivisionError):
        with known_good(namespace, ["ref.ipynb"], ["layer"]):
            assert namespace["layer"](0) == 1
            1 / 0
    assert namespace["layer"] is own


# --- data ------------------------------------------------------------------------------------

def test_digits_are_split_centred_and_shaped():
    data = load_digits_data()
    assert data["X_train"].shape == (1197, 1, 8, 8) and data["X_val"].shape == (300, 1, 8, 8)
    assert data["X_test"].shape == (300, 1, 8, 8) and data["y_train"].dtype == np.int64
    assert np.allclose(data["X_train"].mean(axis=0), 0)
    assert set(np.unique(data["y_train"])) == set(range(10))
    again = load_digits_data()
    assert np.array_equal(data["X_val"], again["X_val"])


def test_digits_reject_impossible_split():
    with pytest.raises(ValueError):
        load_digits_data(num_training=2000)


def _write_cifar_batch(path, n, rng):
    data = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
    labels = list(rng.randint(0, 10, size=n))
    with open(path, "wb") as f:
        pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"test"}, f)
    return data, labels


def test_cifar10_loader_reads_python_batches(tmp_path, monkeypatch):
    rng = np.random.RandomState(0)
    batches = [_write_cifar_batch(tmp_path / f"data_batch_{i}", 4, rng) for i in range(1, 6)]
    test_data, test_labels = _write_cifar_batch(tmp_path / "test_batch", 5, rng)
    data = load_cifar10_data(str(tmp_path), num_training=15, num_validation=5, num_test=5)
    assert data["X_train"].shape == (15, 3, 32, 32) and data["X_val"].shape == (5, 3, 32, 32)
    raw = np.concatenate([b[0] for b in batches]).reshape(-1, 3, 32, 32).astype(np.float64)
    mean = raw[:15].mean(axis=0)
    assert np.allclose(data["X_val"], raw[15:20] - mean)
    assert np.allclose(data["X_test"], test_data.reshape(-1, 3, 32, 32) - mean)
    assert list(data["y_test"]) == test_labels
    monkeypatch.setenv("NNKIT_CIFAR10_DIR", str(tmp_path))
    via_env = get_data(num_training=15, num_validation=5, num_test=5)
    assert np.array_equal(via_env["X_train"], data["X_train"])


# --- Solver ----------------------------------------------------------------------------------

def _sgd(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def _toy_data():
    rng = np.random.RandomState(5)
    X = rng.randn(200, 4)
    y = np.argmax(X[:, :3], axis=1)
    return {"X_train": X[:150], "y_train": y[:150], "X_val": X[150:], "y_val": y[150:]}


def test_solver_trains_and_keeps_best_parameters(tmp_path):
    np.random.seed(0)
    model = _LinearSoftmax()
    solver = Solver(model, _toy_data(), update_rule=_sgd, optim_config={"learning_rate": 0.5},
                    lr_decay=0.9, num_epochs=5, batch_size=25, verbose=False,
                    checkpoint_name=str(tmp_path / "ckpt"))
    solver.train()
    assert len(solver.loss_history) == 5 * 6
    assert len(solver.val_acc_history) == 6 and len(solver.train_acc_history) == 6
    assert solver.loss_history[-1] < solver.loss_history[0]
    assert solver.best_val_acc == max(solver.val_acc_history) > 0.7
    assert solver.check_accuracy(solver.X_val, solver.y_val) == pytest.approx(solver.best_val_acc)
    assert solver.optim_configs["W"]["learning_rate"] == pytest.approx(0.5 * 0.9 ** 5)
    assert solver.optim_configs["W"] is not solver.optim_configs["b"]
    assert os.path.exists(str(tmp_path / "ckpt_epoch_5.pkl"))


def test_solver_rejects_unknown_keywords_and_rules():
    with pytest.raises(ValueError, match="Unrecognized"):
        Solver(_LinearSoftmax(), _toy_data(), learning_rate=1)
    with pytest.raises(ValueError, match="Invalid update_rule"):
        Solver(_LinearSoftmax(), _toy_data(), update_rule="no_such_rule")


def test_solver_finds_update_rule_by_name_in_main(monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["__main__"], "my_rule", _sgd, raising=False)
    assert Solver(_LinearSoftmax(), _toy_data(), update_rule="my_rule").update_rule is _sgd


def test_student_package_never_imports_instructor_code():
    import ast
    import pathlib

    for path in pathlib.Path(checks_module.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] in ("grader", "tests") for m in modules), (path.name, modules)
