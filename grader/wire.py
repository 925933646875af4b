"""Plain-data messages between the trusted judge and the sandboxed student process.

A message is a length-prefixed frame: a JSON header followed by the raw bytes of
the numpy arrays it carries. Only plain values cross: None, bool, int, float,
str, list, tuple, dict, numeric numpy arrays and scalars, and handles to objects
that stay on the other side. Nothing is unpickled, so a message from student
code can carry data but never code. Decoding checks every size and dtype.

This module runs on both sides (it is bind-mounted into the sandbox).
"""
from builtins import bytes, dict, float, int, isinstance, len, list, repr, str, tuple, type  # noqa: A004 (student code may replace builtins: keep the originals)
import json
import math
import os
import struct

import numpy as np

MAX_MESSAGE_BYTES = 512 * 1024 * 1024
MAX_DEPTH = 64
ALLOWED_DTYPE_KINDS = "biufc"  # bool, int, uint, float, complex
_LENGTH = struct.Struct("!Q")


class WireError(Exception):
    """A malformed, oversized or unexpected message."""


class Handle:
    """A reference to an object kept on the other side of the wire."""

    __slots__ = ("id",)

    def __init__(self, id):
        self.id = int(id)

    def __repr__(self):
        return f"Handle({self.id})"


def encode(value, keep=None):
    """Encode a message; returns bytes.

    Inputs:
    - value: the message (plain data)
    - keep: optional callable(obj) -> int for objects that cannot cross the wire;
      they become Handles. Without it such objects raise WireError.
    """
    buffers = []
    header = _encode(value, buffers, keep, 0)
    head = json.dumps(header, allow_nan=True).encode("utf-8")
    body = [_LENGTH.pack(len(head)), head]
    for buf in buffers:
        body += [_LENGTH.pack(len(buf)), buf]
    payload = b"".join(body)
    if len(payload) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(payload)} bytes exceeds the limit of {MAX_MESSAGE_BYTES}")
    return _LENGTH.pack(len(payload)) + payload


#: exact types that JSON carries as they are (bool, and int within 64 bits; float only when finite:
#: those go through _encode)
_PLAIN = frozenset((str, bool, type(None)))


