"""The wire format: plain data only, and bounded before anything is allocated."""
import numpy as np
import pytest

from grader.sandbox import values, wire


def roundtrip(value):
    return wire.decode(wire.encode(value)[8:])


def test_wire_round_trips_plain_data():
    value = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "t": (1, 2.5, None, True, "s"),
             "nested": [np.int64(3), {"k": np.float64("nan")}], 7: "int key", "inf": float("inf")}
    back = roundtrip(value)
    assert back["x"].dtype == np.float32 and np.array_equal(back["x"], value["x"])
    assert back["t"] == (1, 2.5, None, True, "s") and back[7] == "int key"
    assert np.isnan(back["nested"][1]["k"]) and back["inf"] == float("inf")


@pytest.mark.parametrize("bad", [np.array([object()], dtype=object), lambda: 1, object()])
def test_wire_refuses_code_and_objects(bad):
    with pytest.raises(wire.WireError):
        wire.encode(bad)


def test_wire_rejects_forged_arrays():
    payload = bytearray(wire.encode(np.zeros(4))[8:])
    forged = bytes(payload).replace(b'"<f8"', b'"|O8"')
    with pytest.raises(wire.WireError):
        wire.decode(forged)
    shape_lie = bytes(payload).replace(b"[4]", b"[9]")
    with pytest.raises(wire.WireError):
        wire.decode(shape_lie)


# --- bounds: what a message may cost is checked before anything is allocated ---------------------

def frame(header: bytes, *buffers: bytes) -> bytes:
    """A frame's payload (what decode takes) with a raw header."""
    parts = [wire.LENGTH.pack(len(header)), header]
    for buf in buffers:
        parts += [wire.LENGTH.pack(len(buf)), buf]
    return b"".join(parts)


def test_a_header_of_millions_of_empty_lists_is_refused_before_parsing():
    payload = frame(b"[" + b"[]," * 2_000_000 + b"[]]")
    with pytest.raises(wire.WireError, match="exceeds the limit"):
        wire.decode(payload)


def test_item_bound_counts_containers_and_items():
    bounds = wire.Bounds(items=1000)
    wire.decode(frame(b"[" + b"1," * 900 + b"1]"), bounds=bounds)
    with pytest.raises(wire.WireError, match="items"):
        wire.decode(frame(b"[" + b"[]," * 1200 + b"[]]"), bounds=bounds)


def test_message_size_is_checked_before_reading_the_body():
    import os
    read_end, write_end = os.pipe()
    os.write(write_end, wire.LENGTH.pack(10 ** 12))   # announces a terabyte
    with pytest.raises(wire.WireError, match="exceeds the limit"):
        wire.read_message(read_end)
    os.close(read_end)
    os.close(write_end)


def test_nesting_beyond_the_bound_is_refused_both_ways():
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.encode(deep)
    header = b"[" * 300 + b"]" * 300
    with pytest.raises(wire.WireError):
        wire.decode(frame(header))


@pytest.mark.parametrize("header", [
    b'{"__ndarray__": 0, "dtype": "<f8", "shape": [1000000000000]}',        # a shape its buffer cannot hold
    b'{"__ndarray__": 0, "dtype": "<f8", "shape": [-1]}',
    b'{"__ndarray__": 5, "dtype": "<f8", "shape": [1]}',                    # no such buffer
    b'{"__ndarray__": 0, "dtype": "V8", "shape": [1]}',                     # not a numeric dtype
    b'{"__ndarray__": 0, "dtype": [["a", "<f8"]], "shape": [1]}',
    b'{"__bigint__": "' + b"9" * 5000 + b'"}',                               # a number too long to parse
    b'{"__float__": 1.5}',
    b'{"__float__": "zz"}',
    b'{"__tuple__": 7}',
    b'{"__dict__": [[{"a": 1}, 2]]}',                                        # an unhashable key
    b'{"__handle__": "x"}',
    b'{"__pytype__": "eval"}',
    b'{"__nope__": 1}',
    b'{"a": ',
    b"\xff\xfe",
])
def test_hostile_headers_are_wire_errors(header):
    with pytest.raises(wire.WireError):
        wire.decode(frame(header, b"\0" * 8))


def test_a_frame_that_lies_about_its_parts_is_a_wire_error():
    with pytest.raises(wire.WireError):
        wire.decode(wire.LENGTH.pack(100) + b"short")
    with pytest.raises(wire.WireError):
        wire.decode(b"")


# --- fuzzing ----------------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.binary(max_size=20)
    | hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.bool_, np.uint8, np.complex128]),
                 hnp.array_shapes(max_dims=3, max_side=4)),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=8).filter(lambda k: not k.startswith("__")), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_plain_data_round_trips(value):
    back = wire.round_trip(value)
    assert values.same_value(_normalise(value), _normalise(back))


def _normalise(value):
    """What the wire promises to keep: bytearray-like as bytes, the rest as it is."""
    if isinstance(value, (list, tuple)):
        return type(value)(_normalise(v) for v in value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_decoder(data):
    try:
        wire.decode(data)
    except wire.WireError:
        pass


@settings(max_examples=500, deadline=None)
@given(plain, st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=8))
def test_corrupted_frames_are_wire_errors_or_plain_data(value, position, junk):
    payload = bytearray(wire.encode(value)[wire.LENGTH.size:])
    position %= len(payload)
    payload[position:position + len(junk)] = junk
    try:
        wire.decode(bytes(payload))
    except wire.WireError:
        pass


json_like = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                         lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(
                             ["__ndarray__", "__tuple__", "__dict__", "__bytes__", "__npscalar__", "__float__",
                              "__bigint__", "__complex__", "__dtype__", "__nptype__", "__pytype__", "__handle__",
                              "dtype", "shape", "x"]), c, max_size=3), max_leaves=15)


@settings(max_examples=800, deadline=None)
@given(json_like, st.lists(st.binary(max_size=32), max_size=3))
def test_hostile_tagged_values_are_wire_errors_or_plain_data(header, buffers):
    import json
    try:
        text = json.dumps(header).encode()
    except (ValueError, RecursionError):
        return
    try:
        wire.decode(frame(text, *buffers))
    except wire.WireError:
        pass
