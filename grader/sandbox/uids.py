"""Unprivileged user ids for sandboxes, leased per grading process.

Two grading runs on one machine (or two workers of one run) must never run student code as the
same user id: they would share RLIMIT_NPROC and could signal each other's processes. A lease is
an abstract Unix socket bound to a name derived from the id: the kernel allows one binding per
name and releases it when the process that holds it exits, however it exits, and no file is
left behind for anyone to tamper with. Ids that belong to accounts of the machine are skipped.
"""
from __future__ import annotations

import os
import pwd
import socket

DEFAULT_FIRST_UID = 61000
DEFAULT_COUNT = 4000


class NoFreeUid(RuntimeError):
    """Every user id of the range is leased by another grading process."""


class UidLease:
    """An unprivileged user id held by this process until release() or exit."""

    def __init__(self, first: int = DEFAULT_FIRST_UID, count: int = DEFAULT_COUNT) -> None:
        self.uid, self._socket = self._acquire(first, count)

    @staticmethod
    def _acquire(first: int, count: int) -> tuple[int, socket.socket]:
        start = os.getpid() % count   # spread processes over the range: fewer collisions to skip
        for offset in range(count):
            uid = first + (start + offset) % count
            try:
                pwd.getpwuid(uid)
                continue   # a real account
            except KeyError:
                pass
            lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                lock.bind(f"\0nnkit-sandbox-uid-{uid}")
            except OSError:
                lock.close()
                continue
            lock.set_inheritable(False)
            return uid, lock
        raise NoFreeUid(f"no free sandbox user id in {first}..{first + count - 1}")

    def release(self) -> None:
        self._socket.close()


_leases: dict[int, UidLease] = {}


def process_uid() -> int:
    """This process's sandbox user id (leased on first use; a forked child leases its own)."""
    pid = os.getpid()
    if pid not in _leases:
        _leases[pid] = UidLease()
    return _leases[pid].uid
