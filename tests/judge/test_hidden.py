"""What student code prints during hidden checks stays out of the notebook (and so the feedback)."""
from judging import one_function_notebook, run, text_of

from conftest import needs_sandbox
from grader.judge.hidden import hidden_lines

TEST = """checks = Checks(points=2)
with checks.check('public'):
    assert_allclose(shout(np.arange(3.0)), np.arange(3.0), name='out')
### BEGIN HIDDEN TESTS
def helper(v):
    return shout(v)
with checks.check('hidden'):
    assert_allclose(helper(np.full(4, 7.25)), np.full(4, 7.25), name='out')
### END HIDDEN TESTS
checks.score()"""


def test_hidden_lines_are_those_between_the_markers():
    assert hidden_lines(TEST) == frozenset(range(5, 9))


@needs_sandbox
def test_student_output_during_hidden_checks_is_not_shown():
    nb = one_function_notebook("shout", "def shout(x):\n    print('SEEN', x.tolist())\n    return x", TEST)
    assert run(nb) == {"shout": 2.0}
    out = text_of(nb.cells[2])
    assert "SEEN [0.0, 1.0, 2.0]" in out                  # the public check's call
    assert "7.25" not in out and "printed during a hidden check is not shown" in out
