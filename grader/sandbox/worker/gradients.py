"""Numerical-gradient loops over student code, run here: one request instead of one per call."""
from __future__ import annotations

# Student code may replace builtins: keep the originals.
from builtins import IndexError, TypeError, ValueError, all, dict, enumerate, float, len, list, map, tuple  # noqa: A004

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import values, wire
from ..protocol import Reply, drop_empty_fields, reply
from .capture import run_captured
from .objects import call_reply, outcome_reply, target

if TYPE_CHECKING:
    from .server import StudentWorker


def perturbed_calls(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    """The remaining calls of a numerical-gradient loop, run here.

    The judge's loop (nnkit.gradient_check) perturbs one entry of an array at a time by +h and
    -h and calls the student's function on it. The judge ran the first call itself; this runs
    the rest of the same loop with the same arithmetic, each call on fresh copies of its
    arguments as if sent over the wire, and replies with every call's reply, in order. It
    stops after a call that fails or changes in place an argument the next call gets (the
    judge then goes on call by call), or when the loop itself would fail.

    msg: the target, "args" and "kwargs" of the next call (the perturbed array at "position",
    its entry "first_index" at "first_old" - h), "indices" of the entries after it, "h", and
    the positions ("shared") and keywords ("shared_keys") of arguments that are the same
    objects on every call (the others are fresh copies, whose changes are dropped).
    """
    args, kwargs, position, h = list(msg["args"]), msg["kwargs"], msg["position"], msg["h"]
    shared, shared_keys = msg["shared"], msg["shared_keys"]
    state = args[position]     # the judge's array, as its loop leaves it before each call
    replies: list[Any] = []
    keep, resolve = worker.handles.keep, worker.handles.resolve

    def call_once() -> bool:
        call_args = wire.round_trip([state if i == position else a for i, a in enumerate(args)])
        call_kwargs = wire.round_trip(kwargs)
        answer = drop_empty_fields(dict(call_reply(lambda: target(worker, msg), call_args, call_kwargs)))
        replies.append(wire.round_trip(answer, keep=keep, resolve=resolve))   # as sent now
        unchanged = all(values.same_value(call_args[i], state if i == position else args[i]) for i in shared) \
            and all(values.same_value(call_kwargs[k], kwargs[k]) for k in shared_keys)
        return bool(answer["ok"]) and unchanged

    try:
        if call_once():
            state[tuple(msg["first_index"])] = msg["first_old"]
            for index in map(tuple, msg["indices"]):
                old = state[index]
                state[index] = old + h
                if not call_once():
                    break
                state[index] = old - h
                if not call_once():
                    break
                state[index] = old
    except (IndexError, TypeError, ValueError):   # the judge's loop fails at the same step
        pass
    return reply(True, replies=replies)


def param_losses(worker: StudentWorker, msg: dict[str, Any]) -> Reply:
    """Losses of a model with parameter entries perturbed by +h and -h (for numerical gradients).

    The same loop as nnkit.gradient_check.eval_numerical_param_gradients, at the flat indices
    the judge chose, run here so that it costs one request instead of two per evaluation;
    the judge computes the gradients.
    """
    model, X, y, h = worker.handles.resolve(msg["handle"]), msg["X"], msg["y"], float(msg["h"])

    def run() -> dict[str, tuple[np.ndarray, np.ndarray]]:
        losses = {}
        for name, indices in msg["indices"].items():
            original = model.params[name]
            x = np.array(original, dtype=np.float64, copy=True)
            flat = x.reshape(-1)
            plus, minus = np.zeros(len(indices)), np.zeros(len(indices))
            for k, i in enumerate(indices):
                old = flat[i]
                flat[i] = old + h
                model.params[name] = x
                plus[k] = float(model.loss(X, y)[0])
                flat[i] = old - h
                model.params[name] = x
                minus[k] = float(model.loss(X, y)[0])
                flat[i] = old
            model.params[name] = original
            losses[name] = (plus, minus)
        return losses

    outcome = run_captured(run)
    return outcome_reply(outcome, result=outcome.value)
