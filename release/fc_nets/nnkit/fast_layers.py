"""Fast convolution and max-pooling layers, in pure numpy (given code, not graded).

The naive layers you write loop over every output pixel; these do the same
computation with a few large matrix products, so that a convolutional network
trains in minutes on a laptop. They use the "im2col" idea: every receptive field
of the (padded) input becomes one row of a matrix, built without copying by a
strided view of the input (numpy.lib.stride_tricks.sliding_window_view), and the
convolution becomes one matrix product of those rows with the filters.

Conventions (the same as the naive layers' in the notebooks):
- x (N, C, H, W): N images with C channels of H x W pixels
- w (F, C, HH, WW): F filters; b (F,): one bias per filter
- conv_param: {"stride": s, "pad": p}; zero padding of p pixels on both sides of
  H and W; out (N, F, H', W') with H' = 1 + (H + 2p - HH) / s, W' likewise
- pool_param: {"pool_height": ph, "pool_width": pw, "stride": s}; no padding;
  out (N, C, H', W') with H' = 1 + (H - ph) / s, W' = 1 + (W - pw) / s

`stride`, `pad`, `pool_height` and `pool_width` may be ints or integral floats
(`(filter_size - 1) / 2` is 1.0 for a 3x3 filter); anything else raises
ValueError, and so does a configuration whose output size is not an integer.
Outputs and gradients keep the inputs' dtype (float32 in, float32 out); no
function modifies its arguments or a cache it is given.

The caches are the same as the naive layers' (`(x, w, b, conv_param)` and
`(x, pool_param)`), so a fast backward pass also accepts the cache of a naive
forward pass and the other way round.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast", "max_pool_backward_fast"]


def _integer(value, name, minimum):
    """`value` as an int if it is integral (an int, a numpy integer or an integral float) and >= minimum.

    Raises ValueError otherwise.
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        as_int = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if as_int != value:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if as_int < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return as_int


def _output_size(size, window, pad, stride, what):
    """1 + (size + 2 * pad - window) / stride, or ValueError when that is not a positive integer."""
    span = size + 2 * pad - window
    if span < 0:
        raise ValueError(f"the window {what} ({window}) is larger than the padded input {what} "
                         f"({size} + 2 * {pad} = {size + 2 * pad})")
    if span % stride:
        raise ValueError(f"the output {what} would not be an integer: 1 + ({size} + 2 * {pad} - {window}) / {stride}"
                         f" = {1 + span / stride:g}; choose the padding and stride so that the windows fit exactly")
    return 1 + span // stride


def _conv_config(x, w, conv_param):
    """Validated (stride, pad, H_out, W_out) of a convolution."""
    if np.ndim(x) != 4 or np.ndim(w) != 4:
        raise ValueError(f"x must be (N, C, H, W) and w (F, C, HH, WW); got shapes {np.shape(x)} and {np.shape(w)}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but the filters have {w.shape[1]}")
    stride = _integer(conv_param["stride"], "conv_param['stride']", 1)
    pad = _integer(conv_param["pad"], "conv_param['pad']", 0)
    H_out = _output_size(x.shape[2], w.shape[2], pad, stride, "height")
    W_out = _output_size(x.shape[3], w.shape[3], pad, stride, "width")
    return stride, pad, H_out, W_out


def _padded(x, pad):
    """A new array: x with `pad` zeros on both sides of its last two axes."""
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")


def _windows(x, height, width, stride):
    """Read-only strided view (N, C, H_out, W_out, height, width) of every window of x (no copy)."""
    return sliding_window_view(x, (height, width), axis=(2, 3))[:, :, ::stride, ::stride]


def conv_forward_fast(x, w, b, conv_param):
    """
    A fast forward pass for a convolutional layer (cross-correlation, like the naive one).

    Inputs:
    - x: Input data of shape (N, C, H, W)
    - w: Filter weights of shape (F, C, HH, WW)
    - b: Biases, of shape (F,)
    - conv_param: A dictionary with the following keys:
      - 'stride': The number of pixels between adjacent receptive fields in the
        horizontal and vertical directions (an int, or an integral float).
      - 'pad': The number of pixels that will be used to zero-pad the input on
        both sides of H and W (an int, or an integral float).

    Returns a tuple of:
    - out: Output data, of shape (N, F, H', W') where
        H' = 1 + (H + 2 * pad - HH) / stride
        W' = 1 + (W + 2 * pad - WW) / stride
    - cache: (x, w, b, conv_param), exactly the arguments as given

    Raises ValueError if the channels of x and w differ, if stride or pad is not
    an integer, or if H' or W' would not be an integer.
    """
    stride, pad, H_out, W_out = _conv_config(x, w, conv_param)
    F = w.shape[0]
    if np.shape(b) != (F,):
        raise ValueError(f"b must have shape ({F},), got {np.shape(b)}")
    cols = _windows(_padded(x, pad), w.shape[2], w.shape[3], stride)      # (N, C, H', W', HH, WW)
    # im2col and one matrix product: tensordot gathers the windows into rows of C * HH * WW values
    out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3]))               # (N, H', W', F)
    out = np.ascontiguousarray(out.transpose(0, 3, 1, 2)) + np.reshape(b, (1, F, 1, 1))
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_fast(dout, cache):
    """
    A fast backward pass for a convolutional layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: (x, w, b, conv_param) as in conv_forward_fast (or conv_forward_naive)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    - dw: Gradient with respect to w, of shape (F, C, HH, WW)
    - db: Gradient with respect to b, of shape (F,)
    """
    x, w, b, conv_param = cache[:4]
    stride, pad, H_out, W_out = _conv_config(x, w, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    if np.shape(dout) != (N, F, H_out, W_out):
        raise ValueError(f"dout must have shape {(N, F, H_out, W_out)}, got {np.shape(dout)}")
    x_pad = _padded(x, pad)
    cols = _windows(x_pad, HH, WW, stride)                                # (N, C, H', W', HH, WW)
    db = dout.sum(axis=(0, 2, 3))
    dw = np.tensordot(dout, cols, axes=([0, 2, 3], [0, 2, 3]))             # (F, C, HH, WW)
    # col2im: the gradient of every window, added back where the window came from. For a fixed
    # offset (k, j) inside the windows, the windows' pixels are distinct, so one strided slice
    # per offset adds them all; overlapping windows add up over the offsets.
    dcols = np.tensordot(dout, w, axes=([1], [0]))                          # (N, H', W', C, HH, WW)
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(dout, w))
    for k in range(HH):
        for j in range(WW):
            dx_pad[:, :, k:k + stride * H_out:stride, j:j + stride * W_out:stride] += \
                dcols[:, :, :, :, k, j].transpose(0, 3, 1, 2)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W].copy() if pad else dx_pad
    return dx, dw, db


