"""Checks for the notebooks' test cells, with partial credit.

A test cell groups several independent checks and ends with ``checks.score()``::

    checks = Checks(points=3)
    with checks.check("dx matches the numerical gradient"):
        assert_rel_error(dx, dx_num, 1e-8, "dx")
    checks.score()

Every check runs even when an earlier one failed, so the number of checks in a
cell is fixed and the points are split equally among them. ``score()`` prints a
summary and returns the points earned as a plain float, which nbgrader reads
as the cell's partial credit. When no check of the cell passed, ``score()``
raises ``ChecksFailed`` with the FAIL lines instead, so that nbgrader's Validate
reports the cell as an error with what failed (a returned 0.0 would read as
"partial credit"); the cell earns 0 points either way.

Messages go to stdout, never stderr: warnings raised inside a check are reported
as notes and never cost points. Measured values (``assert_rel_error``'s relative
error and threshold) are printed under the PASS/FAIL line of their own check.
An error in the student's code is located as the notebook does it:
``(<cell 4>, line 21, in affine_forward)``, the cell's execution count (``In [4]``).
"""
import contextlib
import sys
import traceback
import warnings

import numpy as np

from .gradient_check import rel_error

PASS = "PASS"
FAIL = "FAIL"
#: how many frames of the student's code a location names (innermost last), as the grader does
LOCATION_FRAMES = 2


class ChecksFailed(AssertionError):
    """No check of a test cell passed: the message lists the FAIL lines."""


#: the notes of the checks running now (innermost last): printed after their verdict
_running = []


class Checks:
    """The checks of one test cell.

    Inputs:
    - points: the cell's points (its nbgrader `points` metadata)
    """

    def __init__(self, points):
        self.points = float(points)
        self.results = []
        self.failures = []

    @contextlib.contextmanager
    def check(self, description):
        """Run one check: the body passes unless it raises an Exception.

        KeyboardInterrupt and SystemExit are not caught, so a timed-out cell
        still stops.
        """
        notes = []
        _running.append(notes)
        failure = None
        try:
            with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(sys.stdout):
                warnings.simplefilter("always")
                try:
                    yield
                except Exception as exc:  # any bug in the student's code fails this check only
                    failure = _describe(exc)
                    line = f"{FAIL} {description}: {failure}"
                    self.results.append((description, False))
                    self.failures.append(line)
                    print(line)
                else:
                    self.results.append((description, True))
                    print(f"{PASS} {description}")
        finally:
            _running.pop()
        for note in notes:
            if note.strip() != failure:   # the FAIL line says it already
                print(note)
        for warning in _unique_messages(caught):
            print(f"     note: a warning was raised: {warning}")

    @property
    def passed(self):
        return sum(ok for _, ok in self.results)

    def score(self):
        """Print a summary and return the points earned (a plain float).

        Raises ChecksFailed, with the FAIL lines, when checks ran and none passed.
        """
        total = len(self.results)
        if total == 0:
            print("No checks ran in this cell.")
            return 0.0
        earned = round(self.points * self.passed / total, 2)
        print(f"{self.passed}/{total} checks passed: {earned:g} of {self.points:g} points")
        if self.passed == 0:
            raise ChecksFailed(self.no_pass_message())
        return float(earned)

    def no_pass_message(self):
        """What ChecksFailed says: the cell's FAIL lines."""
        return f"no check passed (0 of {self.points:g} points):\n" + "\n".join(self.failures)


def _note(line):
    """Print a measured value under the verdict of the check it belongs to (now, outside any check)."""
    if _running:
        _running[-1].append(line)
    else:
        print(line)


def _describe(exc):
    """A one-line account of an exception, pointing into the student's code."""
    message = str(exc).strip() or "(no message)"
    if isinstance(exc, AssertionError):
        return message
    where = ""
    if not getattr(exc, "location_in_message", False):
        where = _location(traceback.extract_tb(exc.__traceback__))
    return f"{type(exc).__name__}: {message}{where}"


def _cell_names():
    """Code file name -> "<cell N>" for the cells this IPython kernel ran (N: the execution count)."""
    try:
        shell = get_ipython()  # noqa: F821 (defined in a kernel)
        names = shell.compile._filename_map
    except Exception:  # not in IPython
        return {}
    return {filename: f"<cell {number}>" for filename, number in names.items()}


