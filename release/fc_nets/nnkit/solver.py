"""Solver: trains a classification model with minibatch gradient descent."""
import pickle
import sys

import numpy as np


class Solver:
    """Trains a model with an update rule, tracking loss and accuracies.

    The model must have:
    - model.params: dict name -> array of parameters
    - model.loss(X, y=None): scores (N, C) when y is None, else (loss, grads)
      with grads keyed like params

    Data is a dict with X_train (N_train, ...), y_train (N_train,), X_val, y_val.

    Optional keywords (defaults):
    - update_rule ('sgd'): an update rule function rule(w, dw, config) ->
      (next_w, config), or the name of one defined in your notebook
    - optim_config ({}): hyperparameters for the rule; each parameter gets its own copy
    - lr_decay (1.0): learning_rate is multiplied by this after every epoch
    - batch_size (100), num_epochs (10)
    - num_train_samples (1000), num_val_samples (None): how many examples to
      use when measuring accuracy (None = all)
    - checkpoint_name (None): if set, a pickle is written after every epoch
    - print_every (10): print the loss every this many iterations
    - verbose (True)
    An unknown keyword raises ValueError.

    After train(): loss_history, train_acc_history, val_acc_history are filled
    and model.params holds the parameters with the best validation accuracy.
    """

    def __init__(self, model, data, **kwargs):
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        if kwargs:
            raise ValueError("Unrecognized arguments %s" % ", ".join('"%s"' % k for k in kwargs))

        self.update_rule = _resolve_update_rule(self.update_rule)
        self._reset()

    def _reset(self):
        """Set up the bookkeeping; called by the constructor."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {p: dict(self.optim_config) for p in self.model.params}

    def _step(self):
        """One gradient update on a random minibatch."""
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]

        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(float(loss))

        for p, w in list(self.model.params.items()):
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def _save_checkpoint(self):
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "update_rule": getattr(self.update_rule, "__name__", str(self.update_rule)),
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = "%s_epoch_%d.pkl" % (self.checkpoint_name, self.epoch)
        if self.verbose:
            print('Saving checkpoint to "%s"' % filename)
        with open(filename, "wb") as f:
            pickle.dump(checkpoint, f)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Accuracy of the model on (a random subsample of) X, y.

        Inputs:
        - X: data (N, d_1, ..., d_k); y: labels (N,)
        - num_samples: subsample this many examples (None = all)
        - batch_size: evaluate in batches of this size

        Returns the fraction of correctly classified examples.
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = np.random.choice(N, num_samples)
            N = num_samples
            X = X[mask]
            y = y[mask]

        num_batches = (N + batch_size - 1) // batch_size
        y_pred = []
        for i in range(num_batches):
            start, end = i * batch_size, (i + 1) * batch_size
            scores = self.model.loss(X[start:end])
            y_pred.append(np.argmax(scores, axis=1))
        y_pred = np.hstack(y_pred)
        return float(np.mean(y_pred == y))

    def train(self):
        """Run the optimisation for num_epochs epochs."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        for t in range(num_iterations):
            self._step()

            if self.verbose and t % self.print_every == 0:
                print("(Iteration %d / %d) loss: %f" % (t + 1, num_iterations, self.loss_history[-1]))

            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for k in self.optim_configs:
                    if "learning_rate" in self.optim_configs[k]:
                        self.optim_configs[k]["learning_rate"] *= self.lr_decay

            first_it = t == 0
            last_it = t == num_iterations - 1
            if first_it or last_it or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                self._save_checkpoint()

                if self.verbose:
                    print("(Epoch %d / %d) train acc: %f; val_acc: %f"
                          % (self.epoch, self.num_epochs, train_acc, val_acc))

                if val_acc > self.best_val_acc:
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}

        self.model.params = self.best_params if self.best_params else self.model.params


def _resolve_update_rule(rule):
    """An update rule function, given the function or the name of one.

    Names are looked up in the running notebook (the __main__ module), where
    your update rules are defined.
    """
    if callable(rule):
        return rule
    main = sys.modules.get("__main__")
    found = getattr(main, rule, None) if isinstance(rule, str) else None
    if not callable(found):
        raise ValueError('Invalid update_rule "%s": define it in the notebook or pass the function itself' % rule)
    return found
