"""Split execution in the sandbox: verdicts come from the judge, whatever student code does."""
import os
import shutil
import tempfile

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader import wire
from grader.judge import NotebookRun
from grader.zygote import Zygote
from grader.sandbox import sandbox_works

SANDBOXED, WHY_NOT = sandbox_works()
pytestmark = pytest.mark.skipif(not SANDBOXED and os.environ.get("CI") != "true",
                                reason=f"no sandbox on this machine: {WHY_NOT}")

SETUP = "import numpy as np\nfrom nnkit.checks import Checks, assert_allclose\nfrom nnkit.notebooks import known_good"
GOOD = "def double(x):\n    return 2 * x"
TEST = """checks = Checks(points=2)
with checks.check("doubles a vector"):
    x = np.arange(3.0)
    assert_allclose(double(x), 2 * np.arange(3.0), name="out")
with checks.check("doubles a matrix"):
    assert_allclose(double(np.ones((2, 2))), 2 * np.ones((2, 2)), name="out")
checks.score()"""


def meta(grade_id, kind):
    nbgrader = {"grade_id": grade_id, "schema_version": 3, "task": False}
    nbgrader.update({"given": dict(grade=False, solution=False, locked=True),
                     "solution": dict(grade=False, solution=True, locked=False),
                     "test": dict(grade=True, solution=False, locked=True, points=2)}[kind])
    return {"nbgrader": nbgrader}


def notebook(solution, second_solution=GOOD.replace("double", "triple").replace("2 *", "3 *")):
    """given setup, an answer cell, its test, a second answer and its test."""
    return new_notebook(cells=[
        new_code_cell(SETUP, metadata=meta("setup", "given")),
        new_code_cell(solution, metadata=meta("double_solution", "solution")),
        new_code_cell(TEST, metadata=meta("double", "test")),
        new_code_cell(second_solution, metadata=meta("triple_solution", "solution")),
        new_code_cell(TEST.replace("double", "triple").replace("2 *", "3 *"), metadata=meta("triple", "test")),
    ])


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="judge-test-")
    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "assignments", "nnkit"),
                    os.path.join(path, "nnkit"))
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(path):
            os.chown(root, 61999, 61999)
            for f in files:
                os.chown(os.path.join(root, f), 61999, 61999)
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["own process", "forked by the zygote"])
def zygote(request, workdir):
    """Judge tests run both ways: a student process of its own, and one forked by a Zygote."""
    if request.param == "own process":
        yield None
        return
    zygote = Zygote(workdir, sandboxed=SANDBOXED, uid=61999)
    yield zygote
    zygote.stop()


def one_function_notebook(name, solution, test):
    """given setup, the answer cell `<name>_solution` and its test cell `<name>`."""
    return new_notebook(cells=[
        new_code_cell(SETUP, metadata=meta("setup", "given")),
        new_code_cell(solution, metadata=meta(f"{name}_solution", "solution")),
        new_code_cell(test, metadata=meta(name, "test")),
    ])


def run(nb, workdir, timeout=10, reference=None, zygote=None, **kwargs):
    NotebookRun(nb, workdir, reference=reference or (lambda notebooks: {}), timeout=timeout, sandboxed=SANDBOXED,
                uid=61999, zygote=zygote, **kwargs).run()
    scores = {}
    for cell in nb.cells:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if cell.metadata["nbgrader"].get("grade"):
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            scores[grade_id] = float(results[0]["data"]["text/plain"]) if results else 0.0
    return scores


def text_of(cell):
    return "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)


def test_correct_code_gets_full_marks(workdir, zygote):
    assert run(notebook(GOOD), workdir, zygote=zygote) == {"double": 2.0, "triple": 2.0}


def test_student_outputs_in_graded_cells_are_discarded(workdir, zygote):
    nb = notebook("def double(x):\n    return x")
    nb.cells[2].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2.0"}, execution_count=1)]
    assert run(nb, workdir, zygote=zygote)["double"] == 0.0


@pytest.mark.parametrize("attack", [
    "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None",
    "import nnkit.checks as c\nc.Checks.score = lambda self: self.points\nc.assert_allclose = lambda *a, **k: None",
    "import builtins\nbuiltins.AssertionError = KeyboardInterrupt",
    "import sys\nsys.excepthook = lambda *a: None\nsys.stdout = open('/dev/null', 'w')",
    "Checks = None\nassert_allclose = lambda *a, **k: None",
])
def test_monkeypatching_in_student_code_cannot_change_verdicts(workdir, attack, zygote):
    scores = run(notebook(attack + "\ndef double(x):\n    return x + 10"), workdir, zygote=zygote)
    assert scores == {"double": 0.0, "triple": 2.0}


