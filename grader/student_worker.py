"""The student side of split execution: runs inside the sandbox, never beside the tests.

It executes the student's cells in a namespace of their own and answers the
judge's requests (call a function, read an attribute) with plain data over
two pipes. It sets its resource limits before running any student code.

Usage (inside the sandbox): python student_worker.py IN_FD OUT_FD
"""
from builtins import any, callable, classmethod, dict, enumerate, float, getattr, id, int, isinstance, len, list, repr, setattr, staticmethod, str, type  # noqa: A004 (student code may replace builtins: keep the originals)
import ast
import base64
import contextlib
import io
import os
import resource
import sys
import time
import traceback
import types

import wire

OUTPUT_LIMIT = 64 * 1024
#: student code runs at a lower CPU priority than the grader: a runaway loop waiting for its
#: time limit then slows the grading of other submissions as little as possible
STUDENT_NICENESS = 10
#: with the kernel's autogroup scheduling, a session's processes share one group, and nice only
#: ranks processes inside their group: the sandbox's session gets the same niceness as a group
AUTOGROUP = "/proc/self/autogroup"
#: fields of a reply that are left out when empty
OPTIONAL_FIELDS = ("stdout", "stderr", "error", "args_changed", "kwargs_changed", "figures")


class CappedText(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_LIMIT characters and counts the rest."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = OUTPUT_LIMIT - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self):
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more characters]\n"
        return text


def drop_empty_fields(message):
    """Smaller messages: the judge reads a missing optional field as empty."""
    for key in OPTIONAL_FIELDS:
        if key in message and not message[key]:
            del message[key]
    return message


