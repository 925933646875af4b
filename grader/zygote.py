"""One sandbox per submission, warmed up once, forking a fresh student process per notebook.

Starting the sandbox (bubblewrap, Python, numpy, matplotlib) costs a few tenths
of a second of CPU; forking a process that already has them costs milliseconds.
The zygote runs inside the sandbox, with the submission's working folder bound
in and the resource limits set, and holds nothing but the student's own files:
each notebook's student process is forked from it on request and talks to the
judge over its own socket. A zygote serves one submission only, so nothing a
student process does there can reach another student's grading.
"""
import contextlib
import os
import socket
import subprocess

from .sandbox import Limits, bwrap_command, kill_process_group, unsandboxed_command

CONTROL_TIMEOUT = 10


class ZygoteError(RuntimeError):
    """The zygote did not answer (a student process may have killed or stopped it)."""


class Zygote:
    """A warmed-up student worker in the sandbox that forks student processes.

    Inputs:
    - workdir: the submission's working folder (bound into the sandbox for the zygote's lifetime;
      empty it between notebooks, never replace it)
    - sandboxed, uid, limits: as for a single student process
    """

    def __init__(self, workdir, sandboxed=True, uid=65500, limits=Limits()):
        self.workdir, self.sandboxed, self.uid, self.limits = workdir, sandboxed, uid, limits
        self.proc = self.control = self.reader = None

    def start(self):
        ours, theirs = socket.socketpair()
        if self.sandboxed:
            cmd, env = bwrap_command(self.workdir, self.uid, self.limits), None
        else:
            from .sandbox import WORKER_DIR, base_environment

            cmd = unsandboxed_command(self.workdir, self.limits)
            env = {**base_environment(self.limits), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "PYTHONPATH": str(WORKER_DIR)}
        cmd += ["--zygote", str(theirs.fileno())]
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=(theirs.fileno(),), cwd=self.workdir, env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        ours.settimeout(CONTROL_TIMEOUT + 60)   # the first answer waits for the imports
        self.control, self.reader = ours, ours.makefile("rb")

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            kill_process_group(self.proc)
        for closable in (self.reader, self.control):
            if closable is not None:
                with contextlib.suppress(OSError):
                    closable.close()
        self.proc = self.control = self.reader = None

    def _ask(self, line):
        if not self.alive:
            raise ZygoteError("the sandbox is not running")
        try:
            self.control.sendall(line.encode() + b"\n")
            answer = self.reader.readline()
        except OSError as exc:
            raise ZygoteError(f"the sandbox did not answer: {exc}")
        if not answer:
            raise ZygoteError("the sandbox closed its channel")
        self.control.settimeout(CONTROL_TIMEOUT)
        return answer.decode(errors="replace").strip()

    def spawn(self):
        """Fork a student process; returns (pid, socket file descriptor of its channel)."""
        if not self.alive:
            raise ZygoteError("the sandbox is not running")
        try:
            self.control.sendall(b"spawn\n")
            message, fds, _, _ = socket.recv_fds(self.control, 64, 1)
        except OSError as exc:
            raise ZygoteError(f"the sandbox did not answer: {exc}")
        self.control.settimeout(CONTROL_TIMEOUT)
        if not fds:
            raise ZygoteError("the sandbox did not start a student process")
        try:
            return int(message.decode().strip()), fds[0]
        except ValueError:
            os.close(fds[0])
            raise ZygoteError("unexpected answer from the sandbox")

    def kill(self, pid):
        """Kill a student process and everything it started."""
        self._ask(f"kill {int(pid)}")

    def status(self, pid):
        """'running', 'exit N' or 'signal N' for a student process."""
        return self._ask(f"status {int(pid)}")