def _encode(value, buffers, keep, depth):
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    kind = type(value)   # the common exact types first; subclasses and the rest below
    if kind is str or kind is bool or value is None:
        return value
    if kind is np.ndarray and value.dtype.kind in ALLOWED_DTYPE_KINDS:
        buffers.append(value.tobytes())   # C order, whatever the array's layout
        return {"__ndarray__": len(buffers) - 1, "dtype": value.dtype.str, "shape": list(value.shape)}
    if kind is list:
        return [v if type(v) in _PLAIN else _encode(v, buffers, keep, depth + 1) for v in value]
    if kind is tuple:
        return {"__tuple__": [v if type(v) in _PLAIN else _encode(v, buffers, keep, depth + 1) for v in value]}
    if kind is dict and all(type(k) is str and k[:2] != "__" for k in value):
        return {k: v if type(v) in _PLAIN else _encode(v, buffers, keep, depth + 1) for k, v in value.items()}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < 2 ** 63 else {"__bigint__": str(value)}
    if isinstance(value, float):  # np.float64 too: it subclasses float
        value = float(value)
        return {"__float__": repr(value)} if value != value or value in (float("inf"), float("-inf")) else value
    if isinstance(value, np.ndarray) and value.dtype.kind in ALLOWED_DTYPE_KINDS:
        data = np.ascontiguousarray(value)
        buffers.append(data.tobytes())
        return {"__ndarray__": len(buffers) - 1, "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(value, np.generic) and value.dtype.kind in ALLOWED_DTYPE_KINDS:
        arr = np.asarray(value)
        buffers.append(arr.tobytes())
        return {"__npscalar__": len(buffers) - 1, "dtype": arr.dtype.str}
    if isinstance(value, Handle):
        return {"__handle__": value.id}
    if isinstance(value, np.dtype) and value.kind in ALLOWED_DTYPE_KINDS:
        return {"__dtype__": value.str}
    if isinstance(value, type) and issubclass(value, np.generic) and np.dtype(value).kind in ALLOWED_DTYPE_KINDS:
        return {"__nptype__": np.dtype(value).str}
    if value in (float, int, bool, complex):
        return {"__pytype__": value.__name__}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, buffers, keep, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode(v, buffers, keep, depth + 1) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not any(k.startswith("__") for k in value):
            return {k: _encode(v, buffers, keep, depth + 1) for k, v in value.items()}
        return {"__dict__": [[_encode(k, buffers, keep, depth + 1), _encode(v, buffers, keep, depth + 1)]
                             for k, v in value.items()]}
    if keep is not None:
        return {"__handle__": keep(value)}
    raise WireError(f"cannot send a value of type {type(value).__name__}")


def decode(payload, resolve=None):
    """Decode a message from bytes (without the outer length prefix).

    Inputs:
    - payload: bytes as produced by encode, minus its first 8 bytes
    - resolve: optional callable(id) -> object for Handles of this side's objects;
      without it Handles are returned as Handle instances.
    """
    view = memoryview(payload)
    pos, chunks = 0, []
    while pos < len(view):
        if pos + _LENGTH.size > len(view):
            raise WireError("truncated message")
        (n,) = _LENGTH.unpack_from(view, pos)
        pos += _LENGTH.size
        if pos + n > len(view):
            raise WireError("truncated message")
        chunks.append(view[pos:pos + n])
        pos += n
    if not chunks:
        raise WireError("empty message")
    try:
        header = json.loads(bytes(chunks[0]).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"unreadable message header: {exc}")
    return _decode(header, chunks[1:], resolve, 0)


def _dtype(text):
    dtype = _DTYPES.get(text) if type(text) is str else None
    if dtype is None:
        dtype = _DTYPES[str(text)] = _checked_dtype(text)
    return dtype


_DTYPES = {}


def _checked_dtype(text):
    try:
        dtype = np.dtype(str(text))
    except TypeError as exc:
        raise WireError(f"bad dtype {text!r}: {exc}")
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject:
        raise WireError(f"dtype {text!r} is not allowed")
    return dtype


def _buffer(buffers, index):
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise WireError("bad buffer reference")
    return buffers[index]


def _decode(value, buffers, resolve, depth):
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else _decode(v, buffers, resolve, depth + 1) for v in value]
    if not isinstance(value, dict):
        raise WireError("unexpected value in message")
    for key in value:    # a tagged value has its tag among its (few) keys; plain dicts have none
        if key[:2] == "__":
            decoder = _TAGGED.get(key)
            if decoder is None:
                raise WireError(f"unknown tag {key!r}")
            return decoder(value, buffers, resolve, depth)
    return {k: v if type(v) in _SCALARS else _decode(v, buffers, resolve, depth + 1) for k, v in value.items()}


#: what JSON decodes to that needs no further decoding
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _decode_ndarray(value, buffers, resolve, depth):
    dtype = _dtype(value.get("dtype"))
    shape = value.get("shape")
    if type(shape) is not list:
        raise WireError("bad array shape")
    for size in shape:
        if type(size) is not int or size < 0:
            raise WireError("bad array shape")
    buf = _buffer(buffers, value["__ndarray__"])
    if math.prod(shape) * dtype.itemsize != len(buf):
        raise WireError("array size does not match its shape")
    return np.frombuffer(buf, dtype=dtype).reshape(shape).copy()


def _decode_npscalar(value, buffers, resolve, depth):
    dtype = _dtype(value.get("dtype"))
    buf = _buffer(buffers, value["__npscalar__"])
    if len(buf) != dtype.itemsize:
        raise WireError("scalar size does not match its dtype")
    return np.frombuffer(buf, dtype=dtype)[0]