class Worker:
    def __init__(self, in_fd, out_fd):
        self.in_fd, self.out_fd = in_fd, out_fd
        self.module = types.ModuleType("__main__")
        self.ns = self.module.__dict__
        sys.modules["__main__"] = self.module
        self.handles, self.handle_of, self.next_handle = {}, {}, 1
        self.saved_bindings = {}
        self.cell_count = 0
        self.pid = os.getpid()

    # --- handles --------------------------------------------------------------------------
    def keep(self, obj):
        if id(obj) in self.handle_of:
            return self.handle_of[id(obj)]
        hid = self.next_handle
        self.next_handle += 1
        self.handles[hid] = obj
        self.handle_of[id(obj)] = hid
        return hid

    def resolve(self, hid):
        if hid not in self.handles:
            raise wire.WireError(f"unknown handle {hid}")
        return self.handles[hid]

    def guard_forks(self):
        """A process forked by student code must never speak on the judge's channel."""
        if os.getpid() != self.pid:
            os._exit(0)

    def send(self, message):
        self.guard_forks()
        drop_empty_fields(message)
        wire.write_message(self.out_fd, wire.encode(message, keep=self.keep))

    def receive(self):
        self.guard_forks()
        return wire.decode(wire.read_message(self.in_fd), resolve=self.resolve)

    # --- output capture ---------------------------------------------------------------------
    def run_captured(self, fn):
        """Run fn() with stdout and stderr captured; returns (ok, value, out, err, error)."""
        out, err = CappedText(), CappedText()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            value = fn()
            ok, error = True, None
        except BaseException as exc:  # student code may raise anything, SystemExit included
            ok, value, error = False, None, self.describe(exc)
        finally:
            sys.stdout, sys.stderr = saved
        return ok, value, out.getvalue(), err.getvalue(), error

    @staticmethod
    def describe(exc):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<")]
        lines = [f'  {f.filename}, line {f.lineno}, in {f.name}' for f in frames[-5:]]
        if isinstance(exc, SyntaxError):
            lines = [f"  {exc.filename}, line {exc.lineno}: {(exc.text or '').rstrip()}"]
        return {"ename": type(exc).__name__, "evalue": str(exc)[:2000], "where": lines}

    # --- requests ---------------------------------------------------------------------------
    def op_exec(self, msg):
        self.cell_count += 1
        name = f"<cell {msg.get('name') or self.cell_count}>"
        source = self.transform(msg["source"])

        def run():
            tree = ast.parse(source, filename=name)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, name, "exec"), self.ns)
            if last is not None:
                return eval(compile(last, name, "eval"), self.ns)
            return None

        ok, value, out, err, error = self.run_captured(run)
        result = None
        if ok and value is not None:
            result = self.safe_repr(value)
        return {"ok": ok, "stdout": out, "stderr": err, "error": error, "result": result,
                "figures": self.collect_figures()}

    def transform(self, source):
        """IPython syntax (magics, shell escapes) to Python, as a notebook kernel would do it.

        A cell that compiles as plain Python is left alone without importing IPython: IPython's
        escapes (%magic, !shell, help?) only count at the start or end of a logical line,
        where they are never valid Python.
        """
        self.ns.setdefault("get_ipython", lambda: _QuietShell())
        try:
            compile(source, "<cell>", "exec")
            return source
        except (SyntaxError, ValueError):  # magics, pasted prompts, indented cells, ...: IPython's job
            pass
        try:
            from IPython.core.inputtransformer2 import TransformerManager
        except ImportError:  # plain Python cells still run
            return source
        try:
            return TransformerManager().transform_cell(source)
        except Exception:  # leave it to the compiler to report
            return source

    @staticmethod
    def safe_repr(value):
        try:
            return repr(value)[:OUTPUT_LIMIT]
        except Exception as exc:  # a broken __repr__ in student code
            return f"<unprintable {type(value).__name__}: {exc}>"

    @staticmethod
    def collect_figures():
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None or isinstance(plt, LazyPyplot):   # not imported, or never used
            return []
        figures = []
        for num in plt.get_fignums()[:20]:
            buf = io.BytesIO()
            try:
                plt.figure(num).savefig(buf, format="png", dpi=72)
                figures.append(base64.b64encode(buf.getvalue()).decode("ascii"))
            except Exception:  # a figure the student broke is skipped
                pass
        plt.close("all")
        return figures

    def op_names(self, msg):
        """Public functions and classes the student's cells defined."""
        names = {}
        for key, value in list(self.ns.items()):
            if key.startswith("_"):
                continue
            if isinstance(value, type):
                names[key] = "class"
            elif callable(value):
                names[key] = "function"
        return {"ok": True, "names": names}

    def target(self, msg):
        if "handle" in msg:
            obj = self.resolve(msg["handle"])
        else:
            if msg["name"] not in self.ns:
                raise NameError(f"name '{msg['name']}' is not defined")
            obj = self.ns[msg["name"]]
        for attr in msg.get("path", []):
            obj = getattr(obj, attr)
        return obj

    def op_call(self, msg):
        return self.call(lambda: self.target(msg), msg.get("args", []), msg.get("kwargs", {}))

    def call(self, function, args, kwargs):
        """The reply to a call: its result, output, error and the arguments it may have changed."""
        before = wire.snapshot_arrays(args)
        ok, value, out, err, error = self.run_captured(lambda: function()(*args, **kwargs))
        return {"ok": ok, "result": value, "stdout": out, "stderr": err, "error": error,
                "args_changed": wire.mutable_arguments(args, before),
                "kwargs_changed": {k: v for k, v in kwargs.items() if isinstance(v, (dict, list))
                                   or hasattr(v, "shape")}}

    def op_perturbed_calls(self, msg):
        """The remaining calls of a numerical-gradient loop, run here: one request instead of one per call.

        The judge's loop (nnkit.gradient_check) perturbs one entry of an array at a time by +h and
        -h and calls the student's function on it. The judge ran the first call itself; this runs
        the rest of the same loop with the same arithmetic, each call on fresh copies of its
        arguments as if sent over the wire, and replies with every call's reply, in order. It
        stops after a call that fails or changes in place an argument the next call gets (the
        judge then goes on call by call), or when the loop itself would fail.

        msg: the target, "args" and "kwargs" of the next call (the perturbed array at "position",
        its entry "first_index" at "first_old" - h), "indices" of the entries after it, "h", and
        the positions ("shared") and keywords ("shared_keys") of arguments that are the same
        objects on every call (the others are fresh copies, whose changes are dropped).
        """
        args, kwargs, position, h = list(msg["args"]), msg["kwargs"], msg["position"], msg["h"]
        shared, shared_keys = msg["shared"], msg["shared_keys"]   # objects the judge's f passes on every call
        state = args[position]     # the judge's array, as its loop leaves it before each call
        replies = []

        def call_once():
            call_args = wire.round_trip([state if i == position else a for i, a in enumerate(args)])
            call_kwargs = wire.round_trip(kwargs)
            reply = drop_empty_fields(self.call(lambda: self.target(msg), call_args, call_kwargs))
            replies.append(wire.round_trip(reply, keep=self.keep, resolve=self.resolve))   # as sent now
            unchanged = all(wire.same_value(call_args[i], state if i == position else args[i]) for i in shared) \
                and all(wire.same_value(call_kwargs[k], kwargs[k]) for k in shared_keys)
            return reply["ok"] and unchanged

        try:
            if call_once():
                state[tuple(msg["first_index"])] = msg["first_old"]
                for index in map(tuple, msg["indices"]):
                    old = state[index]
                    state[index] = old + h
                    if not call_once():
                        break
                    state[index] = old - h
                    if not call_once():
                        break
                    state[index] = old
        except (IndexError, TypeError, ValueError):   # the judge's loop fails at the same step
            pass
        return {"ok": True, "replies": replies}

    def op_getattr(self, msg):
        ok, value, out, err, error = self.run_captured(lambda: self.target(msg))
        if ok and isinstance(value, dict):
            return {"ok": True, "dict": True, "keys": [k for k in value if isinstance(k, str)]}
        if ok and callable(value) and not isinstance(value, type):
            return {"ok": True, "callable": True}
        return {"ok": ok, "result": value, "stdout": out, "stderr": err, "error": error}

    def op_setattr(self, msg):
        def run():
            obj = self.target({**msg, "path": msg.get("path", [])[:-1]})
            setattr(obj, msg["path"][-1], msg["value"])
        ok, _, out, err, error = self.run_captured(run)
        return {"ok": ok, "stdout": out, "stderr": err, "error": error}

    def op_item(self, msg):
        """Get, set or delete an item of a dict attribute (live views of e.g. model.params)."""
        def run():
            container = self.target(msg)
            if msg["action"] == "get":
                return container[msg["key"]]
            if msg["action"] == "set":
                container[msg["key"]] = msg["value"]
            elif msg["action"] == "delete":
                del container[msg["key"]]
            elif msg["action"] == "update":
                container.update(msg["value"])
            return None
        ok, value, out, err, error = self.run_captured(run)
        return {"ok": ok, "result": value, "stdout": out, "stderr": err, "error": error}

    def op_param_losses(self, msg):
        """Losses of a model with parameter entries perturbed by +h and -h (for numerical gradients).

        The same loop as nnkit.gradient_check.eval_numerical_param_gradients, at the flat indices
        the judge chose, run here so that it costs one request instead of two per evaluation;
        the judge computes the gradients.
        """
        import numpy as np

        model, X, y, h = self.resolve(msg["handle"]), msg["X"], msg["y"], float(msg["h"])

        def run():
            losses = {}
            for name, indices in msg["indices"].items():
                original = model.params[name]
                x = np.array(original, dtype=np.float64, copy=True)
                flat = x.reshape(-1)
                plus, minus = np.zeros(len(indices)), np.zeros(len(indices))
                for k, i in enumerate(indices):
                    old = flat[i]
                    flat[i] = old + h
                    model.params[name] = x
                    plus[k] = float(model.loss(X, y)[0])
                    flat[i] = old - h
                    model.params[name] = x
                    minus[k] = float(model.loss(X, y)[0])
                    flat[i] = old
                model.params[name] = original
                losses[name] = (plus, minus)
            return losses

        ok, value, out, err, error = self.run_captured(run)
        return {"ok": ok, "result": value, "stdout": out, "stderr": err, "error": error}

    def op_bind(self, msg):
        """Replace names by stubs that call back into the judge, wherever student code looks them up.

        That is the notebook's namespace and the globals of every function it holds that uses the
        name (functions imported from earlier notebooks with import_solutions keep the namespace
        they were run in, where the name may be missing when its own cell failed).
        """
        for name in msg["names"]:
            stub = self.callback_stub(name)
            for space in self.namespaces_using(name):
                self.saved_bindings.setdefault((id(space), name), (space, space.get(name, _ABSENT)))
                space[name] = stub
        return {"ok": True}

    def op_unbind(self, msg):
        for key in [k for k in self.saved_bindings if k[1] in msg["names"]]:
            space, value = self.saved_bindings.pop(key)
            if value is _ABSENT:
                space.pop(key[1], None)
            else:
                space[key[1]] = value
        return {"ok": True}

    def namespaces_using(self, name):
        """The notebook namespace, and the globals of every student function whose code names `name`."""
        spaces = {id(self.ns): self.ns}
        for value in list(self.ns.values()):
            for function in _functions_in(value):
                space = getattr(function, "__globals__", None)
                if isinstance(space, dict) and _names_global(function.__code__, name):
                    spaces.setdefault(id(space), space)
        return list(spaces.values())

    def callback_stub(self, name):
        worker = self

        def stub(*args, **kwargs):
            worker.send({"type": "callback", "name": name, "args": list(args), "kwargs": kwargs})
            reply = worker.receive()
            if reply.get("type") != "callback_result":
                raise RuntimeError("grading protocol error")
            if not reply.get("ok"):
                raise RuntimeError(f"{name} failed: {reply.get('error')}")
            wire.apply_changes(args, kwargs, reply.get("args_changed"), reply.get("kwargs_changed"))
            return reply["result"]

        stub.__name__ = name
        return stub

    def serve(self):
        ops = {"exec": self.op_exec, "names": self.op_names, "call": self.op_call, "getattr": self.op_getattr,
               "setattr": self.op_setattr, "item": self.op_item, "bind": self.op_bind, "unbind": self.op_unbind,
               "param_losses": self.op_param_losses,
               "perturbed_calls": self.op_perturbed_calls}
        while True:
            try:
                msg = self.receive()
            except EOFError:
                return
            op = ops.get(msg.get("op"))
            if op is None:
                reply = {"ok": False, "error": {"ename": "ProtocolError", "evalue": "unknown request", "where": []}}
            else:
                try:
                    reply = op(msg)
                except BaseException as exc:  # e.g. a student object whose attribute access raises
                    reply = {"ok": False, "error": self.describe(exc), "stdout": "", "stderr": ""}
            reply["type"] = "reply"
            try:
                self.send(reply)
            except wire.WireError as exc:
                self.send({"type": "reply", "ok": False, "stdout": "", "stderr": "",
                           "error": {"ename": "ValueError", "evalue": f"the result cannot be graded: {exc}",
                                     "where": []}})


