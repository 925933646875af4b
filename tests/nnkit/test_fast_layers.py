"""Unit tests of the given fast layers (nnkit.fast_layers, nnkit.conv_layer_utils) against plain loops."""
import copy

import numpy as np
import pytest

from nnkit.conv_layer_utils import (conv_relu_backward, conv_relu_forward, conv_relu_pool_backward,
                                    conv_relu_pool_forward)
from nnkit.fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast
from nnkit.gradient_check import eval_numerical_gradient_array, rel_error


# --- straightforward references: one output pixel at a time ------------------------------------------

def conv_loops(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + W] = x
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def conv_backward_loops(dout, x, w, stride, pad):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    xp[:, :, pad:pad + H, pad:pad + W] = x
    dxp, dw = np.zeros_like(xp), np.zeros(w.shape)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))


def pool_loops(x, ph, pw, stride):
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw].max()
    return out


def pool_backward_loops(dout, x, ph, pw, stride):
    dx = np.zeros(x.shape)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    r, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + r, j * stride + q] += dout[n, c, i, j]
    return dx


def distinct(rng, shape):
    """Values of shape `shape` that are pairwise at least 1e-3 apart (no ties in any window)."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size / 2) * 1e-3 + 1e-4 * rng.rand(*shape)


# --- convolution ---------------------------------------------------------------------------------------

CONV_CASES = [  # x shape, w shape, stride, pad
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((2, 3, 7, 5), (3, 3, 3, 3), 2, 1),
    ((1, 2, 5, 8), (2, 2, 3, 3), 3, 2),
    ((3, 1, 6, 7), (2, 1, 2, 3), 1, 0),
    ((2, 2, 4, 4), (3, 2, 4, 4), 1, 0),     # the filter covers the whole image
    ((2, 3, 4, 4), (3, 3, 4, 4), 2, 1),     # CS231n's example
    ((1, 3, 9, 9), (2, 3, 5, 5), 2, 2),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_forward_matches_loops(x_shape, w_shape, stride, pad):
    rng = np.random.RandomState(sum(x_shape) + sum(w_shape))
    x, w, b = rng.randn(*x_shape), rng.randn(*w_shape), rng.randn(w_shape[0])
    out, cache = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    expected = conv_loops(x, w, b, stride, pad)
    assert out.shape == expected.shape
    assert rel_error(out, expected) < 1e-10
    assert cache[0] is x and cache[1] is w and cache[2] is b and cache[3] == {"stride": stride, "pad": pad}


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_backward_matches_loops_and_numerical_gradients(x_shape, w_shape, stride, pad):
    rng = np.random.RandomState(7 + sum(x_shape))
    x, w, b = rng.randn(*x_shape), rng.randn(*w_shape), rng.randn(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.randn(*out.shape)
    dx, dw, db = conv_backward_fast(dout, cache)
    ref_dx, ref_dw, ref_db = conv_backward_loops(dout, x, w, stride, pad)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert rel_error(dx, ref_dx) < 1e-10
    assert rel_error(dw, ref_dw) < 1e-10
    assert rel_error(db, ref_db) < 1e-10
    dx_num = eval_numerical_gradient_array(lambda v: conv_loops(v, w, b, stride, pad), x.copy(), dout)
    dw_num = eval_numerical_gradient_array(lambda v: conv_loops(x, v, b, stride, pad), w.copy(), dout)
    assert rel_error(dx, dx_num) < 1e-6
    assert rel_error(dw, dw_num) < 1e-6


def test_conv_backward_accepts_the_naive_cache_layout():
    rng = np.random.RandomState(3)
    x, w, b = rng.randn(2, 3, 6, 6), rng.randn(2, 3, 3, 3), rng.randn(2)
    conv_param = {"stride": 1, "pad": 1}
    dout = rng.randn(2, 2, 6, 6)
    _, cache = conv_forward_fast(x, w, b, conv_param)
    for a, b_ in zip(conv_backward_fast(dout, cache), conv_backward_fast(dout, (x, w, b, conv_param))):
        assert np.array_equal(a, b_)


@pytest.mark.parametrize("pad", [1.0, np.float64(1.0), np.int64(1), (3 - 1) / 2])
def test_conv_accepts_integral_float_pad(pad):
    rng = np.random.RandomState(4)
    x, w, b = rng.randn(2, 2, 5, 5), rng.randn(3, 2, 3, 3), rng.randn(3)
    out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": pad})
    assert out.shape == (2, 3, 5, 5)
    assert rel_error(out, conv_loops(x, w, b, 1, 1)) < 1e-10
    dx, dw, db = conv_backward_fast(rng.randn(*out.shape), cache)
    assert dx.shape == x.shape
    out2, _ = conv_forward_fast(x, w, b, {"stride": 2.0, "pad": 1})
    assert out2.shape == (2, 3, 3, 3)


@pytest.mark.parametrize("conv_param, message", [
    ({"stride": 1, "pad": 1.5}, "pad"),
    ({"stride": 1, "pad": -1}, "pad"),
    ({"stride": 1.5, "pad": 1}, "stride"),
    ({"stride": 0, "pad": 1}, "stride"),
    ({"stride": 2, "pad": 0}, "not be an integer"),      # (6 - 3) / 2
    ({"stride": 1, "pad": "1"}, "pad"),
])
def test_conv_rejects_invalid_configurations(conv_param, message):
    rng = np.random.RandomState(5)
    x, w, b = rng.randn(1, 2, 6, 6), rng.randn(2, 2, 3, 3), rng.randn(2)
    with pytest.raises(ValueError, match=message):
        conv_forward_fast(x, w, b, conv_param)


def test_conv_rejects_channel_mismatch_and_too_large_filters():
    rng = np.random.RandomState(6)
    with pytest.raises(ValueError, match="channels"):
        conv_forward_fast(rng.randn(1, 2, 5, 5), rng.randn(2, 3, 3, 3), rng.randn(2), {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="larger"):
        conv_forward_fast(rng.randn(1, 2, 3, 3), rng.randn(2, 2, 5, 5), rng.randn(2), {"stride": 1, "pad": 0})


def test_conv_keeps_float32_and_float64():
    rng = np.random.RandomState(8)
    for dtype in (np.float32, np.float64):
        x = rng.randn(2, 3, 6, 6).astype(dtype)
        w = rng.randn(4, 3, 3, 3).astype(dtype)
        b = rng.randn(4).astype(dtype)
        out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
        assert out.dtype == dtype
        dx, dw, db = conv_backward_fast(rng.randn(*out.shape).astype(dtype), cache)
        assert dx.dtype == dw.dtype == db.dtype == dtype
        expected = conv_loops(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 1, 1)
        if dtype == np.float32:
            assert np.allclose(out, expected, rtol=1e-4, atol=1e-4)
        else:
            assert rel_error(out, expected) < 1e-10


def test_conv_does_not_modify_its_inputs():
    rng = np.random.RandomState(9)
    x, w, b = rng.randn(2, 3, 5, 5), rng.randn(2, 3, 3, 3), rng.randn(2)
    conv_param = {"stride": 2, "pad": 1}
    saved = copy.deepcopy((x, w, b, conv_param))
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.randn(*out.shape)
    dout0 = dout.copy()
    conv_backward_fast(dout, cache)
    for before, after in zip(saved, (x, w, b)):
        assert np.array_equal(before, after)
    assert conv_param == saved[3]
    assert np.array_equal(dout, dout0)


# --- max pooling ---------------------------------------------------------------------------------------

POOL_CASES = [  # x shape, pool height, pool width, stride
    ((2, 3, 4, 4), 2, 2, 2),      # tiles
    ((2, 2, 6, 9), 3, 3, 3),      # tiles, non-square input
    ((2, 3, 5, 5), 2, 2, 1),      # overlapping windows
    ((1, 2, 7, 7), 3, 3, 2),      # overlapping, do not tile
    ((2, 2, 8, 8), 2, 2, 3),      # gaps between the windows
    ((2, 3, 5, 6), 3, 2, 1),      # non-square windows
    ((1, 1, 6, 4), 2, 4, 2),      # window as wide as the image
]


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_pool_forward_matches_loops(x_shape, ph, pw, stride):
    rng = np.random.RandomState(sum(x_shape) + ph + 3 * pw + 7 * stride)
    x = rng.randn(*x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = max_pool_forward_fast(x, pool_param)
    expected = pool_loops(x, ph, pw, stride)
    assert out.shape == expected.shape
    assert np.array_equal(out, expected)
    assert cache[0] is x and cache[1] == pool_param


@pytest.mark.parametrize("x_shape, ph, pw, stride", POOL_CASES)
def test_pool_backward_matches_loops_and_numerical_gradients(x_shape, ph, pw, stride):
    rng = np.random.RandomState(11 + sum(x_shape) + ph + pw + stride)
    x = distinct(rng, x_shape)
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = max_pool_forward_fast(x, pool_param)
    dout = rng.randn(*out.shape)
    dx = max_pool_backward_fast(dout, cache)
    assert dx.shape == x.shape
    assert rel_error(dx, pool_backward_loops(dout, x, ph, pw, stride)) < 1e-12
    dx_num = eval_numerical_gradient_array(lambda v: pool_loops(v, ph, pw, stride), x.copy(), dout)
    assert rel_error(dx, dx_num) < 1e-8


def test_pool_gradients_of_overlapping_windows_add_up():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0                      # the maximum of all four 2x2 windows
    out, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = max_pool_backward_fast(dout, cache)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    assert np.array_equal(dx, expected)


def test_pool_gradient_goes_to_one_entry_per_window_on_ties():
    x = np.ones((1, 1, 4, 4))
    for param in ({"pool_height": 2, "pool_width": 2, "stride": 2}, {"pool_height": 2, "pool_width": 2, "stride": 1}):
        out, cache = max_pool_forward_fast(x, param)
        dx = max_pool_backward_fast(np.ones_like(out), cache)
        assert dx.sum() == out.size
        assert dx[0, 0, 0, 0] == 1.0


@pytest.mark.parametrize("pool_param, message", [
    ({"pool_height": 2, "pool_width": 2, "stride": 2}, "not be an integer"),    # 7 rows: (7 - 2) / 2
    ({"pool_height": 2.5, "pool_width": 2, "stride": 1}, "pool_height"),
    ({"pool_height": 2, "pool_width": 2, "stride": 0}, "stride"),
    ({"pool_height": 9, "pool_width": 2, "stride": 1}, "larger"),
])
def test_pool_rejects_invalid_configurations(pool_param, message):
    x = np.random.RandomState(12).randn(1, 1, 7, 6)
    with pytest.raises(ValueError, match=message):
        max_pool_forward_fast(x, pool_param)


def test_pool_accepts_integral_floats():
    x = np.random.RandomState(13).randn(2, 2, 6, 6)
    out, cache = max_pool_forward_fast(x, {"pool_height": 2.0, "pool_width": 2, "stride": 2.0})
    assert np.array_equal(out, pool_loops(x, 2, 2, 2))
    assert max_pool_backward_fast(np.ones_like(out), cache).shape == x.shape


def test_pool_keeps_dtype_and_does_not_modify_inputs():
    rng = np.random.RandomState(14)
    for dtype in (np.float32, np.float64):
        for param in ({"pool_height": 2, "pool_width": 2, "stride": 2},
                      {"pool_height": 3, "pool_width": 2, "stride": 1}):
            x = rng.randn(2, 3, 6, 6).astype(dtype)
            saved_x, saved_param = x.copy(), dict(param)
            out, cache = max_pool_forward_fast(x, param)
            assert out.dtype == dtype
            dout = rng.randn(*out.shape).astype(dtype)
            saved_dout = dout.copy()
            dx = max_pool_backward_fast(dout, cache)
            assert dx.dtype == dtype
            assert np.array_equal(x, saved_x) and param == saved_param and np.array_equal(dout, saved_dout)


# --- layer utilities --------------------------------------------------------------------------------------

def test_conv_relu_forward_and_backward():
    rng = np.random.RandomState(15)
    x, w, b = rng.randn(2, 3, 6, 5), rng.randn(4, 3, 3, 3), rng.randn(4)
    conv_param = {"stride": 1, "pad": 1}
    out, cache = conv_relu_forward(x, w, b, conv_param)
    assert np.allclose(out, np.maximum(conv_loops(x, w, b, 1, 1), 0))
    conv_cache, relu_cache = cache
    assert conv_cache[0] is x and relu_cache.shape == out.shape
    dout = rng.randn(*out.shape)
    dx, dw, db = conv_relu_backward(dout, cache)
    def f(x_, w_, b_):
        return np.maximum(conv_loops(x_, w_, b_, 1, 1), 0)

    assert rel_error(dx, eval_numerical_gradient_array(lambda v: f(v, w, b), x.copy(), dout)) < 1e-7
    assert rel_error(dw, eval_numerical_gradient_array(lambda v: f(x, v, b), w.copy(), dout)) < 1e-7
    assert rel_error(db, eval_numerical_gradient_array(lambda v: f(x, w, v), b.copy(), dout)) < 1e-7


def test_conv_relu_pool_forward_and_backward():
    rng = np.random.RandomState(16)
    x, w, b = rng.randn(2, 3, 8, 6), rng.randn(3, 3, 3, 3), rng.randn(3)
    conv_param = {"stride": 1, "pad": 1.0}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    expected = pool_loops(np.maximum(conv_loops(x, w, b, 1, 1), 0), 2, 2, 2)
    assert out.shape == (2, 3, 4, 3) and np.allclose(out, expected)
    assert len(cache) == 3
    dout = rng.randn(*out.shape)
    dx, dw, db = conv_relu_pool_backward(dout, cache)
    def f(x_, w_, b_):
        return pool_loops(np.maximum(conv_loops(x_, w_, b_, 1, 1), 0), 2, 2, 2)

    assert rel_error(dx, eval_numerical_gradient_array(lambda v: f(v, w, b), x.copy(), dout)) < 1e-7
    assert rel_error(dw, eval_numerical_gradient_array(lambda v: f(x, v, b), w.copy(), dout)) < 1e-7
    assert rel_error(db, eval_numerical_gradient_array(lambda v: f(x, w, v), b.copy(), dout)) < 1e-7


def test_layer_utilities_use_their_own_relu():
    import nnkit.conv_layer_utils as utils

    assert not hasattr(utils, "relu_forward") and not hasattr(utils, "relu_backward")
    x = np.random.RandomState(17).randn(1, 1, 4, 4).astype(np.float32)
    out, _ = conv_relu_forward(x, np.ones((1, 1, 1, 1), np.float32), np.zeros(1, np.float32), {"stride": 1, "pad": 0})
    assert out.dtype == np.float32 and np.array_equal(out, np.maximum(x, 0))
