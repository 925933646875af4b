"""Split execution: test cells run in the trusted judge, student code in the sandbox.

The judge executes a notebook cell by cell. Student cells (answers, plain code)
run in a sandboxed student process. Test cells run here, in the grader's own
process, with the student's functions and classes replaced by proxies that
send plain data (numpy arrays, numbers, strings, lists, dicts) to the student
process and read plain data back. Nothing the student's code does can reach
the test code, its helpers or its verdict: the verdict is computed here from
the values the student's functions returned.

While grading, the tests of composite functions run with known-good building
blocks (`nnkit.notebooks.known_good`): the student's process then calls back
into the judge for those blocks, which run here.
"""
import ast
import builtins
import collections
import contextlib
import functools
import inspect
import io
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import MutableMapping

import numpy as np

from . import wire
from .sandbox import Limits, bwrap_command, kill_process_group, unsandboxed_command

CELL_TIMEOUT_MESSAGE = ("this cell was stopped after {timeout:g} s (an infinite loop or a very slow function?); "
                        "its tests score 0 and the other cells were graded normally")
OUTPUT_LIMIT = 64 * 1024
#: nnkit.gradient_check helpers whose loops of student calls run as one request (PerturbationBatch)
PERTURBATION_LOOPS = ("eval_numerical_gradient", "eval_numerical_gradient_array")


class CellTimeout(BaseException):
    """The cell's time ran out (a BaseException: checks do not swallow it)."""


class StudentCodeError(Exception):
    """An exception raised by student code that has no builtin equivalent here."""


class StudentProcessDied(Exception):
    """The student process ended (sys.exit, os._exit, a crash, a resource limit)."""


