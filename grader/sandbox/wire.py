"""Plain-data messages between the trusted judge and a sandboxed process.

A message is a length-prefixed frame: a JSON header followed by the raw bytes of the numpy
arrays and byte strings it carries. Only plain values cross: None, bool, int, float, complex,
str, bytes, list, tuple, dict, numeric numpy arrays, scalars and dtypes, and handles to objects
that stay on the other side. Nothing is unpickled, so a message can carry data but never code.

Decoding is bounded before it allocates (`Bounds`): the frame's size, the header's size, an
upper bound of the containers and items the header can hold, the nesting depth, and every
array's size against its buffer. Any failure to decode, whatever its cause, is a `WireError`.

This module runs on both sides (it is bind-mounted into the sandbox).
"""
# Student code in the sandbox may replace builtins: keep the originals.
from builtins import bytes, complex, dict, float, int, isinstance, len, list, str, tuple, type  # noqa: A004

import json
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

ALLOWED_DTYPE_KINDS = "biufc"  # bool, int, uint, float, complex
LENGTH = struct.Struct("!Q")
_DOUBLE = struct.Struct("<d")

Keep = Callable[[Any], int]
Resolve = Callable[[int], Any]
Wait = Callable[[int], None]


class WireError(Exception):
    """A malformed, oversized or unexpected message."""


@dataclass(frozen=True)
class Bounds:
    """What one message may cost, checked before anything is allocated for it.

    - message_bytes: the whole frame (header and buffers)
    - header_bytes: the JSON header (its decoded objects cost about 20x its size at most)
    - items: an upper bound of the containers and items in the header
    - depth: nesting of lists, tuples and dicts
    """

    message_bytes: int = 64 * 1024 ** 2
    header_bytes: int = 4 * 1024 ** 2
    items: int = 500_000
    depth: int = 64


DEFAULT_BOUNDS = Bounds()


class Handle:
    """A reference to an object kept on the other side of the wire."""

    __slots__ = ("id",)

    def __init__(self, number: int) -> None:
        self.id = int(number)

    def __repr__(self) -> str:
        return f"Handle({self.id})"


# --- encoding ------------------------------------------------------------------------------------

def encode(value: Any, keep: Keep | None = None, bounds: Bounds = DEFAULT_BOUNDS) -> bytes:
    """Encode a message; returns the frame (length prefix included).

    Inputs:
    - value: the message (plain data)
    - keep: optional callable(obj) -> int for objects that cannot cross the wire;
      they become Handles. Without it such objects raise WireError.
    - bounds: the frame may not exceed bounds.message_bytes
    """
    buffers: list[bytes] = []
    header = _encode(value, buffers, keep, 0, bounds.depth)
    try:
        head = json.dumps(header, allow_nan=True).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise WireError(f"cannot encode the message: {exc}") from exc
    size = LENGTH.size + len(head) + sum(LENGTH.size + len(b) for b in buffers)
    if size > bounds.message_bytes:
        raise WireError(f"a message of {size} bytes exceeds the limit of {bounds.message_bytes} bytes")
    body = [LENGTH.pack(size), LENGTH.pack(len(head)), head]
    for buf in buffers:
        body += [LENGTH.pack(len(buf)), buf]
    return b"".join(body)


#: exact types JSON carries as they are (floats only when finite: those go through _encode)
_PLAIN = frozenset((str, bool, type(None)))


