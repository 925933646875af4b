"""The judge's side of a notebook's student process: requests and replies under a deadline."""
from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..sandbox import protocol, wire
from ..sandbox.launch import STUDENT, SandboxedProcess
from ..sandbox.limits import Limits
from . import profile as phases
from .errors import CellTimeout, StudentCodeError, StudentProcessDied
from .profile import Profile
from .proxies import RemoteObject, handle_of

if TYPE_CHECKING:
    from .perturbation import PerturbationBatch

#: files go to the sandbox in setup requests of at most this many bytes (each message is bounded)
SETUP_BATCH_BYTES = 8 * 1024 ** 2

#: requests that run a numerical-gradient loop's calls in one go
BATCH_OPS = (protocol.Op.PERTURBED_CALLS.value, protocol.Op.PARAM_LOSSES.value)
#: answers a callback frame from the student process (the frame's payload) with a frame's payload
Relay = Callable[[bytearray, Callable[[int], None]], bytes | bytearray]


class StudentProcess:
    """One notebook's student process, in a sandbox of its own, and the channel to it.

    Inputs:
    - files: the working folder's files (relative path -> bytes), written inside the sandbox
    - cwd: the folder (relative to the working folder) the notebook runs in
    - limits, uid, sandboxed: how to run it (see grader.sandbox.launch.SandboxedProcess)
    - bounds: what a message may cost
    """

    def __init__(self, files: dict[str, bytes], cwd: str, limits: Limits, uid: int | None, sandboxed: bool = True,
                 bounds: wire.Bounds = wire.DEFAULT_BOUNDS) -> None:
        self.files, self.cwd, self.bounds = files, cwd, bounds
        self.sandbox = SandboxedProcess(STUDENT, limits, uid, sandboxed)
        self.deadline: float | None = None
        self.restart: Callable[[], None] | None = None   # restarts and restores the process after it died
        self.blocked = False    # while True, requests are refused (given code run by the judge)
        self.batch: PerturbationBatch | None = None   # a numerical-gradient loop in progress
        self.relay: Relay | None = None               # answers callbacks (known-good building blocks)
        self.starts = 0
        self.profile = Profile()
        self._callback_seconds = 0.0
        self.phase = phases.ANSWER_CELLS              # what requests count as (set by the notebook run)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """A fresh sandbox with the working folder written (under the current deadline)."""
        began = time.perf_counter()
        self.sandbox.start()
        self.starts += 1
        self.profile.add(phases.SANDBOX_START, time.perf_counter() - began)
        saved, self.phase = self.phase, phases.WORKING_FOLDER
        try:
            self._write_working_folder()
        finally:
            self.phase = saved

    def _write_working_folder(self) -> None:
        batch: dict[str, bytes] = {}
        size = 0
        items = sorted(self.files.items())
        for index, (path, data) in enumerate(items):
            batch[path] = data
            size += len(data)
            if size >= SETUP_BATCH_BYTES or index == len(items) - 1:
                self._send_setup(batch, None)
                batch, size = {}, 0
        self._send_setup({}, self.cwd)

    def _send_setup(self, files: dict[str, bytes], cwd: str | None) -> None:
        answer = self.request(protocol.setup(files, cwd or ""), restart=False)
        if not answer.get("ok"):
            raise StudentProcessDied(f"the working folder could not be written: {answer.get('error')}")

    def stop(self) -> None:
        self.sandbox.kill()

    @property
    def started(self) -> bool:
        return self.sandbox.started

    @property
    def alive(self) -> bool:
        return self.sandbox.started and not self.sandbox.ended()

    # --- requests ------------------------------------------------------------------------------
    def wait(self, fd: int) -> None:
        """Wait until fd is readable, or raise CellTimeout at the deadline."""
        timeout = None if self.deadline is None else self.deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise CellTimeout()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise CellTimeout()

    def request(self, message: dict[str, Any], restart: bool = True) -> dict[str, Any]:
        """Send a request and return the reply, answering callbacks meanwhile."""
        if self.blocked:
            raise StudentCodeError("student code is not called while the judge runs given code")
        if restart and not self.alive and self.restart is not None:
            self.restart()
        if not self.alive:
            raise StudentProcessDied("the student process is not running")
        try:
            data = wire.encode(message, keep=handle_of, bounds=self.bounds)
        except wire.WireError as exc:
            raise TypeError(f"cannot pass this value to student code: {exc}") from exc
        fd = self.sandbox.fd
        began = time.perf_counter()
        self._callback_seconds = 0.0
        phase = phases.BATCHES if message.get("op") in BATCH_OPS else self.phase
        try:
            wire.write_message(fd, data)
            while True:
                payload = wire.read_message(fd, self.wait, self.bounds)
                if wire.message_type(payload, self.bounds) == protocol.CALLBACK:
                    wire.write_payload(fd, self._answer_callback(payload))
                    continue
                reply = wire.decode(payload, resolve=self._proxy, bounds=self.bounds)
                if not isinstance(reply, dict):
                    raise wire.WireError("unexpected message")
                return reply
        except CellTimeout:
            self.stop()
            raise
        except wire.WireError as exc:
            self.stop()
            raise StudentProcessDied(f"the student process sent a message that cannot be graded: {exc}") from exc
        except (EOFError, OSError) as exc:
            description = self.sandbox.exit_description()
            self.stop()
            raise StudentProcessDied(description) from exc
        finally:
            self.profile.add(phase, time.perf_counter() - began - self._callback_seconds)

    def _answer_callback(self, payload: bytearray) -> bytes | bytearray:
        if self.relay is None:
            return wire.encode(protocol.callback_result(False, error="not available"))[wire.LENGTH.size:]
        began = time.perf_counter()
        try:
            return self.relay(payload, self.wait)
        finally:
            seconds = time.perf_counter() - began
            self._callback_seconds += seconds
            self.profile.add(phases.CALLBACKS, seconds)

    def _proxy(self, handle_id: int) -> Any:
        return RemoteObject(self, handle_id)


__all__ = ["CellTimeout", "StudentCodeError", "StudentProcess", "StudentProcessDied"]
