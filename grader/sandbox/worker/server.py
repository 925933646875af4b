"""The student worker: runs a notebook's student code and answers the judge's requests about it."""
from __future__ import annotations

# Student code may replace builtins: keep the originals.
from builtins import BaseException, EOFError, dict, isinstance  # noqa: A004

import os
import sys
import types
from collections.abc import Callable
from typing import Any

from .. import wire
from ..protocol import Op, Reply, failure, reply
from . import files, gradients, objects
from .callbacks import Bindings
from .capture import describe, safe_repr
from .cells import run_cell
from .channel import Channel, Handles
from .plots import collect_figures

Handler = Callable[["StudentWorker", dict[str, Any]], Reply]


def _exec(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    worker.cell_count += 1
    name = f"<cell {msg.get('name') or worker.cell_count}>"
    outcome = run_cell(msg["source"], worker.namespace, name)
    result = safe_repr(outcome.value) if outcome.ok and outcome.value is not None else None
    return reply(outcome.ok, stdout=outcome.stdout, stderr=outcome.stderr, error=outcome.error, result=result,
                 figures=collect_figures())


HANDLERS: dict[str, Handler] = {
    Op.SETUP.value: files.setup,
    Op.EXEC.value: _exec,
    Op.NAMES.value: objects.names,
    Op.CALL.value: objects.call,
    Op.GETATTR.value: objects.get_attribute,
    Op.SETATTR.value: objects.set_attribute,
    Op.ITEM.value: objects.item,
    Op.BIND.value: lambda worker, msg: worker.bindings.bind(worker, msg),
    Op.UNBIND.value: lambda worker, msg: worker.bindings.unbind(worker, msg),
    Op.PARAM_LOSSES.value: gradients.param_losses,
    Op.PERTURBED_CALLS.value: gradients.perturbed_calls,
}


class StudentWorker:
    """A notebook's student process: its namespace (the notebook's __main__), its objects known to
    the judge, its known-good bindings, and the loop that answers the judge."""

    def __init__(self, fd: int) -> None:
        self.module = types.ModuleType("__main__")
        self.namespace = self.module.__dict__
        sys.modules["__main__"] = self.module
        self.handles = Handles()
        self.channel = Channel(fd, self.handles)
        self.bindings: Bindings = Bindings()
        self.cell_count = 0
        self.root = os.getcwd()

    def serve(self) -> None:
        while True:
            try:
                msg = self.channel.receive()
            except EOFError:
                return
            handler = HANDLERS.get(str(msg.get("op"))) if isinstance(msg, dict) else None
            if handler is None:
                answer = failure("ProtocolError", "unknown request")
            else:
                try:
                    answer = handler(self, msg)
                except BaseException as exc:  # e.g. a student object whose attribute access raises
                    answer = reply(False, error=describe(exc))
            try:
                self.channel.send(dict(answer))
            except wire.WireError as exc:
                self.channel.send(dict(failure("ValueError", f"the result cannot be graded: {exc}")))
