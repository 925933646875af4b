"""Split execution in the sandbox: verdicts come from the judge, whatever student code does."""
import nbformat
import pytest
from judging import GOOD, SANDBOXED, meta, notebook, one_function_notebook, run, solution_notebook, text_of
from nbformat.v4 import new_code_cell, new_notebook

from conftest import needs_sandbox

pytestmark = needs_sandbox


def test_correct_code_gets_full_marks():
    assert run(notebook(GOOD)) == {"double": 2.0, "triple": 2.0}


def test_student_outputs_in_graded_cells_are_discarded():
    nb = notebook("def double(x):\n    return x")
    nb.cells[2].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2.0"}, execution_count=1)]
    assert run(nb)["double"] == 0.0


@pytest.mark.parametrize("attack", [
    "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None",
    "import nnkit.checks as c\nc.Checks.score = lambda self: self.points\nc.assert_allclose = lambda *a, **k: None",
    "import builtins\nbuiltins.AssertionError = KeyboardInterrupt",
    "import sys\nsys.excepthook = lambda *a: None\nsys.stdout = open('/dev/null', 'w')",
    "Checks = None\nassert_allclose = lambda *a, **k: None",
])
def test_monkeypatching_in_student_code_cannot_change_verdicts(attack):
    scores = run(notebook(attack + "\ndef double(x):\n    return x + 10"))
    assert scores == {"double": 0.0, "triple": 2.0}


