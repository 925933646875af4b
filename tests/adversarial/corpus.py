"""The adversarial corpus: submissions that attack the grader, each with its expected grade.

Every case starts from the instructor's solutions (full marks) and changes one thing.
`loses` names the graded functions whose tests must lose points (all other tests
keep full marks); `zero_notebooks` names notebooks that must score 0 in full.
Attack code that needs to know where things are gets the real paths through
`{course}`, `{victim}` and `{port}` placeholders, filled in by the test.
"""
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from grader.quality.submissions import build_submission

ASSIGNMENT = "fc_nets"
SECRET = "CANARY-7f3a9c"


@dataclass(frozen=True)
class Attack:
    student_id: str
    description: str
    replacements: dict = field(default_factory=dict)     # function -> new solution cell source
    after: Callable = None                               # callable(folder, context) changing files afterwards
    loses: tuple = ()
    zero_notebooks: tuple = ()
    contained_by: str = ""
    failed: bool = False            # the submission's grading is expected to fail (and be recorded so)


def prefixed(code, function, solutions):
    """The instructor's solution of `function` with attack code run first in the same cell."""
    return code.strip() + "\n\n" + solutions[f"{function}_solution"]


def with_body(function, body, signature):
    return f"def {function}({signature}):\n" + "\n".join("    " + line for line in body.strip().splitlines())


BROKEN_AFFINE = with_body("affine_forward", "return x.reshape(x.shape[0], -1) @ w, (x, w, b)  # forgets b", "x, w, b")
BROKEN_RELU = with_body("relu_forward", "return np.abs(x), x", "x")
BROKEN_RELU_BACKWARD = with_body("relu_backward", "return dout.copy()", "dout, cache")
BROKEN_SVM = with_body("svm_loss", "return 0.0, np.zeros_like(x)", "x, y")

READ_PROBE = """
import glob, os
for path in ['{victim}/01_layers.ipynb', '{victim}/secret.txt', '{course}/source/fc_nets/01_layers.ipynb',
             '{course}/gradebook.db', '../../full_marks/fc_nets/01_layers.ipynb', '/root/.bash_history']:
    try:
        with open(path, 'rb') as f:
            data = f.read()
        print('LEAKED', path, data[:4000])
    except OSError as exc:
        print('blocked', path, type(exc).__name__)
print('visible:', sorted(glob.glob('/*')), sorted(glob.glob('../*')))
"""

WRITE_PROBE = """
import os
for path in ['{course}/gradebook.db', '{victim}/01_layers.ipynb', '{course}/source/fc_nets/01_layers.ipynb',
             '{course}/reports/grades.csv']:
    try:
        with open(path, 'wb') as f:
            f.write(b'overwritten by a student')
        print('WROTE', path)
    except OSError as exc:
        print('blocked', path, type(exc).__name__)
    try:
        os.remove(path)
        print('REMOVED', path)
    except OSError as exc:
        print('blocked remove', path, type(exc).__name__)
"""

NETWORK_PROBE = """
import socket
for host in ['127.0.0.1', '10.0.2.2', '1.1.1.1']:
    try:
        socket.create_connection((host, {port}), timeout=2).sendall(b'student was here')
        print('CONNECTED', host)
    except OSError as exc:
        print('blocked', host, type(exc).__name__)
"""


def _notebook(folder, name):
    return Path(folder) / name


def replace_file(name, data):
    def change(folder, context):
        _notebook(folder, name).write_bytes(data)
    return change


def delete_file(name):
    def change(folder, context):
        _notebook(folder, name).unlink()
    return change


def rename_file(name, new_name):
    def change(folder, context):
        _notebook(folder, name).rename(_notebook(folder, new_name))
    return change


def edit_notebook(name, edit):
    """Apply edit(notebook_dict) to a notebook of the submission, as raw JSON."""
    def change(folder, context):
        path = _notebook(folder, name)
        nb = json.loads(path.read_text())
        edit(nb)
        path.write_text(json.dumps(nb))
    return change


