"""The wire format: plain data only, and bounded before anything is allocated."""
import numpy as np
import pytest

from grader.sandbox import wire


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