@pytest.mark.parametrize("exit_call", ["import os; os._exit(0)", "import sys; sys.exit(3)",
                                       "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
def test_exiting_costs_only_that_functions_checks(exit_call):
    nb = notebook(f"def double(x):\n    {exit_call}")
    scores = run(nb)
    assert scores == {"double": 0.0, "triple": 2.0}
    assert "student process" in text_of(nb.cells[2]) or "SystemExit: 3" in text_of(nb.cells[2])


def test_infinite_loop_times_out_and_the_rest_is_graded():
    nb = notebook("def double(x):\n    while True:\n        pass")
    scores = run(nb, timeout=2)
    assert scores == {"double": 0.0, "triple": 2.0}
    assert "stopped after 2 s" in text_of(nb.cells[2])


def test_infinite_loop_at_top_level_of_a_cell():
    nb = notebook("import time\ntime.sleep(1000)\n" + GOOD)
    scores = run(nb, timeout=2)
    assert scores == {"double": 0.0, "triple": 2.0}


def test_memory_bomb_is_stopped_by_the_limit():
    nb = notebook("def double(x):\n    big = np.ones((1 << 40,), dtype=np.uint8)\n    return 2 * x")
    assert run(nb) == {"double": 0.0, "triple": 2.0}
    assert "MemoryError" in text_of(nb.cells[2])


def test_fork_bomb_is_stopped_by_the_limit():
    bomb = "import os\ndef double(x):\n    while True:\n        os.fork()\n"
    assert run(notebook(bomb), timeout=5) == {"double": 0.0, "triple": 2.0}


def test_huge_output_is_truncated_and_costs_nothing():
    nb = notebook("print('x' * (100 * 1024 * 1024))\n" + GOOD)
    assert run(nb) == {"double": 2.0, "triple": 2.0}
    assert "output truncated" in text_of(nb.cells[1])
    assert len(text_of(nb.cells[1])) < 200_000


def test_the_sandbox_sees_no_network_and_no_files_outside():
    probe = """import os, socket
seen = []
for path in ['/work', '/root', '/etc/passwd', '/home', '/var', os.path.expanduser('~')]:
    if os.path.exists(path) and os.listdir(path) if os.path.isdir(path) else os.path.exists(path):
        seen.append(path)
print('SEEN', sorted(seen), os.listdir('.'))
try:
    socket.create_connection(('127.0.0.1', 22), timeout=2)
    print('NETWORK OPEN')
except OSError as exc:
    print('network blocked')
""" + GOOD
    nb = notebook(probe)
    if not SANDBOXED:
        pytest.skip("unsandboxed")
    assert run(nb) == {"double": 2.0, "triple": 2.0}
    out = text_of(nb.cells[1])
    assert "network blocked" in out and "NETWORK OPEN" not in out
    assert "SEEN ['/home', '/home/student/work']" in out, out   # only the private working folder (HOME)
    assert "/work/" not in out and "'/etc/passwd'" not in out


def test_known_good_binds_reference_functions_for_composites():
    """A composite judged with known-good parts: the student's buggy part is not used."""
    composite = "def part(x):\n    return x + 100  # buggy\n\ndef whole(x):\n    return part(x) * 2"
    test = """checks = Checks(points=2)
with known_good(globals(), ['ref.ipynb'], ['part']):
    with checks.check('whole'):
        assert_allclose(whole(np.ones(2)), 2 * np.ones(2) + 2, name='out')
checks.score()"""
    nb = one_function_notebook("whole", composite, test)
    run(nb, reference={"ref.ipynb": solution_notebook("def part(x):\n    return x + 1")})
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0"


def test_student_objects_stay_in_the_sandbox_behind_proxies():
    model = """class Model:
    def __init__(self, scale):
        self.params = {'W': np.ones((2, 2)) * scale}
    def loss(self, X):
        return float(np.sum(X @ self.params['W']))"""
    test = """checks = Checks(points=2)
with checks.check('params are live'):
    m = Model(2.0)
    m.params['W'] = np.zeros((2, 2))
    assert m.loss(np.ones((1, 2))) == 0.0, 'assignment did not reach the model'
    assert sorted(m.params) == ['W']
checks.score()"""
    nb = one_function_notebook("Model", model, test)
    run(nb)
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[2].outputs


def test_changes_to_arguments_reach_the_caller_as_in_one_process():
    """In-place changes (values, and x.shape = ...) are seen by the test, as in a plain kernel."""
    code = ("def flatten(x, stats):\n    x.shape = (x.shape[0], -1)\n    x[0, 0] = 99.0\n    stats['seen'] = 1\n"
            "    return x")
    test = """checks = Checks(points=2)
with checks.check('in place'):
    x, stats = np.zeros((2, 3, 2)), {}
    out = flatten(x, stats)
    assert x.shape == (2, 6) and x[0, 0] == 99.0 and stats == {'seen': 1}, (x.shape, stats)
checks.score()"""
    nb = one_function_notebook("flatten", code, test)
    run(nb)
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[2].outputs


def test_known_good_reaches_functions_imported_from_another_notebook():
    """A student's composite imported with import_solutions calls the known-good part, not its own."""
    parts = solution_notebook("def part(x):\n    return x + 100  # buggy\n\ndef whole(x):\n    return part(x) * 2")
    setup = ("import numpy as np\nfrom nnkit.checks import Checks, assert_allclose\n"
             "from nnkit.notebooks import known_good, import_solutions\n"
             "globals().update(import_solutions('parts.ipynb'))")
    test = """checks = Checks(points=2)
with known_good(globals(), ['ref.ipynb'], ['part', 'whole']):
    with checks.check('whole'):
        assert_allclose(whole(np.ones(2)), 2 * np.ones(2) + 2, name='out')
checks.score()"""
    from judging import meta

    nb = new_notebook(cells=[new_code_cell(setup, metadata=meta("setup", "given")),
                             new_code_cell(test, metadata=meta("whole", "test"))])
    reference = solution_notebook("def part(x):\n    return x + 1\n\ndef whole(x):\n    return (x + 1) * 2")
    run(nb, reference={"ref.ipynb": reference}, files={"work/parts.ipynb": parts}, verified=("whole",),
        functions=("part", "whole"))
    assert nb.cells[1].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[1].outputs
    assert "known-good part in place of yours" in text_of(nb.cells[1])


def test_ipython_syntax_runs_and_plain_python_runs_without_ipython():
    """Magics and shell escapes run as in a kernel; a plain cell (even with a line starting with %) needs no IPython."""
    from judging import meta

    plain = new_code_cell('import sys\nprint("rate %.1f"\n      % 2.5)\nprint("IPYTHON", "IPython" in sys.modules)',
                          metadata=meta("plain", "solution"))
    magic = new_code_cell("%matplotlib inline\n!echo shell-escape\nprint('after magics')",
                          metadata=meta("magic", "solution"))
    nb = new_notebook(cells=[plain, magic])
    run(nb)
    assert "rate 2.5\nIPYTHON False" in text_of(nb.cells[0]), nb.cells[0].outputs
    assert "after magics" in text_of(nb.cells[1]) and not any(o.output_type == "error" for o in nb.cells[1].outputs), \
        nb.cells[1].outputs


def test_each_run_gets_a_fresh_process_in_a_fresh_sandbox():
    from judging import meta

    first = new_notebook(cells=[new_code_cell("import numpy\nnumpy.leaked = 1\nleft_over = 2\n"
                                              "open('written_by_the_first.txt', 'w').write('x')",
                                              metadata=meta("leak", "solution"))])
    second = new_notebook(cells=[new_code_cell("import numpy, os\nprint('LEAK', hasattr(numpy, 'leaked'), "
                                               "'left_over' in globals(), os.path.exists('written_by_the_first.txt'), "
                                               "os.nice(0))", metadata=meta("look", "solution"))])
    run(first)
    run(second)
    assert "LEAK False False False 10" in text_of(second.cells[0]), text_of(second.cells[0])


def test_model_gradients_are_sampled_at_the_requested_entries():
    model = """class Model:
    def __init__(self):
        self.params = {'W': np.linspace(-1, 1, 12).reshape(3, 4), 'b': np.zeros(4)}
    def loss(self, X, y=None):
        scores = X @ self.params['W'] + self.params['b']
        return 0.5 * float(np.sum(scores ** 2)), {'W': X.T @ scores, 'b': scores.sum(axis=0)}"""
    test = """from nnkit.gradient_check import eval_numerical_param_gradients
from nnkit.checks import assert_gradient_matches
checks = Checks(points=2)
with checks.check('sampled'):
    m = Model()
    X = np.arange(6.0).reshape(2, 3) / 6
    _, grads = m.loss(X)
    numerical = eval_numerical_param_gradients(m, X, None, entries=5, seed=3)
    print('EVALUATED', {k: int((~np.isnan(v)).sum()) for k, v in sorted(numerical.items())})
    for name in numerical:
        assert_gradient_matches(grads[name], numerical[name], name=name)
checks.score()"""
    nb = one_function_notebook("Model", model, test)
    run(nb)
    assert "EVALUATED {'W': 5, 'b': 4}" in text_of(nb.cells[2])
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[2].outputs


def test_cells_tagged_experiment_are_not_run_student_or_given():
    """Experiments and demonstrations (tagged `experiment`) are not re-run: a demo that would loop
    forever over the student's function costs nothing, and its outputs are kept as they were."""
    nb = notebook(GOOD)
    for kind, source in (("given", "while True: double(1.0)"), ("solution", "while True: pass")):
        cell = new_code_cell(source, metadata={**meta(f"demo_{kind}", kind), "tags": ["experiment"]})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"the {kind} demo ran\n")]
        nb.cells.insert(3, cell)
    assert run(nb, timeout=5) == {"double": 2.0, "triple": 2.0}
    demos = [cell for cell in nb.cells if cell.metadata["nbgrader"]["grade_id"].startswith("demo_")]
    assert [text_of(cell) for cell in demos] == ["the solution demo ran\n", "the given demo ran\n"]