_ABSENT = object()


def _names_global(code, name, depth=0):
    """Whether a code object (or one nested in it) may look `name` up as a global."""
    if name in code.co_names:
        return True
    return depth < 10 and any(isinstance(const, types.CodeType) and _names_global(const, name, depth + 1)
                              for const in code.co_consts)


def _functions_in(value):
    """A function, or the functions and methods defined in a class body (nothing else)."""
    if isinstance(value, types.FunctionType):
        return [value]
    if not isinstance(value, type):
        return []
    try:
        members = list(type.__dict__["__dict__"].__get__(value).values())
    except Exception:  # a class student code made unreadable
        return []
    out = []
    for member in members:
        member = getattr(member, "__func__", member) if isinstance(member, (staticmethod, classmethod)) else member
        if isinstance(member, types.FunctionType):
            out.append(member)
    return out


class _QuietShell:
    """What get_ipython() returns here: magics and shell escapes do nothing when grading."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def apply_limits():
    """Resource limits from the environment, set before any student code runs (hard = soft)."""
    for name, variable in (("RLIMIT_AS", "GRADER_LIMIT_MEMORY"), ("RLIMIT_CPU", "GRADER_LIMIT_CPU"),
                           ("RLIMIT_NPROC", "GRADER_LIMIT_PROCESSES"), ("RLIMIT_FSIZE", "GRADER_LIMIT_FILE_SIZE"),
                           ("RLIMIT_NOFILE", "GRADER_LIMIT_OPEN_FILES")):
        value = os.environ.get(variable)
        if value:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))


class LazyPyplot(types.ModuleType):
    """Stands in for matplotlib.pyplot until a cell uses it, then becomes it.

    The notebooks' setup cells import pyplot, but only the experiment cells, which grading
    skips, use it; its import (about half a second) then happens only if a cell plots. The
    import system reads only dunder attributes (e.g. __spec__), which do not load it.
    """

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        import importlib

        import matplotlib

        del sys.modules["matplotlib.pyplot"]
        real = importlib.import_module("matplotlib.pyplot")
        self.__dict__.update(real.__dict__)   # names already bound to this stand-in keep working
        matplotlib.pyplot = real
        return getattr(real, name)


def lower_priority():
    """Yield the CPU to the grader: nice for this process, and for its session's scheduling group."""
    os.nice(STUDENT_NICENESS)
    try:
        with open(AUTOGROUP, "w") as group:
            group.write(str(STUDENT_NICENESS))
    except OSError:   # a kernel without autogroup scheduling: nice alone decides
        pass


