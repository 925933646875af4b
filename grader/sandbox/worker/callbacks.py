"""Known-good building blocks: names of the student's code routed to the judge while a test runs.

For a composite test, the judge swaps a building block that failed its own tests (and the other
half of its forward/backward pair) for the instructor's version. Here each such name becomes a
stub that sends a callback to the judge, wherever student code looks the name up: the notebook's
namespace and the globals of every student function that uses it (functions imported from an
earlier notebook with import_solutions keep the namespace they were run in).
"""
from __future__ import annotations

# Student code may replace builtins: keep the originals.
from builtins import Exception, RuntimeError, any, dict, getattr, id, isinstance, list, staticmethod, classmethod, type  # noqa: A004

import builtins
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import protocol, values
from ..protocol import Reply, reply

if TYPE_CHECKING:
    from .server import StudentWorker

_ABSENT = object()
#: the builtin exception types, as they were before student code ran
_EXCEPTIONS = {name: value for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, Exception)}


def callback_error(name: str, error: Any) -> Exception:
    """The exception a failed callback raises in student code: the known-good function's own type
    (ValueError for ValueError), as a call in one process would raise it."""
    if isinstance(error, dict):
        ename, evalue = str(error.get("ename", "RuntimeError")), str(error.get("evalue", ""))
    else:
        ename, evalue = "RuntimeError", str(error)
    exc_type = _EXCEPTIONS.get(ename, RuntimeError)
    try:
        return exc_type(evalue if exc_type is not RuntimeError else f"{name} failed: {ename}: {evalue}")
    except Exception:   # a type whose constructor wants other arguments
        return RuntimeError(f"{name} failed: {ename}: {evalue}")


class Bindings:
    """The names currently routed to the judge, and what they were bound to before."""

    def __init__(self) -> None:
        self.saved: dict[tuple[int, str], tuple[dict[str, Any], Any]] = {}

    def bind(self, worker: StudentWorker, msg: dict[str, Any]) -> Reply:
        for name in msg["names"]:
            stub = callback_stub(worker, name)
            for space in namespaces_using(worker.namespace, name):
                self.saved.setdefault((id(space), name), (space, space.get(name, _ABSENT)))
                space[name] = stub
        return reply(True)

    def unbind(self, worker: StudentWorker, msg: dict[str, Any]) -> Reply:
        for key in [k for k in self.saved if k[1] in msg["names"]]:
            space, value = self.saved.pop(key)
            if value is _ABSENT:
                space.pop(key[1], None)
            else:
                space[key[1]] = value
        return reply(True)


def callback_stub(worker: StudentWorker, name: str) -> Callable[..., Any]:
    def stub(*args: Any, **kwargs: Any) -> Any:
        worker.channel.send(dict(protocol.callback(name, list(args), kwargs)))
        answer = worker.channel.receive()
        if not isinstance(answer, dict) or answer.get("type") != protocol.CALLBACK_RESULT:
            raise RuntimeError("grading protocol error")
        if not answer.get("ok"):
            raise callback_error(name, answer.get("error"))
        values.apply_changes(args, kwargs, answer.get("args_changed"), answer.get("kwargs_changed"))
        return answer.get("result")

    stub.__name__ = name
    return stub


def namespaces_using(namespace: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The notebook namespace, and the globals of every student function whose code names `name`."""
    spaces = {id(namespace): namespace}
    for value in list(namespace.values()):
        for function in _functions_in(value):
            space = getattr(function, "__globals__", None)
            if isinstance(space, dict) and _names_global(function.__code__, name):
                spaces.setdefault(id(space), space)
    return list(spaces.values())


def _names_global(code: types.CodeType, name: str, depth: int = 0) -> bool:
    """Whether a code object (or one nested in it) may look `name` up as a global."""
    if name in code.co_names:
        return True
    return depth < 10 and any(isinstance(const, types.CodeType) and _names_global(const, name, depth + 1)
                              for const in code.co_consts)


def _functions_in(value: Any) -> list[types.FunctionType]:
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
