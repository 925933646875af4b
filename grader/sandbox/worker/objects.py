"""Requests about the student's objects: names, calls, attributes and dict items."""
from __future__ import annotations

# Student code may replace builtins: keep the originals.
from builtins import Exception, NameError, callable, dict, getattr, isinstance, list, setattr, str, type  # noqa: A004

from typing import TYPE_CHECKING, Any

from .. import values
from ..protocol import Reply, reply
from .capture import Outcome, run_captured

if TYPE_CHECKING:
    from .server import StudentWorker


def outcome_reply(outcome: Outcome, **fields: Any) -> Reply:
    return reply(outcome.ok, stdout=outcome.stdout, stderr=outcome.stderr, error=outcome.error, **fields)


def target(worker: StudentWorker, msg: dict[str, Any]) -> Any:
    """The object a request names: a notebook name or a handle, then attributes along its path."""
    if "handle" in msg:
        obj = worker.handles.resolve(msg["handle"])
    else:
        if msg.get("name") not in worker.namespace:
            raise NameError(f"name '{msg.get('name')}' is not defined")
        obj = worker.namespace[msg["name"]]
    for attr in msg.get("path", []):
        obj = getattr(obj, attr)
    return obj


def names(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    """Public functions and classes the student's cells defined."""
    found = {}
    for key, value in list(worker.namespace.items()):
        if not isinstance(key, str) or key.startswith("_"):
            continue
        if isinstance(value, type):
            found[key] = "class"
        elif callable(value):
            found[key] = "function"
    return reply(True, names=found)


def call_reply(function: Any, args: list[Any], kwargs: dict[str, Any]) -> Reply:
    """The reply to a call: its result, output, error and the arguments it may have changed."""
    before = values.snapshot_arrays(args)
    outcome = run_captured(lambda: function()(*args, **kwargs))
    return outcome_reply(outcome, result=outcome.value, args_changed=values.mutable_arguments(args, before),
                         kwargs_changed={k: v for k, v in kwargs.items()
                                         if isinstance(v, (dict, list)) or _has_attribute(v, "shape")})


def call(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    return call_reply(lambda: target(worker, msg), msg.get("args", []), msg.get("kwargs", {}))


def get_attribute(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    outcome = run_captured(lambda: target(worker, msg))
    value = outcome.value
    if outcome.ok and isinstance(value, dict):
        return reply(True, dict=True, keys=[k for k in value if isinstance(k, str)])
    if outcome.ok and callable(value) and not isinstance(value, type):
        return reply(True, callable=True)
    return outcome_reply(outcome, result=value)


def set_attribute(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    def run() -> None:
        obj = target(worker, {**msg, "path": msg.get("path", [])[:-1]})
        setattr(obj, msg["path"][-1], msg["value"])
    return outcome_reply(run_captured(run))


def item(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    """Get, set, delete or update an item of a dict attribute (live views of e.g. model.params)."""
    def run() -> Any:
        container = target(worker, msg)
        action = msg["action"]
        if action == "get":
            return container[msg["key"]]
        if action == "set":
            container[msg["key"]] = msg["value"]
        elif action == "delete":
            del container[msg["key"]]
        elif action == "update":
            container.update(msg["value"])
        return None
    outcome = run_captured(run)
    return outcome_reply(outcome, result=outcome.value)


def _has_attribute(obj: Any, name: str) -> bool:
    try:
        getattr(obj, name)
        return True
    except Exception:
        return False
