"""The reference worker: the instructor's known-good building blocks, called by student code.

When a composite test swaps a student's broken building block for the known-good one, the
student's code still calls it, with arguments of the student's choosing: work done on the
student's behalf. It runs here, in a sandbox of its own with the student's resource limits,
never in the grader: a call whose result is huge fails with MemoryError in this process only.
No student code runs here; the judge passes each callback's frame on unread and this worker's
answer back to the student process.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .. import protocol, values, wire
from ..protocol import Op
from .capture import describe
from .channel import Channel, Handles


class ReferenceWorker:
    """Namespaces of solution sources (scopes), and the names of one scope that callbacks reach."""

    def __init__(self, fd: int) -> None:
        self.channel = Channel(fd, Handles())
        self.scopes: dict[str, dict[str, Any]] = {}
        self.active: dict[str, Any] = {}

    def load(self, msg: dict[str, Any]) -> dict[str, Any]:
        namespace: dict[str, Any] = {"np": np, "__name__": "solutions"}
        failed = []
        for label, source in msg["sources"]:
            try:
                exec(compile(source, f"<{label}>", "exec"), namespace)
            except Exception as exc:  # a broken solution cell costs only its own names
                failed.append(f"{label}: {type(exc).__name__}: {exc}")
        self.scopes[msg["scope"]] = namespace
        return dict(protocol.reply(True, result=failed))

    def activate(self, msg: dict[str, Any]) -> dict[str, Any]:
        scope = self.scopes.get(msg["scope"], {})
        if msg.get("reset", True):
            self.active = {}
        self.active.update({name: scope[name] for name in msg["names"] if name in scope})
        missing = [name for name in msg["names"] if name not in scope]
        return dict(protocol.reply(not missing, result=missing))

    def callback(self, msg: dict[str, Any]) -> dict[str, Any]:
        function = self.active.get(str(msg.get("name")))
        if function is None:
            return protocol.callback_result(False, error=protocol.error_info("RuntimeError", "not available"))
        args, kwargs = list(msg.get("args", [])), dict(msg.get("kwargs", {}))
        try:
            before = values.snapshot_arrays(args)
            result = function(*args, **kwargs)
        except Exception as exc:  # the known-good function rejecting the student's arguments
            info = describe(exc)
            return protocol.callback_result(False, error=protocol.error_info(info["ename"], info["evalue"]))
        return protocol.callback_result(
            True, result=result, args_changed=values.mutable_arguments(args, before),
            kwargs_changed={k: v for k, v in kwargs.items() if isinstance(v, (np.ndarray, dict, list))})

    def serve(self) -> None:
        handlers = {Op.LOAD.value: self.load, Op.ACTIVATE.value: self.activate}
        while True:
            try:
                msg = self.channel.receive()
            except EOFError:
                return
            except wire.WireError as exc:
                self.channel.send(protocol.callback_result(
                    False, error=protocol.error_info("ValueError", f"the call's arguments cannot be read: {exc}")))
                continue
            if isinstance(msg, dict) and msg.get("type") == protocol.CALLBACK:
                answer = self.callback(msg)
            elif isinstance(msg, dict) and msg.get("op") in handlers:
                answer = handlers[msg["op"]](msg)
            else:
                answer = dict(protocol.failure("ProtocolError", "unknown request"))
            try:
                self.channel.send(answer)
            except wire.WireError as exc:   # e.g. a result over the message size limit
                self.channel.send(protocol.callback_result(False, error=protocol.error_info("ValueError", str(exc)))
                                  if "type" in msg else dict(protocol.failure("ValueError", str(exc))))
            except MemoryError:
                self.channel.send(protocol.callback_result(
                    False, error=protocol.error_info("MemoryError", "the result is too large")))
            sys.stdout.flush()
