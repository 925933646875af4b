"""Known-good building blocks: swapped as forward/backward pairs, run in a bounded process of their own."""
import pytest
from judging import meta, one_function_notebook, run, solution_notebook, text_of
from nbformat.v4 import new_code_cell, new_notebook

from conftest import needs_sandbox
from grader.judge.known_good import KnownGood

pytestmark = needs_sandbox


@pytest.mark.parametrize("verified, listed, swapped", [
    ({"layer_forward"}, ["layer_forward", "layer_backward"], ["layer_forward", "layer_backward"]),
    ({"layer_forward", "layer_backward"}, ["layer_forward", "layer_backward"], []),
    (set(), ["a_forward", "a_backward", "b_forward", "b_backward"],
     ["a_forward", "a_backward", "b_forward", "b_backward"]),
    ({"a_forward", "a_backward", "b_backward"}, ["a_forward", "a_backward", "b_forward", "b_backward"],
     ["b_forward", "b_backward"]),
    ({"softmax_loss"}, ["softmax_loss", "svm_loss"], ["svm_loss"]),
    (set(), ["c_forward"], ["c_forward"]),   # the other half is not listed: not swapped
])
def test_a_broken_half_swaps_its_pair(verified, listed, swapped):
    judge = KnownGood.__new__(KnownGood)
    judge.verified = verified
    assert judge.names_to_swap(listed) == swapped


def test_a_good_block_the_student_namespace_lacks_is_swapped_with_its_pair():
    """An import of an earlier notebook that stopped early leaves a proven block undefined."""
    judge = KnownGood.__new__(KnownGood)
    judge.verified = {"layer_forward", "layer_backward", "loss"}
    namespace = {"layer_backward": object(), "loss": object()}
    assert judge.names_to_swap(["layer_forward", "layer_backward", "loss"], namespace) == \
        ["layer_forward", "layer_backward"]


PAIR = """def part_forward(x):
    return x + 100, ('my', 'cache', x)       # broken output, a cache of its own layout
def part_backward(dout, cache):
    return dout * 1.0 if cache[0] == 'my' else None
def whole(x):
    out, cache = part_forward(x)
    return out, part_backward(np.ones_like(x), cache)"""
PAIR_TEST = """checks = Checks(points=2)
with known_good(globals(), ['ref.ipynb'], ['part_forward', 'part_backward']):
    with checks.check('whole'):
        out, grad = whole(np.ones(2))
        assert_allclose(out, np.ones(2) + 1, name='out')
        assert_allclose(grad, 2 * np.ones(2), name='grad')
checks.score()"""
REFERENCE = solution_notebook("def part_forward(x):\n    return x + 1, {'x': x}\n"
                              "def part_backward(dout, cache):\n    return 2 * dout * np.ones_like(cache['x'])")


def test_a_cache_only_goes_to_the_backward_of_the_forward_that_made_it():
    """The student's backward passed its own tests, the forward did not: both are swapped, so the
    instructor's cache never reaches the student's backward (which cannot read it)."""
    nb = one_function_notebook("whole", PAIR, PAIR_TEST)
    scores = run(nb, reference={"ref.ipynb": REFERENCE}, verified=("part_backward",),
                 functions=("part_forward", "part_backward", "whole"))
    assert scores == {"whole": 2.0}, text_of(nb.cells[2])
    assert "known-good part_forward, part_backward in place of yours" in text_of(nb.cells[2])


HUGE = """def whole(x):
    try:
        part_forward(np.ones((60000, 1)) @ np.ones((1, 60000)))
    except MemoryError:
        pass
    try:
        big(60000)
    except MemoryError as exc:
        print('known-good call failed:', type(exc).__name__)
    return part_forward(x)[0] * 2"""
HUGE_TEST = """checks = Checks(points=2)
with known_good(globals(), ['ref.ipynb'], ['part_forward', 'big']):
    with checks.check('whole'):
        assert_allclose(whole(np.ones(2)), 2 * np.ones(2) + 2, name='out')
checks.score()"""


def test_work_done_for_the_student_is_bounded_like_the_students_own():
    """A call into a known-good block that needs 29 GB fails with MemoryError in the reference
    process (the student's limits), not in the grader, and the check goes on."""
    reference = solution_notebook("def part_forward(x):\n    return x + 1, x\n"
                                  "def big(n):\n    return np.ones((n, 1)) @ np.ones((1, n))")
    nb = one_function_notebook("whole", HUGE, HUGE_TEST)
    scores = run(nb, reference={"ref.ipynb": reference}, functions=("part_forward", "big", "whole"))
    assert scores == {"whole": 2.0}, text_of(nb.cells[2])
    assert "known-good call failed: MemoryError" in text_of(nb.cells[2])


def test_an_exception_of_a_known_good_block_reaches_student_code_with_its_type():
    code = """def whole(x):
    try:
        part_forward('not an array')
    except TypeError as exc:
        print('caught', type(exc).__name__)
    return part_forward(x)[0] * 2"""
    reference = solution_notebook("def part_forward(x):\n    return x + 1, x")
    nb = one_function_notebook("whole", code, HUGE_TEST.replace("'big'", "'part_forward'"))
    run(nb, reference={"ref.ipynb": reference}, functions=("part_forward", "whole"))
    assert "caught TypeError" in text_of(nb.cells[2]), text_of(nb.cells[2])


def test_a_later_notebooks_imported_composite_uses_the_known_good_pair():
    """Through an import of an earlier notebook too: the imported composite's globals get the stubs."""
    earlier = solution_notebook(PAIR)
    setup = ("import numpy as np\nfrom nnkit.checks import Checks, assert_allclose\n"
             "from nnkit.notebooks import known_good, import_solutions\n"
             "globals().update(import_solutions('earlier.ipynb'))")
    nb = new_notebook(cells=[new_code_cell(setup, metadata=meta("setup", "given")),
                             new_code_cell(PAIR_TEST, metadata=meta("whole", "test"))])
    scores = run(nb, reference={"ref.ipynb": REFERENCE}, files={"work/earlier.ipynb": earlier},
                 functions=("part_forward", "part_backward", "whole"))
    assert scores == {"whole": 2.0}, text_of(nb.cells[1])
