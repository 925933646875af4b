"""Data sets for the assignment, as dicts of arrays ready for the Solver.

Every loader returns X_train, y_train, X_val, y_val, X_test, y_test with
images shaped (N, C, H, W) as floats, the mean training image subtracted, and
labels as int64 arrays (N,).
"""
import os
import pickle

import numpy as np

CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _subtract_mean_image(data):
    """Subtract the mean training image from every split, in a new dict."""
    mean_image = data["X_train"].mean(axis=0)
    centred = dict(data)
    for split in ("X_train", "X_val", "X_test"):
        centred[split] = data[split] - mean_image
    return centred


def _split_and_center(X, y, num_training, num_validation, num_test, seed):
    """Shuffle with a fixed seed, split, and subtract the mean training image."""
    if num_training + num_validation + num_test > X.shape[0]:
        raise ValueError("requested %d examples but the data set has %d"
                         % (num_training + num_validation + num_test, X.shape[0]))
    order = np.random.RandomState(seed).permutation(X.shape[0])
    X, y = X[order], y[order]
    a, b, c = num_training, num_training + num_validation, num_training + num_validation + num_test
    data = {
        "X_train": X[:a], "y_train": y[:a],
        "X_val": X[a:b], "y_val": y[a:b],
        "X_test": X[b:c], "y_test": y[b:c],
    }
    return _subtract_mean_image(data)


def load_digits_data(num_training=1197, num_validation=300, num_test=300, seed=0):
    """The 8x8 handwritten digits shipped with scikit-learn (1797 images, 10 classes).

    Needs no download. Pixel values are scaled to [0, 1] before centring.

    Returns the data dict; images are (N, 1, 8, 8) float64.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = digits.images.astype(np.float64)[:, None, :, :] / 16.0
    y = digits.target.astype(np.int64)
    return _split_and_center(X, y, num_training, num_validation, num_test, seed)


def load_cifar10_batch(filename):
    """One CIFAR-10 python batch file (a pickle with b'data' and b'labels').

    Returns X (N, 3, 32, 32) float64 with pixel values 0..255 and y (N,) int64.
    """
    with open(filename, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    X = np.asarray(batch[b"data"], dtype=np.float64).reshape(-1, 3, 32, 32)
    y = np.asarray(batch[b"labels"], dtype=np.int64)
    return X, y


def load_cifar10_data(cifar10_dir, num_training=49000, num_validation=1000, num_test=1000):
    """CIFAR-10 from the standard python batch files in cifar10_dir.

    Expects data_batch_1 .. data_batch_5 and test_batch. Training and
    validation come from the training batches in order; test from test_batch.

    Returns the data dict; images are (N, 3, 32, 32) float64.
    """
    xs, ys = [], []
    for b in range(1, 6):
        X, y = load_cifar10_batch(os.path.join(cifar10_dir, "data_batch_%d" % b))
        xs.append(X)
        ys.append(y)
    X_all, y_all = np.concatenate(xs), np.concatenate(ys)
    X_test, y_test = load_cifar10_batch(os.path.join(cifar10_dir, "test_batch"))
    if num_training + num_validation > X_all.shape[0] or num_test > X_test.shape[0]:
        raise ValueError("not enough CIFAR-10 examples for the requested split")
    data = {
        "X_train": X_all[:num_training], "y_train": y_all[:num_training],
        "X_val": X_all[num_training:num_training + num_validation],
        "y_val": y_all[num_training:num_training + num_validation],
        "X_test": X_test[:num_test], "y_test": y_test[:num_test],
    }
    return _subtract_mean_image(data)


def get_data(dataset=None, **kwargs):
    """The assignment's data: digits by default, CIFAR-10 when a directory is given.

    Inputs:
    - dataset: None or "digits" for the bundled digits; a directory of
      CIFAR-10 python batches for CIFAR-10. When None, the environment
      variable NNKIT_CIFAR10_DIR, if set, selects CIFAR-10.
    - kwargs: split sizes for the loader

    Returns the data dict.
    """
    if dataset is None:
        dataset = os.environ.get("NNKIT_CIFAR10_DIR") or "digits"
    if dataset == "digits":
        return load_digits_data(**kwargs)
    return load_cifar10_data(dataset, **kwargs)