def _cells_with(nb, grade_id):
    return [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]


def delete_cell(grade_id):
    def edit(nb):
        nb["cells"] = [c for c in nb["cells"] if c not in _cells_with(nb, grade_id)]
    return edit


def rewrite_cell(grade_id, source):
    def edit(nb):
        for cell in _cells_with(nb, grade_id):
            cell["source"] = source
    return edit


def duplicate_cell(grade_id):
    def edit(nb):
        cell = _cells_with(nb, grade_id)[0]
        nb["cells"].insert(nb["cells"].index(cell) + 1, json.loads(json.dumps(cell)))
    return edit


def forge_outputs(nb):
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            points = cell["metadata"]["nbgrader"]["points"]
            cell["outputs"] = [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                                "data": {"text/plain": str(float(points))}}]


def symlink_to(name, target_key):
    def change(folder, context):
        path = _notebook(folder, name)
        path.unlink()
        os.symlink(context[target_key], path)
    return change


def huge_file(folder, context):
    with open(Path(folder) / "weights_backup.npy", "wb") as f:
        f.truncate(300 * 1024 * 1024)


OUTLIVES_NOTEBOOK = """
import os, time
if os.fork() == 0:                 # a daemon: double fork, its own session
    os.setsid()
    if os.fork() == 0:
        deadline = time.time() + 600
        while time.time() < deadline:  # plants links wherever the next notebook's files may go
            for name, target in [('02_batchnorm.ipynb', '{canary}'), ('nnkit', '{canary_dir}'),
                                 ('03_dropout.ipynb', '/nonexistent/dangling')]:
                for folder in ['.', '..', '/tmp']:
                    try:
                        os.symlink(target, os.path.join(folder, name))
                    except OSError:
                        pass
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
"""

PLANTED_LINKS = """
import os
for name, target in [('02_batchnorm.ipynb', '{canary}'), ('nnkit2', '{canary_dir}'), ('dangling', '/nope/nothing'),
                     ('../fc_nets_link', '{course}')]:
    try:
        os.symlink(target, name)
    except OSError as exc:
        print('link refused', name, type(exc).__name__)
"""

HOST_FACTS_PROBE = """
import os, sys, glob
for path in ['/proc/self/mountinfo', '/proc/1/cmdline', '/proc/self/environ', '/proc/self/cmdline']:
    try:
        print('READ', path, open(path, 'rb').read()[:20000])
    except OSError as exc:
        print('no', path, type(exc).__name__)
print('ENV', dict(os.environ))
print('PATHS', sys.executable, sys.prefix, sys.base_prefix, sys.path, os.getcwd(), os.path.realpath('.'))
print('FILES', sorted(glob.glob('/opt/*')), sorted(glob.glob('/opt/*/*')), os.listdir('/'))
try:
    print('EXE', os.readlink('/proc/self/exe'))
except OSError as exc:
    print('no exe', type(exc).__name__)
import numpy
print('NUMPY', numpy.__file__)
"""

#: a broken affine_forward (swapped for the known-good one in composite tests), and an affine_relu_forward
#: that asks that known-good layer for a product of 60000 x 60000 (29 GB) before doing its job
HUGE_CALLBACK = """
def affine_relu_forward(x, w, b):
    try:
        affine_forward(np.ones((60000, 1)), np.ones((1, 60000)), np.zeros(60000))
    except Exception as exc:
        print('the huge call failed:', type(exc).__name__)
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)
"""

EMPTY_LIST_FLOOD = with_body("svm_loss", "return [[] for _ in range(5_000_000)], np.zeros_like(x)", "x, y")
DEEP_NESTING = with_body("softmax_loss", "v = []\nfor _ in range(100_000):\n    v = [v]\nreturn v, v", "x, y")

