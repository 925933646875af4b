"""Proxies: the student's functions, classes and objects as the test cells see them.

A proxy holds no student code: calling it sends the arguments (plain data) to the student
process and returns the plain data it replies; an object the student code created stays there,
behind a handle.
"""
from __future__ import annotations

import builtins
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from ..sandbox import protocol, values, wire
from . import hidden
from .errors import StudentCodeError

if TYPE_CHECKING:
    from .channel import StudentProcess


def raise_student_error(reply: dict[str, Any]) -> None:
    """Raise the student's exception here: the builtin type of the same name where there is one."""
    error = reply.get("error") or {}
    if not isinstance(error, dict):
        error = {"ename": "Error", "evalue": str(error)}
    ename, evalue = str(error.get("ename", "Error")), str(error.get("evalue", ""))
    where = "; ".join(str(line).strip() for line in list(error.get("where") or [])[-2:])
    message = evalue + (f" ({where})" if where else "")
    exc_type = getattr(builtins, ename, None)
    exc: Exception | None = None
    if isinstance(exc_type, type) and issubclass(exc_type, Exception) and exc_type is not StopIteration:
        try:
            exc = exc_type(message)
        except TypeError:  # exception types whose constructor wants other arguments
            pass
    if exc is None:
        exc = StudentCodeError(f"{ename}: {message}")
    exc.location_in_message = True  # type: ignore[attr-defined]  # nnkit.checks then does not point into the judge
    raise exc


def relay_output(reply: dict[str, Any]) -> None:
    """Print what the student's code printed during a call, unless a hidden check made the call."""
    text = str(reply.get("stdout") or "") + str(reply.get("stderr") or "")
    if not text:
        return
    if hidden.called_from_hidden_check():
        print(hidden.HIDDEN_OUTPUT_NOTE, end="")
        return
    print(text, end="" if text.endswith("\n") else "\n")


def handle_of(obj: Any) -> int:
    """The handle of a student object sent back to the student process (anything else cannot go)."""
    if isinstance(obj, RemoteObject):
        return int(object.__getattribute__(obj, "_handle"))
    raise wire.WireError(f"cannot send a {type(obj).__name__} to student code")


class RemoteCallable:
    """A student function, class or method, called in the student process."""

    def __init__(self, process: StudentProcess, name: str | None = None, handle: int | None = None,
                 path: list[str] | tuple[str, ...] = ()) -> None:
        self._process, self._name, self._handle, self._path = process, name, handle, list(path)
        self.__name__ = name or (path[-1] if path else "method")

    def _target(self) -> protocol.Target:
        if self._handle is not None:
            return {"handle": self._handle, "path": self._path}
        return {"name": self._name or "", "path": self._path}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        batch = self._process.batch
        reply = batch.reply_for(self._target(), args, kwargs) if batch is not None else None
        if reply is None:
            reply = self._process.request(protocol.call(self._target(), list(args), kwargs))
        relay_output(reply)
        if not reply.get("ok"):
            raise_student_error(reply)
        values.apply_changes(args, kwargs, reply.get("args_changed"), reply.get("kwargs_changed"))
        if batch is not None:
            batch.called(args, kwargs)
        return reply.get("result")

    def __repr__(self) -> str:
        return f"<student code {self.__name__}>"


class RemoteObject:
    """An object created by student code, kept in the student process."""

    def __init__(self, process: StudentProcess, handle: int, path: list[str] | tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "_process", process)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_path", list(path))

    def _parts(self) -> tuple[StudentProcess, int, list[str]]:
        return (object.__getattribute__(self, "_process"), object.__getattribute__(self, "_handle"),
                object.__getattribute__(self, "_path"))

    def __getattr__(self, name: str) -> Any:
        process, handle, path = self._parts()
        reply = process.request(protocol.getattr_({"handle": handle, "path": path + [name]}))
        relay_output(reply)
        if not reply.get("ok"):
            if (reply.get("error") or {}).get("ename") == "AttributeError":
                raise AttributeError(name)
            raise_student_error(reply)
        if reply.get("callable"):
            return RemoteCallable(process, handle=handle, path=path + [name])
        if reply.get("dict"):
            return RemoteDict(process, handle, path + [name])
        return reply.get("result")

    def __setattr__(self, name: str, value: Any) -> None:
        process, handle, path = self._parts()
        reply = process.request(protocol.setattr_({"handle": handle, "path": path + [name]}, value))
        if not reply.get("ok"):
            raise_student_error(reply)

    def __repr__(self) -> str:
        return "<student object>"


class RemoteDict(MutableMapping):
    """A live view of a dict attribute of a student object (e.g. model.params).

    Reading an item copies it here; assigning an item sends it to the student
    process. Changing a fetched array in place does not reach the student's object.
    """

    def __init__(self, process: StudentProcess, handle: int, path: list[str]) -> None:
        self._process, self._handle, self._path = process, handle, path

    def _item(self, action: str, key: Any = None, value: Any = None) -> Any:
        reply = self._process.request(protocol.item({"handle": self._handle, "path": self._path}, action, key, value))
        if not reply.get("ok"):
            if (reply.get("error") or {}).get("ename") == "KeyError":
                raise KeyError(key)
            raise_student_error(reply)
        return reply.get("result")

    def _keys(self) -> list[str]:
        reply = self._process.request(protocol.getattr_({"handle": self._handle, "path": self._path}))
        if not reply.get("ok"):
            raise_student_error(reply)
        keys = reply.get("keys", [])
        return list(keys) if isinstance(keys, list) else []

    def __getitem__(self, key: Any) -> Any:
        return self._item("get", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._item("set", key, value)

    def __delitem__(self, key: Any) -> None:
        self._item("delete", key)

    def update(self, other: Any = (), **kwargs: Any) -> None:  # type: ignore[override]
        """All the items in one request (MutableMapping.update would send one per item)."""
        items = dict(other, **kwargs)
        if items:
            self._item("update", value=items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:
        return f"<student dict with keys {self._keys()}>"
