"""Numerical gradients for checking analytic backward passes.

Every helper perturbs its input array in place with centred differences and
restores it before returning, so the caller's array is unchanged afterwards.
"""
from random import randrange

import numpy as np


def rel_error(x, y):
    """Maximum relative error between two arrays (or scalars).

    Inputs:
    - x, y: arrays of the same shape

    Returns a float: max |x - y| / max(1e-8, |x| + |y|), elementwise.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numerical gradient of a scalar function at x.

    Inputs:
    - f: function taking an array like x and returning a scalar
    - x: float array of any shape; perturbed in place and restored
    - verbose: print each coordinate's gradient
    - h: step of the centred difference

    Returns grad, an array of x's shape.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numerical gradient of sum(f(x) * df) with respect to x.

    Inputs:
    - f: function taking an array like x and returning an array
    - x: float array of any shape; perturbed in place and restored
    - df: upstream gradient, the shape of f(x)
    - h: step of the centred difference

    Returns grad, an array of x's shape.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None):
    """Compare an analytic gradient with centred differences at random coordinates.

    Inputs:
    - f: function taking an array like x and returning a scalar
    - x: float array; perturbed in place and restored
    - analytic_grad: array of x's shape
    - num_checks: how many random coordinates to check
    - seed: optional seed for the coordinates

    Prints one line per coordinate and returns the largest relative error.
    """
    rng = np.random.RandomState(seed) if seed is not None else None
    worst = 0.0
    for _ in range(num_checks):
        if rng is None:
            ix = tuple(randrange(m) for m in x.shape)
        else:
            ix = tuple(int(rng.randint(m)) for m in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = analytic_grad[ix]
        error = rel_error(grad_numerical, grad_analytic)
        worst = max(worst, error)
        print(f"numerical: {grad_numerical:f} analytic: {grad_analytic:f}, relative error: {error:e}")
    return worst


def sample_entries(size, entries, seed=0):
    """Flat indices of the entries of an array to check numerically.

    Inputs:
    - size: number of entries of the array
    - entries: how many to check (None: all of them)
    - seed: the same seed always picks the same entries

    Returns a sorted int array of min(entries, size) distinct indices in [0, size).
    """
    if entries is None or entries >= size:
        return np.arange(size)
    return np.sort(np.random.RandomState(seed).choice(size, entries, replace=False))


def eval_numerical_param_gradients(model, X, y, names=None, h=1e-5, entries=None, seed=0):
    """Numerical gradients of model.loss(X, y)[0] for each parameter of a model.

    The perturbed array is assigned back into model.params before every call,
    so a loss() that copies or recasts its parameters still sees the perturbation.

    Inputs:
    - model: object with a dict `params` and `loss(X, y)` returning (loss, grads)
    - X, y: a batch of data and labels
    - names: parameter names to check (default: all, sorted)
    - h: step of the centred difference
    - entries: evaluate only this many entries of each parameter, picked at random
      with `seed` (CS231n's grad_check_sparse idea: two loss calls per entry add up
      fast); None evaluates every entry

    Returns a dict name -> numerical gradient of that parameter's shape, NaN at the
    entries that were not evaluated (compare with checks.assert_gradient_matches).
    """
    grads = {}
    for name in sorted(model.params) if names is None else names:
        original = model.params[name]
        x = np.array(original, dtype=np.float64, copy=True)
        flat = x.reshape(-1)
        grad = np.full(x.shape, np.nan)
        for i in sample_entries(flat.size, entries, seed):
            old = flat[i]
            flat[i] = old + h
            model.params[name] = x
            plus = model.loss(X, y)[0]
            flat[i] = old - h
            model.params[name] = x
            minus = model.loss(X, y)[0]
            flat[i] = old
            grad.flat[i] = (plus - minus) / (2 * h)
        model.params[name] = original
        grads[name] = grad
    return grads