def _encode(value: Any, buffers: list[bytes], keep: Keep | None, depth: int, max_depth: int) -> Any:
    if depth > max_depth:
        raise WireError("value nested too deeply")
    kind = type(value)   # the common exact types first; subclasses and the rest below
    if kind is str or kind is bool or value is None:
        return value
    if kind is np.ndarray and value.dtype.kind in ALLOWED_DTYPE_KINDS:
        buffers.append(value.tobytes())   # C order, whatever the array's layout
        return {"__ndarray__": len(buffers) - 1, "dtype": value.dtype.str, "shape": list(value.shape)}
    if kind is list:
        return [v if type(v) in _PLAIN else _encode(v, buffers, keep, depth + 1, max_depth) for v in value]
    if kind is tuple:
        return {"__tuple__": [v if type(v) in _PLAIN else _encode(v, buffers, keep, depth + 1, max_depth)
                              for v in value]}
    if kind is dict and all(type(k) is str and k[:2] != "__" for k in value):
        return {k: v if type(v) in _PLAIN else _encode(v, buffers, keep, depth + 1, max_depth)
                for k, v in value.items()}
    if isinstance(value, (bool, str)):
        return bool(value) if isinstance(value, bool) else str(value)
    if isinstance(value, int):
        return int(value) if abs(value) < 2 ** 63 else {"__bigint__": str(value)}
    if isinstance(value, float):  # np.float64 too: it subclasses float
        value = float(value)
        # non-finite floats keep every bit (sign and NaN payload): JSON has no literal for them
        return value if math.isfinite(value) else {"__float__": _DOUBLE.pack(value).hex()}
    if isinstance(value, complex):
        return {"__complex__": [_DOUBLE.pack(value.real).hex(), _DOUBLE.pack(value.imag).hex()]}
    if isinstance(value, (bytes, bytearray, memoryview)):
        buffers.append(bytes(value))
        return {"__bytes__": len(buffers) - 1}
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
        return {"__tuple__": [_encode(v, buffers, keep, depth + 1, max_depth) for v in value]}
    if isinstance(value, list):
        return [_encode(v, buffers, keep, depth + 1, max_depth) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not any(k.startswith("__") for k in value):
            return {str(k): _encode(v, buffers, keep, depth + 1, max_depth) for k, v in value.items()}
        return {"__dict__": [[_encode(k, buffers, keep, depth + 1, max_depth),
                              _encode(v, buffers, keep, depth + 1, max_depth)] for k, v in value.items()]}
    if keep is not None:
        return {"__handle__": keep(value)}
    raise WireError(f"cannot send a value of type {type(value).__name__}")


# --- decoding ------------------------------------------------------------------------------------

def split_frame(payload: bytes | bytearray | memoryview, bounds: Bounds = DEFAULT_BOUNDS) -> list[memoryview]:
    """The chunks of a frame's payload (without its length prefix): the header, then the buffers."""
    view = memoryview(payload)
    pos, chunks = 0, []
    while pos < len(view):
        if pos + LENGTH.size > len(view):
            raise WireError("truncated message")
        (n,) = LENGTH.unpack_from(view, pos)
        pos += LENGTH.size
        if n > len(view) - pos:
            raise WireError("truncated message")
        chunks.append(view[pos:pos + n])
        pos += n
    if not chunks:
        raise WireError("empty message")
    if len(chunks[0]) > bounds.header_bytes:
        raise WireError(f"a message header of {len(chunks[0])} bytes exceeds the limit of {bounds.header_bytes}")
    return chunks


def read_header(chunks: list[memoryview], bounds: Bounds = DEFAULT_BOUNDS) -> Any:
    """The JSON header of a split frame, parsed after checking what it may cost."""
    head = bytes(chunks[0])
    # every container or item needs a bracket, a brace or a comma (or is the only value): an upper
    # bound that costs one pass in C, whatever is inside the header's strings
    items = head.count(b"[") + head.count(b"{") + head.count(b",") + 1
    if items > bounds.items:
        raise WireError(f"a message of up to {items} items exceeds the limit of {bounds.items}")
    try:
        return json.loads(head.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"unreadable message header: {exc}") from exc


def decode(payload: bytes | bytearray | memoryview, resolve: Resolve | None = None,
           bounds: Bounds = DEFAULT_BOUNDS) -> Any:
    """Decode a message from a frame's payload (without its length prefix).

    Inputs:
    - payload: what read_message returns
    - resolve: optional callable(id) -> object for Handles of this side's objects;
      without it Handles are returned as Handle instances.
    Any failure is a WireError.
    """
    try:
        chunks = split_frame(payload, bounds)
        return _decode(read_header(chunks, bounds), chunks[1:], resolve, 0, bounds.depth)
    except WireError:
        raise
    except Exception as exc:  # whatever a hostile message provokes, it is an unreadable message
        raise WireError(f"unreadable message ({type(exc).__name__}: {exc})") from exc


def message_type(payload: bytes | bytearray | memoryview, bounds: Bounds = DEFAULT_BOUNDS) -> str | None:
    """The "type" field of a message, read from its header only (its buffers are not decoded)."""
    try:
        header = read_header(split_frame(payload, bounds), bounds)
    except WireError:
        raise
    except Exception as exc:
        raise WireError(f"unreadable message ({type(exc).__name__}: {exc})") from exc
    kind = header.get("type") if isinstance(header, dict) else None
    return kind if isinstance(kind, str) else None


def _dtype(text: Any) -> np.dtype:
    dtype = _DTYPES.get(text) if type(text) is str else None
    if dtype is None:
        dtype = _checked_dtype(text)
        if type(text) is str and len(_DTYPES) < 256:
            _DTYPES[text] = dtype
    return dtype


_DTYPES: dict[str, np.dtype] = {}


def _checked_dtype(text: Any) -> np.dtype:
    if type(text) is not str or len(text) > 16:
        raise WireError(f"bad dtype {text!r}")
    try:
        dtype = np.dtype(text)
    except TypeError as exc:
        raise WireError(f"bad dtype {text!r}: {exc}") from exc
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype:
        raise WireError(f"dtype {text!r} is not allowed")
    return dtype


def _buffer(buffers: list[memoryview], index: Any) -> memoryview:
    if type(index) is not int or not 0 <= index < len(buffers):
        raise WireError("bad buffer reference")
    return buffers[index]


def _decode(value: Any, buffers: list[memoryview], resolve: Resolve | None, depth: int, max_depth: int) -> Any:
    if depth > max_depth:
        raise WireError("value nested too deeply")
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return [v if type(v) in _SCALARS else _decode(v, buffers, resolve, depth + 1, max_depth) for v in value]
    if kind is not dict:
        raise WireError("unexpected value in message")
    for key in value:    # a tagged value has its tag among its (few) keys; plain dicts have none
        if key[:2] == "__":
            decoder = _TAGGED.get(key)
            if decoder is None:
                raise WireError(f"unknown tag {key!r}")
            return decoder(value, buffers, resolve, depth, max_depth)
    return {k: v if type(v) in _SCALARS else _decode(v, buffers, resolve, depth + 1, max_depth)
            for k, v in value.items()}


#: what JSON decodes to that needs no further decoding
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _decode_ndarray(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                    max_depth: int) -> np.ndarray:
    dtype = _dtype(value.get("dtype"))
    shape = value.get("shape")
    if type(shape) is not list or len(shape) > 32:
        raise WireError("bad array shape")
    for size in shape:
        if type(size) is not int or not 0 <= size < 2 ** 48:
            raise WireError("bad array shape")
    buf = _buffer(buffers, value["__ndarray__"])
    if math.prod(shape) * dtype.itemsize != len(buf):
        raise WireError("array size does not match its shape")
    return np.frombuffer(buf, dtype=dtype).reshape(shape).copy()


def _decode_npscalar(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                     max_depth: int) -> Any:
    dtype = _dtype(value.get("dtype"))
    buf = _buffer(buffers, value["__npscalar__"])
    if len(buf) != dtype.itemsize:
        raise WireError("scalar size does not match its dtype")
    return np.frombuffer(buf, dtype=dtype)[0]


def _decode_bytes(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                  max_depth: int) -> bytes:
    return bytes(_buffer(buffers, value["__bytes__"]))


def _decode_dict(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                 max_depth: int) -> dict:
    pairs = value["__dict__"]
    if type(pairs) is not list:
        raise WireError("bad dict")
    out = {}
    for pair in pairs:
        if type(pair) is not list or len(pair) != 2:
            raise WireError("bad dict entry")
        key = _decode(pair[0], buffers, resolve, depth + 1, max_depth)
        try:
            out[key] = _decode(pair[1], buffers, resolve, depth + 1, max_depth)
        except TypeError as exc:
            raise WireError("unhashable dict key") from exc
    return out


def _decode_tuple(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                  max_depth: int) -> tuple:
    items = value["__tuple__"]
    if type(items) is not list:
        raise WireError("bad tuple")
    return tuple(_decode(v, buffers, resolve, depth + 1, max_depth) for v in items)


_PYTYPES = {"float": float, "int": int, "bool": bool, "complex": complex}


def _decode_pytype(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                   max_depth: int) -> type:
    name = value["__pytype__"]
    if type(name) is not str or name not in _PYTYPES:
        raise WireError("unknown type")
    return _PYTYPES[name]


def _decode_handle(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                   max_depth: int) -> Any:
    if type(value["__handle__"]) is not int:
        raise WireError("bad handle")
    handle = Handle(value["__handle__"])
    return resolve(handle.id) if resolve is not None else handle


def _decode_float(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                  max_depth: int) -> float:
    bits = value["__float__"]
    if type(bits) is not str or len(bits) != 2 * _DOUBLE.size:
        raise WireError("bad number")
    return float(_DOUBLE.unpack(bytes.fromhex(bits))[0])


def _decode_bigint(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                   max_depth: int) -> int:
    text = value["__bigint__"]
    if type(text) is not str or len(text) > 4000:   # Python refuses longer decimal ints anyway
        raise WireError("bad number")
    return int(text)


def _decode_complex(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                    max_depth: int) -> complex:
    parts = value["__complex__"]
    if type(parts) is not list or len(parts) != 2:
        raise WireError("bad number")
    return complex(_decode_float({"__float__": parts[0]}, buffers, resolve, depth, max_depth),
                   _decode_float({"__float__": parts[1]}, buffers, resolve, depth, max_depth))


def _decode_dtype(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                  max_depth: int) -> np.dtype:
    return _dtype(value["__dtype__"])


def _decode_nptype(value: dict, buffers: list[memoryview], resolve: Resolve | None, depth: int,
                   max_depth: int) -> type:
    return _dtype(value["__nptype__"]).type


_TAGGED = {
    "__ndarray__": _decode_ndarray,
    "__npscalar__": _decode_npscalar,
    "__bytes__": _decode_bytes,
    "__float__": _decode_float,
    "__bigint__": _decode_bigint,
    "__complex__": _decode_complex,
    "__tuple__": _decode_tuple,
    "__dict__": _decode_dict,
    "__dtype__": _decode_dtype,
    "__nptype__": _decode_nptype,
    "__pytype__": _decode_pytype,
    "__handle__": _decode_handle,
}


def round_trip(value: Any, keep: Keep | None = None, resolve: Resolve | None = None) -> Any:
    """value as the other side would receive it: fresh copies, arrays C-ordered, objects as handles."""
    return decode(encode(value, keep)[LENGTH.size:], resolve)


# --- framing -------------------------------------------------------------------------------------

def write_message(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write an encoded frame (from encode, or a payload with its prefix) to a file descriptor."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_payload(fd: int, payload: bytes | bytearray | memoryview) -> None:
    """Forward a payload read by read_message as a frame, unchanged."""
    write_message(fd, LENGTH.pack(len(payload)))
    write_message(fd, payload)


def read_exactly(fd: int, n: int, wait: Wait | None = None) -> bytearray:
    """Read n bytes from fd; `wait(fd)` is called before each read (for deadlines)."""
    out = bytearray(n)
    view, got = memoryview(out), 0
    while got < n:
        if wait is not None:
            wait(fd)
        count = os.readv(fd, [view[got:got + (1 << 22)]])
        if not count:
            raise EOFError("the other side closed the connection")
        got += count
    return out


def read_message(fd: int, wait: Wait | None = None, bounds: Bounds = DEFAULT_BOUNDS) -> bytearray:
    """Read one frame's payload (for decode) from fd, refusing it before reading if it is too large."""
    (n,) = LENGTH.unpack(read_exactly(fd, LENGTH.size, wait))
    if n > bounds.message_bytes:
        raise WireError(f"a message of {n} bytes exceeds the limit of {bounds.message_bytes} bytes")
    return read_exactly(fd, n, wait)