PRINTS_HIDDEN_INPUTS = with_body("affine_backward", """
x, w, b = cache
print('LEAK shape', x.shape, 'first', float(x.flat[0]))
N = x.shape[0]
return dout.dot(w.T).reshape(x.shape), x.reshape(N, -1).T.dot(dout), np.sum(dout, axis=0)
""", "dout, cache")

FILL_DISK = """
import os
written = 0
for path in ['/tmp/fill', 'fill']:
    try:
        with open(path, 'wb') as f:
            while written < 4 << 30:
                f.write(b'x' * (1 << 20))
                written += 1 << 20
    except OSError as exc:
        print('stopped after', written >> 20, 'MB:', type(exc).__name__)
    try:
        os.remove(path)
    except OSError:
        pass
"""

MARKUP = ('<script>document.title = "SCRIPT RAN"</script>\n<iframe src="javascript:alert(2)"></iframe>\n'
          '<img src="x" onerror="document.title = \'ONERROR RAN\'">\n<a href="javascript:alert(3)">a link</a>')


def add_markup(nb):
    """A markdown cell with live markup, and an experiment cell's output with a script in it."""
    nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": MARKUP})
    for cell in nb["cells"]:
        if "experiment" in cell.get("metadata", {}).get("tags", []):
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"text/html": "<script>document.title = 'OUTPUT SCRIPT RAN'</script>"
                                                      "<b>student html</b>", "text/plain": "html"}}]
            break


def corrupt_metadata(nb):
    """An answer cell's nbgrader metadata of the wrong type: nbgrader cannot grade the notebook."""
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "batchnorm_forward_solution":
            meta["points"] = "lots"
            meta["grade"] = "yes"


