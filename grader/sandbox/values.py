"""Plain values across the wire: comparing them bit for bit, and in-place changes made on the other side.

A call on the other side works on copies of its arguments. What it changed in place (an array,
a dict, a list, or something inside a tuple such as a cache) is sent back and copied into the
caller's own arguments, so a call behaves as it would in one process.

This module runs on both sides (it is bind-mounted into the sandbox).
"""
# Student code in the sandbox may replace builtins: keep the originals.
from builtins import dict, isinstance, len, list, str, tuple, type  # noqa: A004

from typing import Any

import numpy as np

from .wire import WireError, round_trip


def same_value(a: Any, b: Any) -> bool:
    """Whether two plain values are equal in type, shape and every bit (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, (float, complex, np.generic)):
        return np.asarray(a).tobytes() == np.asarray(b).tobytes()
    return bool(a is b or a == b)


def mutable_arguments(args: list | tuple, before: list) -> dict[str, Any]:
    """The arguments a call may have changed in place: {index: value} of changed arrays, dicts, lists,
    and tuples holding something that changed (a cache whose array was changed in place).

    `before` is snapshot_arrays(args), taken before the call.
    """
    changed = {}
    for i, (arg, copy) in enumerate(zip(args, before)):
        if isinstance(arg, (dict, list)) or _changed(arg, copy):
            changed[str(i)] = arg
    return changed


def _changed(value: Any, copy: Any) -> bool:
    if isinstance(value, np.ndarray):
        # bitwise: an entry changed from one NaN to another also counts as a change
        return (not isinstance(copy, np.ndarray) or copy.shape != value.shape or copy.dtype != value.dtype
                or copy.tobytes() != value.tobytes())
    if isinstance(value, tuple):
        if not isinstance(copy, tuple) or len(copy) != len(value):
            return True
        return any(_changed(v, c) for v, c in zip(value, copy))
    if isinstance(value, (dict, list)):
        return not same_value(value, copy)
    return False


def _snapshot(value: Any, depth: int = 0) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple) and depth < 8:
        return tuple(_snapshot(v, depth + 1) for v in value)
    if isinstance(value, (dict, list)) and depth > 0:
        try:
            return round_trip(value)
        except WireError:
            return None
    return None


def snapshot_arrays(args: list | tuple) -> list:
    """Copies of what a call could change in place inside its arguments: arrays, and tuples' contents."""
    return [_snapshot(arg) for arg in args]


def copy_back(before: Any, after: Any) -> None:
    """Make the caller's argument `before` reflect what the callee did to its copy `after` in place."""
    if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
        if before.shape != after.shape and before.size == after.size:
            try:   # the callee reshaped the array in place (x.shape = ...): so does the caller's
                before.shape = after.shape
            except (AttributeError, ValueError):  # a view that cannot be reshaped without a copy
                return
        if before.shape == after.shape and before.flags.writeable:
            try:
                np.copyto(before, after, casting="unsafe")
            except (TypeError, ValueError):
                pass
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in list(before):
            if key not in after:
                del before[key]
        for key, value in after.items():
            old = before.get(key)
            if isinstance(old, (dict, list)) or (isinstance(old, np.ndarray) and isinstance(value, np.ndarray)
                                                  and old.shape == value.shape):
                copy_back(old, value)
            else:
                before[key] = value
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            if isinstance(b, (np.ndarray, dict, list)):
                copy_back(b, a)
            else:
                before[i] = a
    elif isinstance(before, tuple) and isinstance(after, tuple) and len(before) == len(after):
        for b, a in zip(before, after):
            copy_back(b, a)


def apply_changes(args: list | tuple, kwargs: dict, changed_args: Any, changed_kwargs: Any) -> None:
    """Copy the changes a callee reported ({index: value}, {name: value}) back into args and kwargs."""
    if isinstance(changed_args, dict):
        for key, value in changed_args.items():
            if str(key).isdigit() and int(key) < len(args):
                copy_back(args[int(key)], value)
    if isinstance(changed_kwargs, dict):
        for key, value in changed_kwargs.items():
            if key in kwargs:
                copy_back(kwargs[key], value)
