"""Layer utilities for convolutional networks (given code, not graded).

Combinations of layers that follow each other in a convolutional network,
built on the fast layers of nnkit.fast_layers. They use their own ReLU
(np.maximum), not the one from your notebooks, so they are correct whatever
state your layers are in.
"""
import numpy as np

from .fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast

__all__ = ["conv_relu_forward", "conv_relu_backward", "conv_relu_pool_forward", "conv_relu_pool_backward"]


def _relu_forward(a):
    """ReLU of any array: (max(a, 0) with a's dtype, cache a)."""
    return np.maximum(a, 0), a


def _relu_backward(dout, a):
    """Gradient of the ReLU: dout where a > 0, zero elsewhere."""
    return dout * (a > 0)


def conv_relu_forward(x, w, b, conv_param):
    """
    A convenience layer that performs a convolution followed by a ReLU.

    Inputs:
    - x: Input to the convolutional layer, of shape (N, C, H, W)
    - w, b: Weights (F, C, HH, WW) and biases (F,) for the convolutional layer
    - conv_param: {"stride": ..., "pad": ...} (see conv_forward_fast)

    Returns a tuple of:
    - out: Output from the ReLU, of shape (N, F, H', W')
    - cache: (conv_cache, relu_cache): the convolution's cache and the ReLU's
      input (the convolution's output)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = _relu_forward(a)
    cache = (conv_cache, relu_cache)
    return out, cache


def conv_relu_backward(dout, cache):
    """
    Backward pass for the conv-relu convenience layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H', W')
    - cache: (conv_cache, relu_cache) from conv_relu_forward

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    - dw: Gradient with respect to w, of shape (F, C, HH, WW)
    - db: Gradient with respect to b, of shape (F,)
    """
    conv_cache, relu_cache = cache
    da = _relu_backward(dout, relu_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """
    Convenience layer that performs a convolution, a ReLU, and a max pool.

    Inputs:
    - x: Input to the convolutional layer, of shape (N, C, H, W)
    - w, b: Weights (F, C, HH, WW) and biases (F,) for the convolutional layer
    - conv_param: {"stride": ..., "pad": ...} (see conv_forward_fast)
    - pool_param: {"pool_height": ..., "pool_width": ..., "stride": ...}
      (see max_pool_forward_fast)

    Returns a tuple of:
    - out: Output from the pooling layer, of shape (N, F, H'', W'')
    - cache: (conv_cache, relu_cache, pool_cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = _relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    cache = (conv_cache, relu_cache, pool_cache)
    return out, cache


def conv_relu_pool_backward(dout, cache):
    """
    Backward pass for the conv-relu-pool convenience layer.

    Inputs:
    - dout: Upstream derivatives, of shape (N, F, H'', W'')
    - cache: (conv_cache, relu_cache, pool_cache) from conv_relu_pool_forward

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, C, H, W)
    - dw: Gradient with respect to w, of shape (F, C, HH, WW)
    - db: Gradient with respect to b, of shape (F,)
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = _relu_backward(ds, relu_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db