class StudentProcess:
    """One sandboxed student process and the request/reply channel to it.

    Inputs:
    - workdir: folder the student sees as its working directory (a private copy)
    - sandboxed: run under bubblewrap (False only when the instructor opted out)
    - uid: unprivileged user id for the sandbox (when the grader runs as root)
    - limits: resource Limits
    - zygote: a grader.zygote.Zygote on `workdir` to fork the process from (None: start one of its own)
    """

    def __init__(self, workdir, sandboxed=True, uid=65500, limits=Limits(), zygote=None):
        self.workdir, self.sandboxed, self.uid, self.limits, self.zygote = workdir, sandboxed, uid, limits, zygote
        self.proc = None        # the process, when started on its own
        self.child_pid = self.channel = None   # the process and its socket, when forked by the zygote
        self.out_fd = self.in_fd = None
        self.callbacks = {}
        self.deadline = None
        self.restart = None     # callable that restarts and restores the process when it died
        self.blocked = False    # while True, requests are refused (given code run by the judge)
        self.batch = None       # the PerturbationBatch of a numerical-gradient loop in progress

    def start(self):
        if self.zygote is not None:
            from .zygote import ZygoteError

            try:
                if not self.zygote.alive:
                    self.zygote.start()
                self.child_pid, fd = self.zygote.spawn()
            except ZygoteError:   # a student process broke the zygote: start a fresh one
                self.zygote.stop()
                self.zygote.start()
                self.child_pid, fd = self.zygote.spawn()
            self.channel = socket.socket(fileno=fd)
            self.out_fd = self.in_fd = fd
            return
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        if self.sandboxed:
            cmd = bwrap_command(self.workdir, self.uid, self.limits)
        else:
            cmd = unsandboxed_command(self.workdir, self.limits)
        cmd += [str(to_child_r), str(from_child_w)]
        env = None
        if not self.sandboxed:
            from .sandbox import WORKER_DIR, base_environment

            env = {**base_environment(self.limits), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "PYTHONPATH": str(WORKER_DIR)}
        self.proc = subprocess.Popen(cmd, pass_fds=(to_child_r, from_child_w), cwd=self.workdir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self.out_fd, self.in_fd = to_child_w, from_child_r

    def stop(self):
        if self.child_pid is not None:
            from .zygote import ZygoteError

            try:
                self.zygote.kill(self.child_pid)
            except ZygoteError:
                self.zygote.stop()
            self.channel.close()
            self.child_pid = self.channel = None
        if self.proc is not None:
            kill_process_group(self.proc)
            for fd in (self.out_fd, self.in_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.proc = None
        self.out_fd = self.in_fd = None

    def _ended(self):
        """Whether a forked student process closed its channel (it ended)."""
        try:
            return self.channel.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    @property
    def started(self):
        return self.proc is not None or self.child_pid is not None

    @property
    def alive(self):
        if self.child_pid is not None:
            return not self._ended()
        return self.proc is not None and self.proc.poll() is None

    def exit_description(self):
        if self.child_pid is not None:
            from .zygote import ZygoteError

            try:
                return self._describe_status(self.zygote.status(self.child_pid))
            except ZygoteError:
                return "the student process stopped answering"
        code = self.proc.poll() if self.proc else None
        if code is None:
            return "the student process stopped answering"
        return self._describe_status(f"signal {-code}" if code < 0 else f"exit {code}")

    @staticmethod
    def _describe_status(status):
        kind, _, number = status.partition(" ")
        if kind == "signal" and number.isdigit():
            name = signal.Signals(int(number)).name
            hint = " (out of memory or CPU time?)" if name in ("SIGKILL", "SIGXCPU", "SIGSEGV") else ""
            return f"the student process was killed by {name}{hint}"
        if kind == "exit":
            return f"the student process exited with status {number} (sys.exit or os._exit in student code?)"
        return "the student process stopped answering"

    def _wait(self, fd):
        timeout = None if self.deadline is None else self.deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise CellTimeout()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise CellTimeout()

    def request(self, message):
        """Send a request and return the reply, serving callbacks meanwhile."""
        if self.blocked:
            raise StudentCodeError("student code is not called while the judge runs given code")
        if not self.alive and self.restart is not None:
            self.restart()
        if not self.alive:
            raise StudentProcessDied("the student process is not running")
        try:
            data = wire.encode(message, keep=_handle_of)
        except wire.WireError as exc:
            raise TypeError(f"cannot pass this value to student code: {exc}")
        try:
            wire.write_message(self.out_fd, data)
            while True:
                reply = wire.decode(wire.read_message(self.in_fd, self._wait), resolve=self._proxy)
                if not isinstance(reply, dict):
                    raise wire.WireError("unexpected message")
                if reply.get("type") == "callback":
                    self._serve_callback(reply)
                    continue
                return reply
        except CellTimeout:
            self.stop()
            raise
        except (EOFError, BrokenPipeError, wire.WireError, OSError) as exc:
            description = self.exit_description() if not isinstance(exc, wire.WireError) else str(exc)
            self.stop()
            raise StudentProcessDied(description)

    def _serve_callback(self, message):
        function = self.callbacks.get(message.get("name"))
        if function is None:
            reply = {"type": "callback_result", "ok": False, "error": "not available"}
        else:
            try:
                args, kwargs = message.get("args", []), message.get("kwargs", {})
                before = wire.snapshot_arrays(args)
                result = function(*args, **kwargs)
                reply = {"type": "callback_result", "ok": True, "result": result}
                changed_args = wire.mutable_arguments(args, before)
                changed_kwargs = {k: v for k, v in kwargs.items() if isinstance(v, (np.ndarray, dict, list))}
                if changed_args:
                    reply["args_changed"] = changed_args
                if changed_kwargs:
                    reply["kwargs_changed"] = changed_kwargs
            except Exception as exc:  # a reference function rejecting the student's arguments
                reply = {"type": "callback_result", "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        try:
            data = wire.encode(reply)
        except wire.WireError as exc:
            data = wire.encode({"type": "callback_result", "ok": False, "error": str(exc)})
        wire.write_message(self.out_fd, data)

    def _proxy(self, handle_id):
        return RemoteObject(self, handle_id)


def _handle_of(obj):
    if isinstance(obj, RemoteObject):
        return object.__getattribute__(obj, "_handle")
    raise wire.WireError(f"cannot send a {type(obj).__name__} to student code")


# --- proxies ------------------------------------------------------------------------------------

def _raise_student_error(reply):
    error = reply.get("error") or {}
    ename, evalue = error.get("ename", "Error"), error.get("evalue", "")
    where = "; ".join(line.strip() for line in error.get("where", [])[-2:])
    message = f"{evalue}" + (f" ({where})" if where else "")
    exc_type = getattr(builtins, ename, None)
    exc = None
    if isinstance(exc_type, type) and issubclass(exc_type, Exception) and exc_type is not StopIteration:
        try:
            exc = exc_type(message)
        except TypeError:  # exception types whose constructor wants other arguments
            pass
    if exc is None:
        exc = StudentCodeError(f"{ename}: {message}")
    exc.location_in_message = True  # nnkit.checks then does not point into the judge
    raise exc


def _relay_output(reply):
    text = (reply.get("stdout") or "") + (reply.get("stderr") or "")
    if text:
        print(text, end="" if text.endswith("\n") else "\n")


class RemoteCallable:
    """A student function, class or method, called in the student process."""

    def __init__(self, process, name=None, handle=None, path=()):
        self._process, self._name, self._handle, self._path = process, name, handle, list(path)
        self.__name__ = name or (path[-1] if path else "method")

    def _target(self):
        return {"handle": self._handle, "path": self._path} if self._handle is not None \
            else {"name": self._name, "path": self._path}

    def __call__(self, *args, **kwargs):
        batch = self._process.batch
        reply = batch.reply_for(self._target(), args, kwargs) if batch is not None else None
        if reply is None:
            reply = self._process.request({"op": "call", **self._target(), "args": list(args), "kwargs": kwargs})
        _relay_output(reply)
        if not reply.get("ok"):
            _raise_student_error(reply)
        wire.apply_changes(args, kwargs, reply.get("args_changed"), reply.get("kwargs_changed"))
        if batch is not None:
            batch.called(args, kwargs)
        return reply.get("result")

    def __repr__(self):
        return f"<student code {self.__name__}>"


class PerturbationBatch:
    """Runs the student calls of one numerical-gradient loop in a single request.

    nnkit's eval_numerical_gradient(_array) perturbs one entry of x at a time by +h and -h and
    evaluates f; when f is a test's lambda around a student function, each evaluation costs a
    round trip to the student process. The first evaluation runs as usual and shows the call
    f makes. If it makes exactly one call, with x (or an equal copy) as one positional
    argument, the second evaluation's call asks the student process to run the rest of the
    loop there (student_worker's op_perturbed_calls), when its arguments are the first call's
    again: equal values, and the objects f passes again (not fresh copies) left unchanged by
    the first call. The student process stops after a call that changes such an object in
    place: later evaluations would see the change. Every later evaluation takes its call's
    reply, in order, after checking that the call is the expected one; any other call ends
    the batch and goes to the student process as usual. The verdict still comes from the
    replies alone: the student's function returns values, here as in a call of its own.
    """

    def __init__(self, process, x, h):
        self.process, self.x, self.h = process, x, h
        self.original = x.copy()
        self.evaluations = 0
        self.calls_this_evaluation = 0
        self.first = None         # the first evaluation's call: target, position of x, arguments (copies, objects)
        self.changed = set()      # positions and keywords of arguments that the first call changed in place
        self.replies = None       # the student process's replies for the evaluations still to come (a deque)

    def begin_evaluation(self):
        self.evaluations += 1
        self.calls_this_evaluation = 0

    def end_evaluation(self):
        if self.calls_this_evaluation != 1:
            self.stop()

    def stop(self):
        self.first = self.replies = None

    def reply_for(self, target, args, kwargs):
        """The reply for this call from the batch, or None: the caller sends it as usual."""
        self.calls_this_evaluation += 1
        if self.evaluations == 1 and self.calls_this_evaluation == 1:
            self._remember_first(target, args, kwargs)
            return None
        if self.first is None or self.calls_this_evaluation != 1 or not self._matches(target, args, kwargs):
            self.stop()
            return None
        if self.replies is None and self.evaluations == 2:
            self._run_rest_of_loop(target, args, kwargs)
        if not self.replies:
            self.stop()
            return None
        return self.replies.popleft()

    def _remember_first(self, target, args, kwargs):
        positions = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and wire.same_value(a, self.x)]
        if len(positions) != 1 or self.x.size < 2 or type(self.h) is not float:
            return
        try:
            copies = wire.round_trip(list(args), keep=_handle_of), wire.round_trip(kwargs, keep=_handle_of)
        except wire.WireError:
            return
        self.first = (target, positions[0], *copies, list(args), dict(kwargs))

    def called(self, args, kwargs):
        """After the first evaluation's call: note the arguments it changed in place."""
        if self.evaluations == 1 and self.first is not None:
            _, _, arg_copies, kwarg_copies, _, _ = self.first
            self.changed = {i for i, (a, c) in enumerate(zip(args, arg_copies)) if not wire.same_value(a, c)}
            self.changed |= {k for k, v in kwargs.items() if not wire.same_value(v, kwarg_copies.get(k))}

    def _matches(self, target, args, kwargs):
        first_target, position, arg_copies, kwarg_copies, _, _ = self.first
        return (target == first_target and len(args) == len(arg_copies)
                and wire.same_value(args[position], self.x)
                and all(wire.same_value(a, c) for i, (a, c) in enumerate(zip(args, arg_copies)) if i != position)
                and wire.same_value(kwargs, kwarg_copies))

    def _run_rest_of_loop(self, target, args, kwargs):
        _, position, _, _, first_args, first_kwargs = self.first
        # arguments f passes again (the same objects): their in-place changes carry over to later calls
        shared = [i for i, a in enumerate(args) if a is first_args[i] and isinstance(a, (np.ndarray, dict, list))]
        shared_keys = [k for k, v in kwargs.items() if v is first_kwargs.get(k) and isinstance(v, (np.ndarray, dict, list))]
        if self.changed & (set(shared) | set(shared_keys)):
            self.replies = collections.deque()
            return
        entries, order = np.nditer(self.x, flags=["multi_index"]), []   # the loop's order (memory layout)
        while not entries.finished:
            order.append(entries.multi_index)
            entries.iternext()
        reply = self.process.request({"op": "perturbed_calls", **target, "args": list(args), "kwargs": kwargs,
                                      "position": position, "shared": shared, "shared_keys": shared_keys,
                                      "first_index": list(order[0]), "first_old": self.original[order[0]],
                                      "h": self.h, "indices": [list(index) for index in order[1:]]})
        replies = reply.get("replies") if reply.get("ok") else None
        self.replies = collections.deque(r for r in replies if isinstance(r, dict)) \
            if isinstance(replies, list) else collections.deque()


class RemoteObject:
    """An object created by student code, kept in the student process."""

    def __init__(self, process, handle, path=()):
        object.__setattr__(self, "_process", process)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_path", list(path))

    def __getattr__(self, name):
        process, handle, path = (object.__getattribute__(self, k) for k in ("_process", "_handle", "_path"))
        reply = process.request({"op": "getattr", "handle": handle, "path": path + [name]})
        _relay_output(reply)
        if not reply.get("ok"):
            if (reply.get("error") or {}).get("ename") == "AttributeError":
                raise AttributeError(name)
            _raise_student_error(reply)
        if reply.get("callable"):
            return RemoteCallable(process, handle=handle, path=path + [name])
        if reply.get("dict"):
            return RemoteDict(process, handle, path + [name])
        return reply.get("result")

    def __setattr__(self, name, value):
        process, handle, path = (object.__getattribute__(self, k) for k in ("_process", "_handle", "_path"))
        reply = process.request({"op": "setattr", "handle": handle, "path": path + [name], "value": value})
        if not reply.get("ok"):
            _raise_student_error(reply)

    def __repr__(self):
        return "<student object>"


class RemoteDict(MutableMapping):
    """A live view of a dict attribute of a student object (e.g. model.params).

    Reading an item copies it here; assigning an item sends it to the student
    process. Changing a fetched array in place does not reach the student's object.
    """

    def __init__(self, process, handle, path):
        self._process, self._handle, self._path = process, handle, path

    def _item(self, action, key=None, value=None):
        reply = self._process.request({"op": "item", "handle": self._handle, "path": self._path,
                                       "action": action, "key": key, "value": value})
        if not reply.get("ok"):
            if (reply.get("error") or {}).get("ename") == "KeyError":
                raise KeyError(key)
            _raise_student_error(reply)
        return reply.get("result")

    def _keys(self):
        reply = self._process.request({"op": "getattr", "handle": self._handle, "path": self._path})
        if not reply.get("ok"):
            _raise_student_error(reply)
        return reply.get("keys", [])

    def __getitem__(self, key):
        return self._item("get", key)

    def __setitem__(self, key, value):
        self._item("set", key, value)

    def __delitem__(self, key):
        self._item("delete", key)

    def update(self, other=(), **kwargs):
        """All the items in one request (MutableMapping.update would send one per item)."""
        items = dict(other, **kwargs)
        if items:
            self._item("update", value=items)

    def __iter__(self):
        return iter(self._keys())

    def __len__(self):
        return len(self._keys())

    def __repr__(self):
        return f"<student dict with keys {self._keys()}>"


# --- running a notebook -------------------------------------------------------------------------

def cell_role(cell):
    """'test' for autograded test cells, 'given' for locked instructor code, else 'student'."""
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("locked") and not meta.get("solution"):
        return "given"
    return "student"


class CappedStdout(io.StringIO):
    def write(self, text):
        if self.tell() < OUTPUT_LIMIT:
            return super().write(str(text)[: OUTPUT_LIMIT - self.tell()])
        return len(text)


def stream(text, name="stdout"):
    from nbformat.v4 import new_output

    return new_output("stream", name=name, text=text)


def error_output(ename, evalue, where=()):
    from nbformat.v4 import new_output

    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", *where])


@functools.lru_cache(maxsize=256)
def compile_cell(source):
    """A cell's code compiled as (body, last expression or None), as a kernel runs it.

    Test cells are the instructor's in every submission (nbgrader overwrites edited ones), and
    given cells nearly always are: a grading process compiles each distinct source once.
    """
    tree = ast.parse(source)
    last = ast.Expression(tree.body.pop().value) if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    return compile(tree, "<test>", "exec"), compile(last, "<test>", "eval") if last is not None else None


class NotebookRun:
    """Execute one notebook with split execution; fills in every executed cell's outputs.

    Inputs:
    - nb: the notebook (nbformat NotebookNode), already sanitized by nbgrader
    - workdir: the student's private working folder (their notebooks and the support package)
    - reference: callable(notebooks) -> dict of known-good functions (the instructor's solutions)
    - timeout: seconds per cell
    - sandboxed, uid, limits: how to run the student process
    - skip_tags: student cells with any of these tags are not run (their outputs are kept)
    - zygote: the submission's grader.zygote.Zygote to fork the student process from (None: its own)
    """

    def __init__(self, nb, workdir, reference, timeout=30, sandboxed=True, uid=65500, limits=Limits(),
                 skip_tags=(), verified=(), functions=(), zygote=None):
        self.nb, self.workdir, self.reference, self.timeout = nb, workdir, reference, timeout
        self.verified = set(verified)       # functions that passed all their tests: used as they are
        self.functions = list(functions)    # graded function names, to map test cells to functions
        self.failed = set()                 # functions with a test cell below full marks in this run
        self.process = StudentProcess(workdir, sandboxed, uid, limits, zygote=zygote)
        self.process.restart = self.ensure_process
        self.skip_tags = set(skip_tags)
        self.namespace = {"__name__": "__judge__", "__builtins__": builtins}
        self.judge_names = set()
        self.replay = []            # student cells to re-run after a restart
        self.bindings = {}          # name -> known-good function, while a known_good block is active
        self.execution_count = 0
        self.restarts = 0

    # --- student process lifecycle ----------------------------------------------------------
    MAX_RESTARTS = 25
    KNOWN_GOOD_TIME_FACTOR = 4

    def ensure_process(self):
        """Start the student process, or restart it and restore its state after it died."""
        if self.process.alive:
            return
        if self.process.started or self.replay:
            self.restarts += 1
            if self.restarts > self.MAX_RESTARTS:
                raise StudentProcessDied(f"the student process died {self.MAX_RESTARTS} times; giving up")
        self.process.stop()
        self.process.start()
        saved_deadline, self.process.restart = self.process.deadline, None
        self.process.deadline = time.monotonic() + self.timeout * max(1, len(self.replay))
        try:
            for source in self.replay:
                self.process.request({"op": "exec", "source": source})
            if self.bindings:
                self.process.callbacks.update(self.bindings)
                self.process.request({"op": "bind", "names": list(self.bindings)})
        finally:
            self.process.deadline, self.process.restart = saved_deadline, self.ensure_process

    def refresh_proxies(self):
        reply = self.process.request({"op": "names"})
        for name, kind in reply.get("names", {}).items():
            if name in self.judge_names or not isinstance(name, str):
                continue
            if name not in self.bindings:
                self.namespace[name] = RemoteCallable(self.process, name=name)

    # --- hooks the notebooks' support code calls while judged ---------------------------------
    def import_solutions(self, *paths, **kwargs):
        """In the judge, student solutions are never imported: they are proxies instead."""
        return {}

    @contextlib.contextmanager
    def known_good(self, namespace, notebooks, names):
        """Swap in the instructor's versions of the named building blocks, in the judge and the sandbox.

        A building block that passed all of its own tests in this grading run is known to be good
        already, and the student's own is used. Only the others are swapped: in the judge and in
        every namespace the student's functions look names up in, so a student's layer utility
        that passed its tests (which ran with known-good parts) calls the known-good versions of
        the broken parts it uses, exactly as it did in its own tests.
        Calls back into the judge cost time that is not the student's, so the cell gets
        KNOWN_GOOD_TIME_FACTOR times its time limit.
        """
        names = [n for n in names if n not in self.verified]
        if names and self.process.deadline is not None:  # the judge's share of the work is not the student's time
            self.process.deadline = max(self.process.deadline,
                                        time.monotonic() + self.KNOWN_GOOD_TIME_FACTOR * self.timeout)
        reference = self.reference(notebooks) if names else {}
        missing = [n for n in names if n not in reference]
        if missing:
            raise RuntimeError("reference notebooks do not define %s" % ", ".join(missing))
        if not names:
            yield
            return
        saved = {n: namespace.get(n) for n in names}
        self.bindings = {n: reference[n] for n in names}
        namespace.update(self.bindings)
        self.process.callbacks.update(self.bindings)
        try:
            self.ensure_process()
            self.process.request({"op": "bind", "names": list(names)})
            yield
        finally:
            self.bindings = {}
            for n in names:
                self.process.callbacks.pop(n, None)
            with contextlib.suppress(StudentProcessDied, CellTimeout):
                if self.process.alive:
                    self.process.request({"op": "unbind", "names": list(names)})
            for n, v in saved.items():
                namespace[n] = v

    def param_gradients(self, model, X, y, names=None, h=1e-5, entries=None, seed=0):
        """nnkit's eval_numerical_param_gradients for a student model: one request per test.

        The judge picks the entries (nnkit's sample_entries); the perturbation loop runs beside
        the model (it can only report loss values, as any call can); the gradients are computed
        here from those values.
        """
        from nnkit.gradient_check import sample_entries

        if not isinstance(model, RemoteObject):
            return self._original_param_gradients(model, X, y, names=names, h=h, entries=entries, seed=seed)
        params = model.params
        names = sorted(params) if names is None else list(names)
        shapes = {name: np.shape(params[name]) for name in names}
        indices = {name: sample_entries(int(np.prod(shape, dtype=np.int64)), entries, seed).tolist()
                   for name, shape in shapes.items()}
        process, handle = (object.__getattribute__(model, k) for k in ("_process", "_handle"))
        reply = process.request({"op": "param_losses", "handle": handle, "indices": indices, "X": X, "y": y, "h": h})
        _relay_output(reply)
        if not reply.get("ok"):
            _raise_student_error(reply)
        losses = reply.get("result")
        if not isinstance(losses, dict) or set(losses) != set(names):
            raise StudentCodeError("the model's loss values could not be read")
        grads = {}
        for name in names:
            plus, minus = (np.asarray(v, dtype=np.float64).reshape(-1) for v in losses[name])
            if plus.size != len(indices[name]) or minus.size != len(indices[name]):
                raise StudentCodeError("the model's loss values could not be read")
            grad = np.full(shapes[name], np.nan)
            grad.flat[indices[name]] = (plus - minus) / (2 * h)
            grads[name] = grad
        return grads

    def batched(self, helper):
        """nnkit's numerical-gradient loop `helper`, its student calls run as one PerturbationBatch."""
        signature = inspect.signature(helper)

        @functools.wraps(helper)
        def run(f, x, *args, **kwargs):
            if not isinstance(x, np.ndarray) or self.process.batch is not None:
                return helper(f, x, *args, **kwargs)
            bound = signature.bind(f, x, *args, **kwargs)
            batch = PerturbationBatch(self.process, x, bound.arguments.get("h", signature.parameters["h"].default))

            def evaluate(value):
                batch.begin_evaluation()
                try:
                    return f(value)
                finally:
                    batch.end_evaluation()

            self.process.batch = batch
            try:
                return helper(evaluate, x, *args, **kwargs)
            finally:
                self.process.batch = None

        return run

    # --- cells ------------------------------------------------------------------------------
    def skipped(self, cell):
        """Student cells tagged to skip (experiments): not run, the student's own outputs kept."""
        return cell_role(cell) == "student" and bool(self.skip_tags & set(cell.metadata.get("tags", [])))

    def run(self):
        import nnkit.gradient_check as gradient_hooks
        import nnkit.notebooks as hooks

        originals = hooks.import_solutions, hooks.known_good, gradient_hooks.eval_numerical_param_gradients
        self._original_param_gradients = originals[2]
        hooks.import_solutions, hooks.known_good = self.import_solutions, self.known_good
        gradient_hooks.eval_numerical_param_gradients = self.param_gradients
        loops = {name: getattr(gradient_hooks, name) for name in PERTURBATION_LOOPS}
        for name, helper in loops.items():
            setattr(gradient_hooks, name, self.batched(helper))
        try:
            runnable = [cell for cell in self.nb.cells if cell.cell_type == "code" and not self.skipped(cell)]
            for cell in runnable:          # no output the student wrote may survive in a graded cell
                cell.outputs = []
                cell.execution_count = None
            for cell in runnable:
                role = cell_role(cell)
                self.execution_count += 1
                cell.execution_count = self.execution_count
                if role == "given":
                    self.run_judge_setup(cell)
                if role in ("given", "student"):
                    self.run_student_cell(cell)
                if role == "test":
                    self.run_test_cell(cell)
                    self.record_verdict(cell)
                    self.verified |= self.completed_functions(cell)
        finally:
            hooks.import_solutions, hooks.known_good, gradient_hooks.eval_numerical_param_gradients = originals
            for name, helper in loops.items():
                setattr(gradient_hooks, name, helper)
            self.process.stop()
        return self.nb

    def run_student_cell(self, cell):
        from nbformat.v4 import new_output

        try:
            self.ensure_process()
            self.process.deadline = time.monotonic() + self.timeout
            reply = self.process.request({"op": "exec", "source": cell.source})
        except CellTimeout:
            cell.outputs.append(error_output("CellTimeoutError", CELL_TIMEOUT_MESSAGE.format(timeout=self.timeout)))
            return
        except StudentProcessDied as exc:
            cell.outputs.append(error_output("StudentProcessDied", str(exc)))
            return
        finally:
            self.process.deadline = None
        self.replay.append(cell.source)
        if reply.get("stdout"):
            cell.outputs.append(stream(reply["stdout"]))
        if reply.get("stderr"):
            cell.outputs.append(stream(reply["stderr"], "stderr"))
        for png in reply.get("figures", [])[:20]:
            if isinstance(png, str):
                cell.outputs.append(new_output("display_data", {"image/png": png, "text/plain": "<Figure>"}))
        if reply.get("ok") and reply.get("result") is not None:
            cell.outputs.append(new_output("execute_result", {"text/plain": str(reply["result"])[:OUTPUT_LIMIT]},
                                           execution_count=cell.execution_count))
        if not reply.get("ok"):
            error = reply.get("error") or {}
            cell.outputs.append(error_output(str(error.get("ename", "Error")), str(error.get("evalue", "")),
                                             [str(w) for w in error.get("where", [])]))
        with contextlib.suppress(StudentProcessDied, CellTimeout):
            self.refresh_proxies()

    def _exec_judged(self, source, out):
        """Run instructor code in the judge namespace, printing to `out`; returns the last expression's value."""
        body, last = compile_cell(source)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(body, self.namespace)
            return eval(last, self.namespace) if last is not None else None

    def run_judge_setup(self, cell):
        """Given (instructor) code also runs here, so test cells see its imports and helpers.

        Calls into student code are refused meanwhile: a given cell's demonstration of the
        student's functions runs in the sandbox, where the student sees its output.
        """
        before = dict(self.namespace)
        self.process.blocked = True   # demo code in given cells calls student code in the sandbox only
        try:
            self._exec_judged(cell.source, CappedStdout())
        except Exception:  # the student's copy of this cell shows any error in the notebook
            pass
        finally:
            self.process.blocked = False
        self.judge_names |= {k for k, v in self.namespace.items() if k not in before or before[k] is not v}

    def run_test_cell(self, cell):
        from nbformat.v4 import new_output

        out = CappedStdout()
        try:
            self.ensure_process()
            self.process.deadline = time.monotonic() + self.timeout
            value = self._exec_judged(cell.source, out)
        except CellTimeout:
            text = out.getvalue()
            if text:
                cell.outputs.append(stream(text))
            cell.outputs.append(error_output("CellTimeoutError", CELL_TIMEOUT_MESSAGE.format(timeout=self.timeout)))
            return
        except BaseException as exc:  # a failing test: its error is the verdict
            if isinstance(exc, KeyboardInterrupt):
                raise
            text = out.getvalue()
            if text:
                cell.outputs.append(stream(text))
            cell.outputs.append(error_output(type(exc).__name__, str(exc)[:2000]))
            return
        finally:
            self.process.deadline = None
        if out.getvalue():
            cell.outputs.append(stream(out.getvalue()))
        if value is not None:
            cell.outputs.append(new_output("execute_result", {"text/plain": repr(value)},
                                           execution_count=cell.execution_count))

    def record_verdict(self, cell):
        """Track which graded functions keep full marks, cell by cell."""
        from .submissions import function_of_test

        meta = cell.metadata.get("nbgrader", {})
        try:
            function = function_of_test(meta.get("grade_id", ""), self.functions)
        except ValueError:
            return
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        try:
            full = not errors and results and float(results[0]["data"]["text/plain"]) >= float(meta.get("points", 0))
        except (TypeError, ValueError):
            full = False
        if not full:
            self.failed.add(function)

    def completed_functions(self, current):
        """Functions whose test cells in this notebook have all run (up to `current`) with full marks."""
        from .submissions import function_of_test

        remaining, seen_current = set(), False
        for cell in self.nb.cells:
            if cell is current:
                seen_current = True
                continue
            if seen_current and cell.cell_type == "code" and cell_role(cell) == "test":
                with contextlib.suppress(ValueError):
                    remaining.add(function_of_test(cell.metadata["nbgrader"].get("grade_id", ""), self.functions))
        return self.passed_functions() - remaining

    def passed_functions(self):
        """Graded functions whose every test cell in this notebook kept full marks."""
        from .submissions import function_of_test

        tested = set()
        for cell in self.nb.cells:
            if cell.cell_type == "code" and cell_role(cell) == "test":
                with contextlib.suppress(ValueError):
                    tested.add(function_of_test(cell.metadata["nbgrader"].get("grade_id", ""), self.functions))
        return tested - self.failed
