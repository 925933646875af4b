"""The requests and replies that the judge and a sandboxed process exchange, defined once.

Both sides build their messages with the functions here and read them with the keys here;
`grader.sandbox.wire` carries them. A request has an `op`; every reply has a `type`:

- "reply": the answer to a request (`ok`, and `result`, `stdout`, `stderr`, `error`, ...);
- "callback": sent by the student process in the middle of a request, when student code calls
  a building block that the judge swapped for the known-good version; the judge has it answered
  by the reference process and passes its "callback_result" back, then the request goes on.

Optional reply fields (OPTIONAL_FIELDS) are left out when empty; a reader takes a missing one
as empty.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Literal, TypedDict


class Op(str, Enum):
    """What a request asks for."""

    SETUP = "setup"                  # write the working folder's files, change into a folder
    EXEC = "exec"                    # run a cell's source
    NAMES = "names"                  # the public functions and classes defined so far
    CALL = "call"                    # call a function, class or method
    GETATTR = "getattr"              # read an attribute of an object
    SETATTR = "setattr"              # set an attribute of an object
    ITEM = "item"                    # get, set, delete or update an item of a dict attribute
    BIND = "bind"                    # route names to the judge's known-good building blocks
    UNBIND = "unbind"                # undo a bind
    PARAM_LOSSES = "param_losses"    # losses of a model with parameter entries perturbed
    PERTURBED_CALLS = "perturbed_calls"  # the remaining calls of a numerical-gradient loop
    LOAD = "load"                    # (reference process) run solution sources in a scope
    ACTIVATE = "activate"            # (reference process) serve these names of a scope


REPLY, CALLBACK, CALLBACK_RESULT = "reply", "callback", "callback_result"
OPTIONAL_FIELDS = ("stdout", "stderr", "error", "args_changed", "kwargs_changed", "figures")


class ErrorInfo(TypedDict):
    """An exception raised in the sandbox: its type name, message and where it happened."""

    ename: str
    evalue: str
    where: list[str]


class Target(TypedDict, total=False):
    """What a call, getattr, setattr or item request acts on: a name of the notebook, or a handle,
    then a path of attribute names."""

    name: str
    handle: int
    path: list[str]


class Reply(TypedDict, total=False):
    type: str
    ok: bool
    result: Any
    stdout: str
    stderr: str
    error: ErrorInfo
    figures: list[str]
    names: dict[str, str]
    args_changed: dict[str, Any]
    kwargs_changed: dict[str, Any]
    replies: list[Any]
    dict: bool
    keys: list[str]
    callable: bool


class Callback(TypedDict):
    type: Literal["callback"]
    name: str
    args: list[Any]
    kwargs: dict[str, Any]


def error_info(ename: str, evalue: str, where: list[str] | None = None) -> ErrorInfo:
    return {"ename": ename, "evalue": evalue, "where": list(where or [])}


def reply(ok: bool, **fields: Any) -> Reply:
    """A reply, with its empty optional fields left out."""
    message: dict[str, Any] = {"type": REPLY, "ok": ok, **fields}
    return drop_empty_fields(message)  # type: ignore[return-value]


def failure(ename: str, evalue: str, where: list[str] | None = None) -> Reply:
    return reply(False, error=error_info(ename, evalue, where))


def drop_empty_fields(message: dict[str, Any]) -> dict[str, Any]:
    """Smaller messages: the reader takes a missing optional field as empty."""
    for key in OPTIONAL_FIELDS:
        if key in message and not message[key]:
            del message[key]
    return message


# --- requests --------------------------------------------------------------------------------------

def setup(files: dict[str, bytes], cwd: str) -> dict[str, Any]:
    """Write `files` (relative path -> bytes) under the working folder, then change into `cwd`."""
    return {"op": Op.SETUP.value, "files": files, "cwd": cwd}


def exec_cell(source: str, name: str | None = None) -> dict[str, Any]:
    return {"op": Op.EXEC.value, "source": source, **({"name": name} if name else {})}


def names() -> dict[str, Any]:
    return {"op": Op.NAMES.value}


def call(target: Target, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"op": Op.CALL.value, **target, "args": args, "kwargs": kwargs}


def getattr_(target: Target) -> dict[str, Any]:
    return {"op": Op.GETATTR.value, **target}


def setattr_(target: Target, value: Any) -> dict[str, Any]:
    return {"op": Op.SETATTR.value, **target, "value": value}


def item(target: Target, action: str, key: Any = None, value: Any = None) -> dict[str, Any]:
    """action: "get", "set", "delete" or "update" (value: a dict of items)."""
    return {"op": Op.ITEM.value, **target, "action": action, "key": key, "value": value}


def bind(names_: list[str]) -> dict[str, Any]:
    return {"op": Op.BIND.value, "names": names_}


def unbind(names_: list[str]) -> dict[str, Any]:
    return {"op": Op.UNBIND.value, "names": names_}


def param_losses(handle: int, indices: dict[str, list[int]], X: Any, y: Any, h: float) -> dict[str, Any]:
    return {"op": Op.PARAM_LOSSES.value, "handle": handle, "indices": indices, "X": X, "y": y, "h": h}


def perturbed_calls(target: Target, args: list[Any], kwargs: dict[str, Any], position: int,
                    shared: list[int], shared_keys: list[str], first_index: list[int], first_old: Any,
                    h: float, indices: list[list[int]]) -> dict[str, Any]:
    """The rest of a numerical-gradient loop (see grader.sandbox.worker.gradients)."""
    return {"op": Op.PERTURBED_CALLS.value, **target, "args": args, "kwargs": kwargs, "position": position,
            "shared": shared, "shared_keys": shared_keys, "first_index": first_index, "first_old": first_old,
            "h": h, "indices": indices}


def load(scope: str, sources: list[tuple[str, str]]) -> dict[str, Any]:
    """(reference process) run the solution sources (label, source) in the namespace `scope`."""
    return {"op": Op.LOAD.value, "scope": scope, "sources": [list(s) for s in sources]}


def activate(scope: str, names_: list[str], reset: bool = True) -> dict[str, Any]:
    """(reference process) answer callbacks for these names from the namespace `scope` (after
    forgetting every name answered so far, with `reset`)."""
    return {"op": Op.ACTIVATE.value, "scope": scope, "names": names_, "reset": reset}


def callback(name: str, args: list[Any], kwargs: dict[str, Any]) -> Callback:
    return {"type": "callback", "name": name, "args": args, "kwargs": kwargs}


def callback_result(ok: bool, **fields: Any) -> dict[str, Any]:
    return drop_empty_fields({"type": CALLBACK_RESULT, "ok": ok, **fields})