def attacks(solutions):
    """The corpus."""
    s = solutions
    return [
        Attack("suppress_tracebacks", "silences excepthook and stdout, with a broken relu_forward",
               {"relu_forward": "import sys\nsys.excepthook = lambda *a: None\nsys.stderr = sys.stdout = open('/dev/null', 'w')\n"
                                + BROKEN_RELU}, loses=("relu_forward",), contained_by="verdicts come from the judge"),
        Attack("patch_numpy", "makes numpy's comparisons always succeed, with a broken affine_forward",
               {"affine_forward": "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                                  "np.array_equal = lambda *a, **k: True\n" + BROKEN_AFFINE},
               loses=("affine_forward",), contained_by="numpy of the judge is not the student's"),
        Attack("patch_builtins", "replaces builtins, with a broken svm_loss",
               {"svm_loss": "import builtins\nbuiltins.AssertionError = KeyboardInterrupt\nbuiltins.print = lambda *a, **k: None\n"
                            "builtins.sorted = lambda *a, **k: []\n" + BROKEN_SVM},
               loses=("svm_loss",), contained_by="builtins of the judge are not the student's"),
        Attack("patch_test_helpers", "patches the checks and gradient helpers, with a broken relu_backward",
               {"relu_backward": "import nnkit.checks, nnkit.gradient_check\nnnkit.checks.Checks.score = lambda self: self.points\n"
                                 "nnkit.checks.assert_rel_error = lambda *a, **k: None\n"
                                 "nnkit.gradient_check.rel_error = lambda *a: 0.0\n" + BROKEN_RELU_BACKWARD},
               loses=("relu_backward",), contained_by="the helpers that judge run in the judge"),
        Attack("os_exit", "relu_forward calls os._exit", {"relu_forward": with_body("relu_forward", "import os\nos._exit(0)", "x")},
               loses=("relu_forward",), contained_by="process restarted; only calls into relu_forward fail"),
        Attack("sys_exit", "softmax_loss calls sys.exit", {"softmax_loss": with_body("softmax_loss", "import sys\nsys.exit('done')", "x, y")},
               loses=("softmax_loss",), contained_by="SystemExit is an error of that call"),
        Attack("kill_parent", "svm_loss kills its parent process",
               {"svm_loss": with_body("svm_loss", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(os.getpid(), signal.SIGKILL)", "x, y")},
               loses=("svm_loss",), contained_by="the parent is the sandbox's own init in a PID namespace"),
        Attack("read_other_students", "reads another student's notebook, the source and the gradebook",
               {"affine_backward": prefixed(READ_PROBE, "affine_backward", s)},
               contained_by="the sandbox shows only the student's own copy"),
        Attack("write_gradebook", "overwrites and deletes the gradebook, the source and another submission",
               {"affine_forward": prefixed(WRITE_PROBE, "affine_forward", s)},
               contained_by="nothing outside the private copy is visible or writable"),
        Attack("network", "connects to a server on the grading machine and outside",
               {"relu_forward": prefixed(NETWORK_PROBE, "relu_forward", s)},
               contained_by="no network namespace interfaces but the sandbox's own loopback"),
        Attack("infinite_loop", "relu_backward never returns",
               {"relu_backward": with_body("relu_backward", "while True:\n    pass", "dout, cache")},
               loses=("relu_backward",), contained_by="per-cell time limit"),
        Attack("fork_bomb", "softmax_loss forks without end",
               {"softmax_loss": with_body("softmax_loss", "import os\nwhile True:\n    os.fork()", "x, y")},
               loses=("softmax_loss",), contained_by="process limit of the sandbox user"),
        Attack("memory_bomb", "svm_loss allocates 1 TB",
               {"svm_loss": with_body("svm_loss", "hog = np.ones(1 << 40, dtype=np.uint8)\nreturn 0.0, hog", "x, y")},
               loses=("svm_loss",), contained_by="address-space limit: MemoryError"),
        Attack("output_flood", "prints 100 MB when its cell runs",
               {"affine_forward": prefixed("print('spam ' * (20 * 1024 * 1024))", "affine_forward", s)},
               contained_by="output capped at 64 KB per cell"),
        Attack("forged_outputs", "stores full-score outputs in every test cell, with a broken affine_forward",
               {"affine_forward": BROKEN_AFFINE}, after=edit_notebook("01_layers.ipynb", forge_outputs),
               loses=("affine_forward",), contained_by="outputs of graded cells are cleared before execution"),
        Attack("deleted_test_cell", "deletes the affine_forward test cells",
               after=edit_notebook("01_layers.ipynb", lambda nb: (delete_cell("affine_forward")(nb),
                                                                   delete_cell("affine_forward_properties")(nb))),
               contained_by="deleted test cells are restored from the source"),
        Attack("edited_test_cell", "rewrites the relu_forward test to return full marks, with a broken relu_forward",
               {"relu_forward": BROKEN_RELU}, after=edit_notebook("01_layers.ipynb", rewrite_cell("relu_forward", "3.0")),
               loses=("relu_forward",), contained_by="nbgrader overwrites locked cells with the source"),
        Attack("duplicated_cell_ids", "pastes a second copy of the relu_forward answer cell (same ids)",
               after=edit_notebook("01_layers.ipynb", duplicate_cell("relu_forward_solution")),
               contained_by="duplicate ids de-duplicated, the copy graded as plain code"),
        Attack("invalid_json", "04_update_rules.ipynb is not JSON",
               after=replace_file("04_update_rules.ipynb", b'{"cells": [ this is not json'),
               zero_notebooks=("04_update_rules",), contained_by="the notebook is left out with a message"),
        Attack("non_utf8", "03_dropout.ipynb is not UTF-8",
               after=replace_file("03_dropout.ipynb", b'{"cells": [], "x": "\xff\xfe\xfa"}'),
               zero_notebooks=("03_dropout",), contained_by="the notebook is left out with a message"),
        Attack("missing_notebook", "hands in without 03_dropout.ipynb", after=delete_file("03_dropout.ipynb"),
               zero_notebooks=("03_dropout",), contained_by="nbgrader scores a missing notebook 0"),
        Attack("renamed_notebook", "saved 02_batchnorm.ipynb as '02_batchnorm (1).ipynb'",
               after=rename_file("02_batchnorm.ipynb", "02_batchnorm (1).ipynb"),
               contained_by="recognised by its answer cells and graded"),
        Attack("symlinked_notebook", "01_layers.ipynb is a link to another student's notebook",
               after=symlink_to("01_layers.ipynb", "victim_notebook"),
               zero_notebooks=("01_layers",), contained_by="links are not followed"),
        Attack("huge_extra_file", "adds a 300 MB file", after=huge_file,
               contained_by="files over 20 MB are not copied"),
        # --- round 2 -----------------------------------------------------------------------------
        Attack("outlives_notebook", "starts a daemon (double fork, setsid) that plants links for the next notebooks",
               {"affine_forward": prefixed(OUTLIVES_NOTEBOOK, "affine_forward", s)},
               contained_by="a sandbox per notebook: its process namespace dies with it, nothing host-side is shared"),
        Attack("planted_links", "plants links to host files where notebooks and the support package go",
               {"relu_forward": prefixed(PLANTED_LINKS, "relu_forward", s),
                "dropout_forward": prefixed(PLANTED_LINKS, "dropout_forward", s)},
               contained_by="the working folder is written inside the sandbox; the grader writes nothing there"),
        Attack("host_facts", "prints the mount table, pid 1's command line, the environment and every path",
               {"softmax_loss": prefixed(HOST_FACTS_PROBE, "softmax_loss", s)},
               contained_by="no /proc, neutral mount points, a fixed environment"),
        Attack("huge_known_good_call", "a broken affine_forward, and an affine_relu_forward that makes the "
               "known-good affine_forward compute a 29 GB product", {"affine_forward": BROKEN_AFFINE,
                                                                     "affine_relu_forward": HUGE_CALLBACK},
               loses=("affine_forward",), contained_by="known-good blocks run in a resource-limited sandbox"),
        Attack("empty_list_flood", "svm_loss returns five million empty lists", {"svm_loss": EMPTY_LIST_FLOOD},
               loses=("svm_loss",), contained_by="the decoder bounds a message's items before allocating"),
        Attack("deep_nesting", "softmax_loss returns a list nested 100000 deep", {"softmax_loss": DEEP_NESTING},
               loses=("softmax_loss",), contained_by="the wire format bounds nesting"),
        Attack("prints_hidden_inputs", "affine_backward prints its inputs (the hidden tests' shapes and values)",
               {"affine_backward": PRINTS_HIDDEN_INPUTS},
               contained_by="student output during hidden checks is left out of the feedback"),
        Attack("fills_the_disk", "writes 4 GB to /tmp and to its working folder",
               {"relu_backward": prefixed(FILL_DISK, "relu_backward", s)},
               contained_by="the sandbox's folders are size-limited tmpfs"),
        Attack("live_markup", "a markdown cell with <script>, a javascript: iframe and onerror, and a script in "
               "an experiment cell's output", after=edit_notebook("05_networks.ipynb", add_markup),
               contained_by="feedback HTML is sanitised"),
        Attack("broken_metadata", "02_batchnorm's answer cell metadata is corrupted (nbgrader cannot read it)",
               after=edit_notebook("02_batchnorm.ipynb", corrupt_metadata),
               contained_by="staging puts the released metadata back, with a message"),
        Attack("uid_probe", "reports its user id", {"sgd": prefixed("import os\nprint('UID', os.getuid(), os.getgid())",
                                                                    "sgd", s)},
               contained_by="an unprivileged user id leased by this grading process"),
    ]


def build_attack(course, attack, context):
    """Write the attack's submission under submitted/; returns its folder."""
    replacements = {}
    for function, source in attack.replacements.items():
        for key, value in context.items():
            source = source.replace("{" + key + "}", str(value))
        replacements[f"{function}_solution"] = source
    folder = build_submission(course, ASSIGNMENT, attack.student_id, replacements=replacements)
    if attack.after is not None:
        attack.after(folder, context)
    return folder
