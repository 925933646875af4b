"""The sandboxed side of the channel to the judge: framed plain-data messages, one process only."""
from __future__ import annotations

# Student code may replace builtins: keep the originals.
from builtins import dict, id, int  # noqa: A004

import os
from typing import Any

from .. import wire
from ..protocol import drop_empty_fields


class Handles:
    """Objects that stay in this process, known to the judge by number."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.number_of: dict[int, int] = {}
        self.next = 1

    def keep(self, obj: Any) -> int:
        if id(obj) in self.number_of:
            return self.number_of[id(obj)]
        number = self.next
        self.next += 1
        self.objects[number] = obj
        self.number_of[id(obj)] = number
        return number

    def resolve(self, number: int) -> Any:
        if number not in self.objects:
            raise wire.WireError(f"unknown handle {number}")
        return self.objects[number]


class Channel:
    """Messages to and from the judge over one socket.

    A process that student code forked never speaks on it: it would interleave its frames
    with ours. Such a process exits the moment it tries.
    """

    def __init__(self, fd: int, handles: Handles, bounds: wire.Bounds = wire.DEFAULT_BOUNDS) -> None:
        self.fd, self.handles, self.bounds = fd, handles, bounds
        self.pid = os.getpid()

    def _guard_forks(self) -> None:
        if os.getpid() != self.pid:
            os._exit(0)

    def send(self, message: dict[str, Any]) -> None:
        self._guard_forks()
        drop_empty_fields(message)
        wire.write_message(self.fd, wire.encode(message, keep=self.handles.keep, bounds=self.bounds))

    def receive(self) -> Any:
        self._guard_forks()
        return wire.decode(wire.read_message(self.fd, bounds=self.bounds), resolve=self.handles.resolve,
                           bounds=self.bounds)
