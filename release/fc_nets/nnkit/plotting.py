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