def preload():
    """Import what nearly every notebook imports, once, before any notebook's process is forked."""
    import importlib.util

    import numpy

    numpy.random.seed()   # the first seeding from OS entropy loads its helpers (~20 ms); each fork re-seeds
    try:
        import matplotlib
    except ImportError:  # plotting too
        return
    matplotlib.use("Agg")
    stand_in = LazyPyplot("matplotlib.pyplot")
    stand_in.__spec__ = importlib.util.find_spec("matplotlib.pyplot")
    sys.modules["matplotlib.pyplot"] = matplotlib.pyplot = stand_in


def fresh_randomness():
    """A forked process starts with fresh random states, as a new kernel would."""
    import random

    import numpy as np

    random.seed()
    np.random.seed()


def zygote(control_fd):
    """Fork one student process per notebook, on request, from this warmed-up process.

    Requests arrive on the control socket, one line each:
    - "spawn": fork a student process; reply with its pid and one end of a new socket pair
      (passed as a file descriptor), the channel to the new process
    - "kill PID": kill the process group of a student process (a runaway notebook)
    - "status PID": how a student process ended ("running", "exit N" or "signal N")
    Student processes put themselves in their own process group; this process holds no
    secrets (only the student's own files are in its view).
    """
    import signal
    import socket

    control = socket.socket(fileno=control_fd)
    ended = {}

    def reap():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            ended[pid] = f"signal {-os.waitstatus_to_exitcode(status)}" if os.WIFSIGNALED(status) \
                else f"exit {os.waitstatus_to_exitcode(status)}"

    reader = control.makefile("r")
    for line in reader:
        reap()
        words = line.split()
        if not words:
            continue
        if words[0] == "spawn":
            parent_end, child_end = socket.socketpair()
            pid = os.fork()
            if pid == 0:
                os.setpgid(0, 0)
                reader.close()
                control.close()
                parent_end.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                fresh_randomness()
                fd = child_end.detach()
                try:
                    Worker(fd, fd).serve()
                finally:
                    os._exit(0)
            with contextlib.suppress(OSError):
                os.setpgid(pid, pid)
            child_end.close()
            socket.send_fds(control, [f"{pid}\n".encode()], [parent_end.fileno()])
            parent_end.close()
        elif words[0] == "kill" and len(words) == 2 and words[1].isdigit():
            with contextlib.suppress(OSError):
                os.killpg(int(words[1]), signal.SIGKILL)
            control.sendall(b"ok\n")
        elif words[0] == "status" and len(words) == 2 and words[1].isdigit():
            pid = int(words[1])
            for _ in range(100):  # a process that just closed its channel is about to end
                reap()
                if pid in ended:
                    break
                time.sleep(0.01)
            control.sendall(f"{ended.get(pid, 'running')}\n".encode())
        else:
            control.sendall(b"error\n")


def main():
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)   # output written below Python's sys.stdout goes nowhere
    os.dup2(devnull, 2)
    apply_limits()
    lower_priority()
    sys.argv, args = ["notebook"], sys.argv[1:]
    sys.path.insert(0, os.getcwd())
    if args[0] == "--zygote":
        preload()
        zygote(int(args[1]))
    else:
        Worker(int(args[0]), int(args[1])).serve()


if __name__ == "__main__":
    main()
