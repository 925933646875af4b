"""Plots of training runs for the experiments in the notebooks."""
import matplotlib.pyplot as plt
import numpy as np


def plot_training(solvers, title=None):
    """Loss and accuracies of one or several training runs, one figure.

    Inputs:
    - solvers: a trained Solver, or a dict label -> trained Solver

    Returns the matplotlib Figure (loss, training accuracy, validation accuracy).
    """
    if not isinstance(solvers, dict):
        solvers = {"": solvers}
    fig, axes = plt.subplots(3, 1, figsize=(8, 9))
    for label, solver in solvers.items():
        axes[0].plot(solver.loss_history, ".", alpha=0.6, label=label or None)
        axes[1].plot(solver.train_acc_history, "-o", label=label or None)
        axes[2].plot(solver.val_acc_history, "-o", label=label or None)
    for ax, ylabel, xlabel in zip(axes, ("training loss", "training accuracy", "validation accuracy"),
                                  ("iteration", "epoch", "epoch")):
        ax.set_ylabel(ylabel)
        ax.set_xlabel(xlabel)
        if len(solvers) > 1:
            ax.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_sweep(values, series, xlabel, ylabel, logx=True, title=None):
    """Curves of a measurement over a swept hyperparameter, one per setting.

    Inputs:
    - values: the swept values (e.g. weight scales), length K
    - series: dict label -> list of K measurements
    - xlabel, ylabel: axis labels; logx: logarithmic x axis

    Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    for label, measurements in series.items():
        ax.plot(values, measurements, "-o", label=label)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def show_images(X, y=None, class_names=None, num=16):
    """A grid of the first `num` images of X (N, C, H, W), labelled by y.

    Returns the matplotlib Figure.
    """
    num = min(num, X.shape[0])
    cols = int(np.ceil(np.sqrt(num)))
    rows = int(np.ceil(num / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.5 * rows))
    for i, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if i >= num:
            continue
        img = np.transpose(X[i], (1, 2, 0))
        img = (img - img.min()) / max(img.max() - img.min(), 1e-12)
        ax.imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None)
        if y is not None:
            ax.set_title(class_names[y[i]] if class_names else str(y[i]), fontsize=9)
    fig.tight_layout()
    return fig


def filter_grid(w, padding=1, background=1.0):
    """The filters of a convolutional layer tiled into one image, each scaled to [0, 1].

    Inputs:
    - w: filters of shape (F, C, HH, WW)
    - padding: pixels of background between the filters
    - background: the value of those pixels (1.0: white)

    Returns an image array: (rows, cols) for C != 3 (each filter's channels side by side),
    (rows, cols, 3) for C == 3 (RGB filters), with about sqrt(F) filters per row.
    """
    w = np.asarray(w, dtype=np.float64)
    F, C, HH, WW = w.shape
    if C == 3:
        tiles = np.transpose(w, (0, 2, 3, 1))                       # (F, HH, WW, 3)
    else:
        tiles = w                                                   # (F, C, HH, WW): channels side by side
    lows = tiles.reshape(F, -1).min(axis=1)
    highs = tiles.reshape(F, -1).max(axis=1)
    scale = np.maximum(highs - lows, 1e-12)
    tiles = (tiles - lows.reshape((F,) + (1,) * (tiles.ndim - 1))) / scale.reshape((F,) + (1,) * (tiles.ndim - 1))
    if C != 3:
        tiles = np.concatenate([np.pad(tiles[:, c], ((0, 0), (0, 0), (0, padding if c < C - 1 else 0)),
                                       constant_values=background) for c in range(C)], axis=2)
    cols = int(np.ceil(np.sqrt(F)))
    rows = int(np.ceil(F / cols))
    th, tw = tiles.shape[1], tiles.shape[2]
    grid = np.full((rows * (th + padding) - padding, cols * (tw + padding) - padding) + tiles.shape[3:], background)
    for i in range(F):
        r, c = divmod(i, cols)
        grid[r * (th + padding):r * (th + padding) + th, c * (tw + padding):c * (tw + padding) + tw] = tiles[i]
    return grid


def plot_filters(w, title=None, padding=1, background=1.0):
    """The filters of a convolutional layer as one image grid (see filter_grid).

    Inputs:
    - w: filters of shape (F, C, HH, WW), e.g. a network's params['W1']
    - title: optional title; padding, background: the pixels between the filters

    Returns the matplotlib Figure.
    """
    grid = filter_grid(w, padding=padding, background=background)
    fig, ax = plt.subplots(figsize=(5, 5 * grid.shape[0] / max(grid.shape[1], 1) + 0.5))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