def _pool_config(x, pool_param):
    """Validated (pool_height, pool_width, stride, H_out, W_out) of a max pooling."""
    if np.ndim(x) != 4:
        raise ValueError(f"x must be (N, C, H, W); got shape {np.shape(x)}")
    ph = _integer(pool_param["pool_height"], "pool_param['pool_height']", 1)
    pw = _integer(pool_param["pool_width"], "pool_param['pool_width']", 1)
    stride = _integer(pool_param["stride"], "pool_param['stride']", 1)
    H_out = _output_size(x.shape[2], ph, 0, stride, "height")
    W_out = _output_size(x.shape[3], pw, 0, stride, "width")
    return ph, pw, stride, H_out, W_out


def _tiles(ph, pw, stride):
    """True when the pooling windows tile the input: square, side by side, no overlap, no gap."""
    return ph == pw == stride


def max_pool_forward_fast(x, pool_param):
    """
    A fast forward pass for a max-pooling layer.

    When the windows tile the input (pool_height == pool_width == stride) one
    reshape does it; otherwise a strided view of all windows (overlapping windows,
    or gaps between them).

    Inputs:
    - x: Input data, of shape (N, C, H, W)
    - pool_param: dictionary with the following keys:
      - 'pool_height': The height of each pooling region
      - 'pool_width': The width of each pooling region
      - 'stride': The distance between adjacent pooling regions

    Returns a tuple of:
    - out: Output data, of shape (N, C, H', W') where
        H' = 1 + (H - pool_height) / stride
        W' = 1 + (W - pool_width) / stride
    - cache: (x, pool_param), exactly the arguments as given

    Raises ValueError if a pooling parameter is not an integer or H' or W' would
    not be an integer.
    """
    ph, pw, stride, H_out, W_out = _pool_config(x, pool_param)
    N, C, H, W = x.shape
    if _tiles(ph, pw, stride):
        out = x.reshape(N, C, H_out, ph, W_out, pw).max(axis=(3, 5))
    else:
        out = _windows(x, ph, pw, stride).max(axis=(4, 5))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_fast(dout, cache):
    """
    A fast backward pass for a max-pooling layer.

    The upstream derivative of each window goes to the maximum of that window (the
    first one in row-major order if several entries are equal); where windows
    overlap, the gradients add up.

    Inputs:
    - dout: Upstream derivatives, of shape (N, C, H', W')
    - cache: (x, pool_param) as in max_pool_forward_fast (or max_pool_forward_naive)

    Returns:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    """
    x, pool_param = cache[:2]
    ph, pw, stride, H_out, W_out = _pool_config(x, pool_param)
    N, C, H, W = x.shape
    if np.shape(dout) != (N, C, H_out, W_out):
        raise ValueError(f"dout must have shape {(N, C, H_out, W_out)}, got {np.shape(dout)}")
    dtype = np.result_type(dout, x)
    if _tiles(ph, pw, stride):
        windows = x.reshape(N, C, H_out, ph, W_out, pw).transpose(0, 1, 2, 4, 3, 5)
        first_max = windows.reshape(N, C, H_out, W_out, ph * pw).argmax(axis=-1)
        dwindows = np.zeros((N, C, H_out, W_out, ph * pw), dtype=dtype)
        np.put_along_axis(dwindows, first_max[..., None], dout[..., None], axis=-1)
        return dwindows.reshape(N, C, H_out, W_out, ph, pw).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)
    first_max = _windows(x, ph, pw, stride).reshape(N, C, H_out, W_out, ph * pw).argmax(axis=-1)
    dx = np.zeros(x.shape, dtype=dtype)
    # one strided slice per position (k, j) inside the windows: overlapping windows add up
    for k in range(ph):
        for j in range(pw):
            dx[:, :, k:k + stride * H_out:stride, j:j + stride * W_out:stride] += \
                np.where(first_max == k * pw + j, dout, 0)
    return dx