def _decode_dict(value, buffers, resolve, depth):
    out = {}
    for pair in value["__dict__"]:
        if not isinstance(pair, list) or len(pair) != 2:
            raise WireError("bad dict entry")
        key = _decode(pair[0], buffers, resolve, depth + 1)
        try:
            out[key] = _decode(pair[1], buffers, resolve, depth + 1)
        except TypeError:
            raise WireError("unhashable dict key")
    return out


def _decode_pytype(value, buffers, resolve, depth):
    types = {"float": float, "int": int, "bool": bool, "complex": complex}
    if value["__pytype__"] not in types:
        raise WireError("unknown type")
    return types[value["__pytype__"]]


def _decode_handle(value, buffers, resolve, depth):
    handle = Handle(value["__handle__"])
    return resolve(handle.id) if resolve is not None else handle


def _decode_text_number(kind):
    def decode(value, buffers, resolve, depth):
        text = value[f"__{kind.__name__}__" if kind is float else "__bigint__"]
        if not isinstance(text, str):
            raise WireError("bad number")
        return kind(text)
    return decode


_TAGGED = {
    "__ndarray__": _decode_ndarray,
    "__npscalar__": _decode_npscalar,
    "__float__": _decode_text_number(float),
    "__bigint__": _decode_text_number(int),
    "__tuple__": lambda value, buffers, resolve, depth: tuple(
        _decode(v, buffers, resolve, depth + 1) for v in value["__tuple__"]),
    "__dict__": _decode_dict,
    "__dtype__": lambda value, buffers, resolve, depth: _dtype(value["__dtype__"]),
    "__nptype__": lambda value, buffers, resolve, depth: _dtype(value["__nptype__"]).type,
    "__pytype__": _decode_pytype,
    "__handle__": _decode_handle,
}


def round_trip(value, keep=None, resolve=None):
    """value as the other side would receive it: fresh copies, arrays C-ordered, objects as handles."""
    return decode(encode(value, keep)[_LENGTH.size:], resolve)


def same_value(a, b):
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
    return a is b or a == b


def write_message(fd, data):
    """Write an encoded message (bytes from encode) to a file descriptor."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd, n, wait=None):
    """Read n bytes from fd; `wait(fd)` is called before each read (for deadlines)."""
    chunks, remaining = [], n
    while remaining:
        if wait is not None:
            wait(fd)
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(fd, wait=None):
    """Read one message's payload (bytes for decode) from fd."""
    (n,) = _LENGTH.unpack(read_exactly(fd, _LENGTH.size, wait))
    if n > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {n} bytes exceeds the limit of {MAX_MESSAGE_BYTES}")
    return read_exactly(fd, n, wait)


def mutable_arguments(args, before):
    """The arguments a call may have changed in place: {index: value} of changed arrays, dicts, lists.

    `before` holds copies of the array arguments taken before the call (None for others).
    """
    changed = {}
    for i, (arg, copy) in enumerate(zip(args, before)):
        if isinstance(arg, np.ndarray):
            # bitwise: an entry changed from one NaN to another also counts as a change
            if copy is None or copy.shape != arg.shape or copy.dtype != arg.dtype or copy.tobytes() != arg.tobytes():
                changed[str(i)] = arg
        elif isinstance(arg, (dict, list)):
            changed[str(i)] = arg
    return changed


def snapshot_arrays(args):
    return [arg.copy() if isinstance(arg, np.ndarray) else None for arg in args]


def copy_back(before, after):
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


def apply_changes(args, kwargs, changed_args, changed_kwargs):
    """Copy the changes a callee reported ({index: value}, {name: value}) back into args and kwargs."""
    for key, value in (changed_args or {}).items():
        if str(key).isdigit() and int(key) < len(args):
            copy_back(args[int(key)], value)
    for key, value in (changed_kwargs or {}).items():
        if key in kwargs:
            copy_back(kwargs[key], value)