@pytest.mark.parametrize("exit_call", ["import os; os._exit(0)", "import sys; sys.exit(3)",
                                       "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
def test_exiting_costs_only_that_functions_checks(workdir, exit_call, zygote):
    nb = notebook(f"def double(x):\n    {exit_call}")
    scores = run(nb, workdir, zygote=zygote)
    assert scores == {"double": 0.0, "triple": 2.0}
    assert "student process" in text_of(nb.cells[2]) or "SystemExit: 3" in text_of(nb.cells[2])


def test_infinite_loop_times_out_and_the_rest_is_graded(workdir, zygote):
    nb = notebook("def double(x):\n    while True:\n        pass")
    scores = run(nb, workdir, timeout=2, zygote=zygote)
    assert scores == {"double": 0.0, "triple": 2.0}
    assert "stopped after 2 s" in text_of(nb.cells[2])


def test_infinite_loop_at_top_level_of_a_cell(workdir, zygote):
    nb = notebook("import time\ntime.sleep(1000)\n" + GOOD)
    scores = run(nb, workdir, timeout=2, zygote=zygote)
    assert scores == {"double": 0.0, "triple": 2.0}


def test_memory_bomb_is_stopped_by_the_limit(workdir, zygote):
    nb = notebook("def double(x):\n    big = np.ones((1 << 40,), dtype=np.uint8)\n    return 2 * x")
    assert run(nb, workdir, zygote=zygote) == {"double": 0.0, "triple": 2.0}
    assert "MemoryError" in text_of(nb.cells[2])


def test_fork_bomb_is_stopped_by_the_limit(workdir, zygote):
    bomb = "import os\ndef double(x):\n    while True:\n        os.fork()\n"
    assert run(notebook(bomb), workdir, timeout=5, zygote=zygote) == {"double": 0.0, "triple": 2.0}


def test_huge_output_is_truncated_and_costs_nothing(workdir, zygote):
    nb = notebook("print('x' * (100 * 1024 * 1024))\n" + GOOD)
    assert run(nb, workdir, zygote=zygote) == {"double": 2.0, "triple": 2.0}
    assert "output truncated" in text_of(nb.cells[1])
    assert len(text_of(nb.cells[1])) < 200_000


def test_the_sandbox_sees_no_network_and_no_files_outside(workdir, zygote):
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
    assert run(nb, workdir, zygote=zygote) == {"double": 2.0, "triple": 2.0}
    out = text_of(nb.cells[1])
    assert "network blocked" in out and "NETWORK OPEN" not in out
    assert "SEEN ['/home', '/root'" in out or "SEEN ['/root'" in out or "SEEN ['/home']" in out
    assert "/work/" not in out and "'/etc/passwd'" not in out


def test_known_good_binds_reference_functions_for_composites(workdir, zygote):
    """A composite judged with known-good parts: the student's buggy part is not used."""
    composite = "def part(x):\n    return x + 100  # buggy\n\ndef whole(x):\n    return part(x) * 2"
    test = """checks = Checks(points=2)
with known_good(globals(), ['ref.ipynb'], ['part']):
    with checks.check('whole'):
        assert_allclose(whole(np.ones(2)), 2 * np.ones(2) + 2, name='out')
checks.score()"""
    nb = one_function_notebook("whole", composite, test)
    reference = {"part": lambda x: x + 1}
    run(nb, workdir, reference=lambda notebooks: reference, zygote=zygote)
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0"


def test_student_objects_stay_in_the_sandbox_behind_proxies(workdir, zygote):
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
    run(nb, workdir, zygote=zygote)
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[2].outputs


def test_changes_to_arguments_reach_the_caller_as_in_one_process(workdir, zygote):
    """In-place changes (values, and x.shape = ...) are seen by the test, as in a plain kernel."""
    code = "def flatten(x, stats):\n    x.shape = (x.shape[0], -1)\n    x[0, 0] = 99.0\n    stats['seen'] = 1\n    return x"
    test = """checks = Checks(points=2)
with checks.check('in place'):
    x, stats = np.zeros((2, 3, 2)), {}
    out = flatten(x, stats)
    assert x.shape == (2, 6) and x[0, 0] == 99.0 and stats == {'seen': 1}, (x.shape, stats)
checks.score()"""
    nb = one_function_notebook("flatten", code, test)
    run(nb, workdir, zygote=zygote)
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[2].outputs


def solution_notebook_file(folder, name, source):
    """Write a notebook with one solution cell (an earlier notebook of the student's) into folder."""
    nb = new_notebook(cells=[new_code_cell(source, metadata=meta("part_solution", "solution"))])
    path = os.path.join(folder, name)
    nbformat.write(nb, path)
    if os.geteuid() == 0:
        os.chown(path, 61999, 61999)


def test_known_good_reaches_functions_imported_from_another_notebook(workdir, zygote):
    """A student's composite imported with import_solutions calls the known-good part, not its own."""
    solution_notebook_file(workdir, "parts.ipynb",
                           "def part(x):\n    return x + 100  # buggy\n\ndef whole(x):\n    return part(x) * 2")
    setup = SETUP + "\nfrom nnkit.notebooks import import_solutions\nglobals().update(import_solutions('parts.ipynb'))"
    test = """checks = Checks(points=2)
with known_good(globals(), ['ref.ipynb'], ['part', 'whole']):
    with checks.check('whole'):
        assert_allclose(whole(np.ones(2)), 2 * np.ones(2) + 2, name='out')
checks.score()"""
    nb = new_notebook(cells=[new_code_cell(setup, metadata=meta("setup", "given")),
                             new_code_cell(test, metadata=meta("whole", "test"))])
    reference = {"part": lambda x: x + 1, "whole": lambda x: (x + 1) * 2}
    run(nb, workdir, reference=lambda notebooks: reference, zygote=zygote,
        verified={"whole"}, functions=["part", "whole"])
    assert nb.cells[1].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[1].outputs


def test_ipython_syntax_runs_and_plain_python_runs_without_ipython(workdir, zygote):
    """Magics and shell escapes run as in a kernel; a plain cell (even with a line starting with %) needs no IPython."""
    plain = new_code_cell('import sys\nprint("rate %.1f"\n      % 2.5)\nprint("IPYTHON", "IPython" in sys.modules)',
                          metadata=meta("plain", "solution"))
    magic = new_code_cell("%matplotlib inline\n!echo shell-escape\nprint('after magics')",
                          metadata=meta("magic", "solution"))
    nb = new_notebook(cells=[plain, magic])
    run(nb, workdir, zygote=zygote)
    assert "rate 2.5\nIPYTHON False" in text_of(nb.cells[0]), nb.cells[0].outputs
    assert "after magics" in text_of(nb.cells[1]) and not any(o.output_type == "error" for o in nb.cells[1].outputs), \
        nb.cells[1].outputs


def test_every_notebook_gets_a_fresh_process_from_the_zygote(workdir):
    zygote = Zygote(workdir, sandboxed=SANDBOXED, uid=61999)
    first = new_notebook(cells=[new_code_cell("import numpy\nnumpy.leaked = 1\nleft_over = 2\nimport os\n"
                                              "print('PID', os.getpid(), os.getppid())",
                                              metadata=meta("leak", "solution"))])
    second = new_notebook(cells=[new_code_cell("import numpy, os\nprint('LEAK', hasattr(numpy, 'leaked'), "
                                               "'left_over' in globals(), os.nice(0))\n"
                                               "if os.path.exists('/proc/self/autogroup'):\n"
                                               "    print('GROUP', open('/proc/self/autogroup').read())",
                                               metadata=meta("look", "solution"))])
    try:
        run(first, workdir, zygote=zygote)
        run(second, workdir, zygote=zygote)
    finally:
        zygote.stop()
    assert "LEAK False False 10" in text_of(second.cells[0])
    if os.path.exists("/proc/self/autogroup"):    # the sandbox's session is a scheduling group of its own
        assert text_of(second.cells[0]).split("GROUP")[1].strip().endswith("nice 10"), text_of(second.cells[0])


def test_model_gradients_are_sampled_at_the_requested_entries(workdir, zygote):
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
    run(nb, workdir, zygote=zygote)
    assert "EVALUATED {'W': 5, 'b': 4}" in text_of(nb.cells[2])
    assert nb.cells[2].outputs[-1]["data"]["text/plain"] == "2.0", nb.cells[2].outputs


LOOP_STUDENT = """import numpy as np
calls, moody_calls, fragile_calls = [0], [0], [0]
def affine(x, w, b):
    calls[0] += 1
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)
def moody(x, w):
    calls[0] += 1
    moody_calls[0] += 1
    if moody_calls[0] == 9:
        x[0, 0] += 1.0       # changes its argument in place, once
    print('call', moody_calls[0])
    return x @ w
def fragile(x):
    calls[0] += 1
    fragile_calls[0] += 1
    if fragile_calls[0] == 31:
        raise ValueError('call %d failed' % fragile_calls[0])
    return np.sum(x ** 2)
def counted_double(x, param):
    calls[0] += 1
    param['seen'] = param.get('seen', 0) + 1     # like batchnorm_forward's running averages
    return 2 * x + param['seen']
def count():
    return calls[0]"""
LOOP_TEST = """from nnkit.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
checks = Checks(points=1)
def show(label, grad, *arrays):
    print(label, repr(grad.tolist()), [a.tolist() for a in arrays], count())
rng = np.random.RandomState(0)
x, w, b = rng.randn(2, 3, 2), rng.randn(6, 4), rng.randn(4)
dout = rng.randn(2, 4)
show('same x', eval_numerical_gradient_array(lambda v: affine(v, w, b)[0], x, dout), x)
show('copied x', eval_numerical_gradient_array(lambda v: affine(v.copy(), w, b)[0], x, dout), x)
show('w', eval_numerical_gradient_array(lambda v: affine(x, v, b)[0], w, dout), w)
show('w by keyword', eval_numerical_gradient_array(lambda v: affine(x, w=v, b=b)[0], w, dout), w)
show('two calls', eval_numerical_gradient_array(lambda v: affine(affine(v, w, b)[0], np.eye(4), b)[0], x, dout), x)
xt = rng.randn(4, 3).T      # not C-ordered: the loop visits entries in memory order
show('transposed', eval_numerical_gradient_array(lambda v: affine(v, w[:4], b)[0], xt, rng.randn(3, 4)), xt)
fresh = lambda v: counted_double(v.copy(), {'mode': 'train'})
show('fresh dict', eval_numerical_gradient_array(fresh, x, rng.randn(*x.shape)), x)
param = {'mode': 'train'}
show('shared dict', eval_numerical_gradient_array(lambda v: counted_double(v, param), x, rng.randn(*x.shape)), x)
print(param)
xs = rng.randn(3, 4)
show('in place', eval_numerical_gradient_array(lambda v: moody(v, w[:4]), xs, rng.randn(3, 4)), xs)
try:
    eval_numerical_gradient(lambda v: fragile(v), rng.randn(5, 5), verbose=False)
except ValueError as exc:
    print('raised', exc, count())
print('done')
checks.score()"""


def test_numerical_gradient_loops_run_in_one_request_with_the_same_results(workdir, zygote, monkeypatch):
    """The student calls of nnkit's gradient loops run beside the student's code: same values, far fewer requests."""
    import grader.judge as judge

    requests = []
    original_request = judge.StudentProcess.request

    def counted(process, message):
        requests.append(message["op"])
        return original_request(process, message)

    monkeypatch.setattr(judge.StudentProcess, "request", counted)
    outputs = {}
    for mode, loops in (("call by call", ()), ("batched", judge.PERTURBATION_LOOPS)):
        monkeypatch.setattr(judge, "PERTURBATION_LOOPS", loops)
        requests.clear()
        nb = one_function_notebook("loops", LOOP_STUDENT, LOOP_TEST)
        run(nb, workdir, zygote=zygote)
        outputs[mode] = (text_of(nb.cells[2]), requests.count("call"), requests.count("perturbed_calls"))
    (batched, calls, batches), (one_by_one, calls_one_by_one, _) = outputs["batched"], outputs["call by call"]
    assert "raised call 31 failed" in one_by_one and "call 9" in one_by_one and "done" in one_by_one
    assert batched == one_by_one
    # seven loops batch; "w by keyword" and "two calls" go call by call, and so does "shared dict"
    # (each call changes the dict the next call gets)
    assert "{'mode': 'train', 'seen': 24}" in one_by_one
    assert batches == 7 and calls + batches < calls_one_by_one / 2, (calls, batches, calls_one_by_one)


# --- the wire format -----------------------------------------------------------------------------

def roundtrip(value):
    return wire.decode(wire.encode(value)[8:])


def test_wire_round_trips_plain_data():
    value = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "t": (1, 2.5, None, True, "s"),
             "nested": [np.int64(3), {"k": np.float64("nan")}], 7: "int key", "inf": float("inf")}
    back = roundtrip(value)
    assert back["x"].dtype == np.float32 and np.array_equal(back["x"], value["x"])
    assert back["t"] == (1, 2.5, None, True, "s") and back[7] == "int key"
    assert np.isnan(back["nested"][1]["k"]) and back["inf"] == float("inf")


@pytest.mark.parametrize("bad", [np.array([object()], dtype=object), lambda: 1, object()])
def test_wire_refuses_code_and_objects(bad):
    with pytest.raises(wire.WireError):
        wire.encode(bad)


def test_wire_rejects_forged_arrays():
    payload = bytearray(wire.encode(np.zeros(4))[8:])
    forged = bytes(payload).replace(b'"<f8"', b'"|O8"')
    with pytest.raises(wire.WireError):
        wire.decode(forged)
    shape_lie = bytes(payload).replace(b"[4]", b"[9]")
    with pytest.raises(wire.WireError):
        wire.decode(shape_lie)