def _location(frames):
    """Where an exception was raised, in the student's cells, worded as the grader words it.

    A frame is a cell's when its code is a notebook cell (a kernel's cell file, or a name like
    "<cell 4>"); the frames of the cell running the checks (the outermost cell) are the test's
    own. Returns " (<cell 4>, line 21, in affine_forward)" (the innermost frames, joined by
    "; "), " (in the test cell, line 7)" when the error is in the test's own code, or "".
    """
    names = _cell_names()

    def cell_of(frame):
        if frame.filename in names:
            return names[frame.filename]
        return frame.filename if frame.filename.startswith("<") else None

    cells = [(frame, cell_of(frame)) for frame in frames]
    cells = [(frame, cell) for frame, cell in cells if cell is not None]
    if not cells:
        return ""
    test_file = cells[0][0].filename
    student = [(frame, cell) for frame, cell in cells if frame.filename != test_file]
    if not student:
        return f" (in the test cell, line {cells[-1][0].lineno})"
    parts = [f"{cell}, line {frame.lineno}, in {frame.name}" for frame, cell in student[-LOCATION_FRAMES:]]
    return " (" + "; ".join(parts) + ")"


def _unique_messages(caught):
    seen = []
    for warning in caught:
        text = f"{warning.category.__name__}: {warning.message}"
        if text not in seen:
            seen.append(text)
    return seen


def _as_array(value, name):
    if value is None:
        raise AssertionError(f"{name} is None (did the function return it?)")
    try:
        return np.asarray(value)
    except Exception as exc:  # ragged or exotic objects
        raise AssertionError(f"{name} is not an array: {exc}") from None


def assert_shape(actual, shape, name="output"):
    """Fail unless `actual` is an array of exactly `shape`."""
    actual = _as_array(actual, name)
    if actual.shape != tuple(shape):
        raise AssertionError(f"{name} has shape {actual.shape}, expected {tuple(shape)}")


def assert_finite(actual, name="output"):
    """Fail if `actual` contains NaN or infinity."""
    actual = _as_array(actual, name)
    if not np.all(np.isfinite(actual)):
        raise AssertionError(f"{name} contains NaN or inf")


def assert_rel_error(actual, expected, tol, name="output"):
    """Fail unless `actual` has `expected`'s shape, is finite, and rel_error <= tol.

    Prints the measured relative error and the threshold.
    """
    expected = np.asarray(expected)
    assert_shape(actual, expected.shape, name)
    assert_finite(actual, name)
    error = rel_error(actual, expected)
    verdict = "<=" if error <= tol else "exceeds"
    _note(f"     {name}: relative error {error:.2e} {verdict} threshold {tol:.0e}")
    if not error <= tol:
        raise AssertionError(f"{name}: relative error {error:.2e} exceeds threshold {tol:.0e}")


def assert_allclose(actual, expected, rtol=1e-7, atol=0.0, name="output"):
    """Fail unless `actual` matches `expected` in shape and value (NaN never matches)."""
    expected = np.asarray(expected)
    assert_shape(actual, expected.shape, name)
    actual = np.asarray(actual)
    if actual.dtype == object:
        raise AssertionError(f"{name} is not a numeric array")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False):
        worst = np.max(np.abs(actual.astype(np.float64) - expected))
        raise AssertionError(f"{name} differs from the expected values "
                             f"(largest difference {worst:.3g}; rtol {rtol:g}, atol {atol:g})")


def assert_gradient_matches(actual, numerical, rtol=1e-5, atol=1e-8, name="gradient"):
    """Fail unless an analytic gradient is finite and matches a numerical one where that was evaluated.

    Inputs:
    - actual: the analytic gradient
    - numerical: from eval_numerical_param_gradients; NaN marks entries not evaluated
    """
    numerical = np.asarray(numerical, dtype=np.float64)
    assert_shape(actual, numerical.shape, name)
    assert_finite(actual, name)
    evaluated = ~np.isnan(numerical)
    if not evaluated.any():
        raise AssertionError(f"no numerical gradient was evaluated for {name}")
    assert_allclose(np.asarray(actual, dtype=np.float64)[evaluated], numerical[evaluated], rtol=rtol, atol=atol,
                    name=f"{name} (at {evaluated.sum()} checked entries)")


def assert_unchanged(before, after, name="input"):
    """Fail unless `after` still equals the copy `before` taken before the call."""
    if not np.array_equal(np.asarray(before), np.asarray(after)):
        raise AssertionError(f"{name} was modified by the call; graded functions must not change their inputs")
