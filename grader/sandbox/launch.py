"""Start a sandboxed worker, talk to it over a socket, and kill it with everything it started.

Each `SandboxedProcess` is a fresh sandbox (`grader.sandbox.bubblewrap`): its own process
namespace, so when it is killed every process student code started inside it (in any session
or process group) dies with it; its own empty working folder and /tmp. Starting one costs
about 0.1 s (the interpreter and numpy); the grader starts one per notebook.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from . import bubblewrap
from .limits import NICENESS, Limits

STUDENT, REFERENCE = "student", "reference"


class SandboxedProcess:
    """A worker process in a fresh sandbox, with a socket channel to it.

    Inputs:
    - mode: STUDENT (runs student code) or REFERENCE (runs the instructor's building blocks)
    - limits: its resource Limits
    - uid: the unprivileged user id to run as when the grader is root (None otherwise)
    - sandboxed: False only when the instructor opted out of the sandbox (a plain child process
      in a temporary folder, for machines without bubblewrap; not for real classes)
    """

    def __init__(self, mode: str, limits: Limits, uid: int | None, sandboxed: bool = True) -> None:
        self.mode, self.limits, self.uid, self.sandboxed = mode, limits, uid, sandboxed
        self.proc: subprocess.Popen[bytes] | None = None
        self.channel: socket.socket | None = None
        self.fd = -1
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            if self.sandboxed:
                self.proc = self._start_sandboxed(theirs)
            else:
                self.proc = self._start_unsandboxed(theirs)
        finally:
            theirs.close()
        self.channel, self.fd = ours, ours.fileno()
        _lower_group_priority(self.proc.pid)

    def _start_sandboxed(self, theirs: socket.socket) -> subprocess.Popen[bytes]:
        runtime = bubblewrap.Runtime.current()
        command = [runtime.executable, *bubblewrap.worker_arguments(self.mode, self.limits, theirs.fileno())]
        args = bubblewrap.bwrap_arguments(runtime, self.limits, self.uid, command)
        split = args.index("--")
        # the options go through a pipe: the sandbox's command line names no host path
        read_end, write_end = os.pipe()
        try:
            os.write(write_end, b"".join(a.encode() + b"\0" for a in args[:split]))
        finally:
            os.close(write_end)
        try:
            return subprocess.Popen([bubblewrap.bwrap_path(), "--args", str(read_end), *args[split:]],
                                    pass_fds=(read_end, theirs.fileno()), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(read_end)

    def _start_unsandboxed(self, theirs: socket.socket) -> subprocess.Popen[bytes]:
        self._scratch = tempfile.TemporaryDirectory(prefix="grader-unsandboxed-")
        env = {**bubblewrap.environment(), "HOME": self._scratch.name,
               "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "PYTHONPATH": str(bubblewrap.SANDBOX_PACKAGE.parent.parent)}
        command = [sys.executable, *bubblewrap.worker_arguments(self.mode, self.limits, theirs.fileno())]
        return subprocess.Popen(command, pass_fds=(theirs.fileno(),), cwd=self._scratch.name, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    @property
    def started(self) -> bool:
        return self.proc is not None

    def ended(self) -> bool:
        """Whether the worker closed its channel or exited."""
        if self.proc is None or self.channel is None:
            return True
        if self.proc.poll() is not None:
            return True
        try:
            return self.channel.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def kill(self) -> None:
        """Kill the sandbox and everything in it, and reap it."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        if self.channel is not None:
            with contextlib.suppress(OSError):
                self.channel.close()
        if self._scratch is not None:
            self._scratch.cleanup()
        self.proc, self.channel, self.fd, self._scratch = None, None, -1, None

    def exit_description(self) -> str:
        """How the worker ended, in words for the student's feedback."""
        code = None
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(timeout=2)
        if code is None:
            return "the student process stopped answering"
        if code < 0 or (self.sandboxed and code > 128):   # bubblewrap reports a signal as 128 + its number
            number = -code if code < 0 else code - 128
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            hint = " (out of memory or CPU time?)" if name in ("SIGKILL", "SIGXCPU", "SIGSEGV") else ""
            return f"the student process was killed by {name}{hint}"
        return f"the student process exited with status {code} (sys.exit or os._exit in student code?)"


def _lower_group_priority(pid: int) -> None:
    """With the kernel's autogroup scheduling, a session's processes share one scheduling group, and
    nice only ranks processes inside their group: the sandbox's session (it has no /proc of its own)
    gets the students' niceness as a group too, so an infinite loop yields to the grader."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as group:
            group.write(str(NICENESS))
    except OSError:   # a kernel without autogroup scheduling: nice alone decides
        pass


def inside_root() -> Path:
    """The working folder inside the sandbox."""
    return Path(bubblewrap.INSIDE_WORKDIR)
