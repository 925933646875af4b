"""Numerical gradients of student code at the cost of one request, not one per evaluation."""
from __future__ import annotations

import collections
import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sandbox import protocol, values, wire
from .errors import StudentCodeError
from .proxies import RemoteObject, handle_of, raise_student_error, relay_output

if TYPE_CHECKING:
    from .channel import StudentProcess

#: nnkit.gradient_check helpers whose loops of student calls run as one request (PerturbationBatch)
PERTURBATION_LOOPS = ("eval_numerical_gradient", "eval_numerical_gradient_array")


class PerturbationBatch:
    """Runs the student calls of one numerical-gradient loop in a single request.

    nnkit's eval_numerical_gradient(_array) perturbs one entry of x at a time by +h and -h and
    evaluates f; when f is a test's lambda around a student function, each evaluation costs a
    round trip to the student process. The first evaluation runs as usual and shows the call
    f makes. If it makes exactly one call, with x (or an equal copy) as one positional
    argument, the second evaluation's call asks the student process to run the rest of the
    loop there (grader.sandbox.worker.gradients.perturbed_calls), when its arguments are the first call's
    again: equal values, and the objects f passes again (not fresh copies) left unchanged by
    the first call. The student process stops after a call that changes such an object in
    place: later evaluations would see the change. Every later evaluation takes its call's
    reply, in order, after checking that the call is the expected one; any other call ends
    the batch and goes to the student process as usual. The verdict still comes from the
    replies alone: the student's function returns values, here as in a call of its own.
    """

    def __init__(self, process: StudentProcess, x: np.ndarray, h: float) -> None:
        self.process, self.x, self.h = process, x, h
        self.original = x.copy()
        self.evaluations = 0
        self.calls_this_evaluation = 0
        self.first: Any = None    # the first evaluation's call: target, position of x, arguments (copies, objects)
        self.changed: set = set()   # positions and keywords of arguments that the first call changed in place
        #: the student process's replies for the evaluations still to come
        self.replies: collections.deque | None = None

    def begin_evaluation(self) -> None:
        self.evaluations += 1
        self.calls_this_evaluation = 0

    def end_evaluation(self) -> None:
        if self.calls_this_evaluation != 1:
            self.stop()

    def stop(self) -> None:
        self.first = self.replies = None

    def reply_for(self, target: protocol.Target, args: tuple, kwargs: dict) -> dict[str, Any] | None:
        """The reply for this call from the batch, or None: the caller sends it as usual."""
        self.calls_this_evaluation += 1
        if self.evaluations == 1 and self.calls_this_evaluation == 1:
            self._remember_first(target, args, kwargs)
            return None
        if self.first is None or self.calls_this_evaluation != 1 or not self._matches(target, args, kwargs):
            self.stop()
            return None
        if self.replies is None and self.evaluations == 2:
            self._run_rest_of_loop(target, args, kwargs)
        if not self.replies:
            self.stop()
            return None
        return self.replies.popleft()

    def _remember_first(self, target: protocol.Target, args: tuple, kwargs: dict) -> None:
        positions = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and values.same_value(a, self.x)]
        if len(positions) != 1 or self.x.size < 2 or type(self.h) is not float:
            return
        try:
            copies = wire.round_trip(list(args), keep=handle_of), wire.round_trip(kwargs, keep=handle_of)
        except wire.WireError:
            return
        self.first = (target, positions[0], *copies, list(args), dict(kwargs))

    def called(self, args: tuple, kwargs: dict) -> None:
        """After the first evaluation's call: note the arguments it changed in place."""
        if self.evaluations == 1 and self.first is not None:
            _, _, arg_copies, kwarg_copies, _, _ = self.first
            self.changed = {i for i, (a, c) in enumerate(zip(args, arg_copies)) if not values.same_value(a, c)}
            self.changed |= {k for k, v in kwargs.items() if not values.same_value(v, kwarg_copies.get(k))}

    def _matches(self, target: protocol.Target, args: tuple, kwargs: dict) -> bool:
        first_target, position, arg_copies, kwarg_copies, _, _ = self.first
        return (target == first_target and len(args) == len(arg_copies)
                and values.same_value(args[position], self.x)
                and all(values.same_value(a, c) for i, (a, c) in enumerate(zip(args, arg_copies)) if i != position)
                and values.same_value(kwargs, kwarg_copies))

    def _run_rest_of_loop(self, target: protocol.Target, args: tuple, kwargs: dict) -> None:
        _, position, _, _, first_args, first_kwargs = self.first
        # arguments f passes again (the same objects): their in-place changes carry over to later calls
        shared = [i for i, a in enumerate(args) if a is first_args[i] and isinstance(a, (np.ndarray, dict, list))]
        shared_keys = [k for k, v in kwargs.items()
                       if v is first_kwargs.get(k) and isinstance(v, (np.ndarray, dict, list))]
        if self.changed & (set(shared) | set(shared_keys)):
            self.replies = collections.deque()
            return
        entries, order = np.nditer(self.x, flags=["multi_index"]), []   # the loop's order (memory layout)
        while not entries.finished:
            order.append(entries.multi_index)
            entries.iternext()
        reply = self.process.request(protocol.perturbed_calls(
            target, list(args), kwargs, position, shared, shared_keys, list(order[0]), self.original[order[0]],
            self.h, [list(index) for index in order[1:]]))
        replies = reply.get("replies") if reply.get("ok") else None
        self.replies = collections.deque(r for r in replies if isinstance(r, dict)) \
            if isinstance(replies, list) else collections.deque()


def batched(helper: Callable[..., Any], process: StudentProcess) -> Callable[..., Any]:
    """nnkit's numerical-gradient loop `helper`, its student calls run as one PerturbationBatch."""
    signature = inspect.signature(helper)

    @functools.wraps(helper)
    def run(f: Callable[[Any], Any], x: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(x, np.ndarray) or process.batch is not None:
            return helper(f, x, *args, **kwargs)
        bound = signature.bind(f, x, *args, **kwargs)
        batch = PerturbationBatch(process, x, bound.arguments.get("h", signature.parameters["h"].default))

        def evaluate(value: Any) -> Any:
            batch.begin_evaluation()
            try:
                return f(value)
            finally:
                batch.end_evaluation()

        process.batch = batch
        try:
            return helper(evaluate, x, *args, **kwargs)
        finally:
            process.batch = None

    return run


def param_gradients(model: Any, X: Any, y: Any, names: list[str] | None = None, h: float = 1e-5,
                    entries: int | None = None, seed: int = 0,
                    fallback: Callable[..., Any] | None = None) -> dict[str, np.ndarray]:
    """nnkit's eval_numerical_param_gradients for a student model: one request per test.

    The judge picks the entries (nnkit's sample_entries); the perturbation loop runs beside
    the model (it can only report loss values, as any call can); the gradients are computed
    here from those values. A model that is not the student's goes to `fallback` (nnkit's own).
    """
    from nnkit.gradient_check import sample_entries

    if not isinstance(model, RemoteObject):
        if fallback is None:
            raise TypeError("not a student model")
        return dict(fallback(model, X, y, names=names, h=h, entries=entries, seed=seed))
    params = model.params
    names = sorted(params) if names is None else list(names)
    shapes = {name: np.shape(params[name]) for name in names}
    indices = {name: sample_entries(int(np.prod(shape, dtype=np.int64)), entries, seed).tolist()
               for name, shape in shapes.items()}
    process, handle = (object.__getattribute__(model, k) for k in ("_process", "_handle"))
    reply = process.request(protocol.param_losses(handle, indices, X, y, h))
    relay_output(reply)
    if not reply.get("ok"):
        raise_student_error(reply)
    losses = reply.get("result")
    if not isinstance(losses, dict) or set(losses) != set(names):
        raise StudentCodeError("the model's loss values could not be read")
    grads = {}
    for name in names:
        try:
            plus, minus = (np.asarray(v, dtype=np.float64).reshape(-1) for v in losses[name])
        except (TypeError, ValueError) as exc:
            raise StudentCodeError("the model's loss values could not be read") from exc
        if plus.size != len(indices[name]) or minus.size != len(indices[name]):
            raise StudentCodeError("the model's loss values could not be read")
        grad = np.full(shapes[name], np.nan)
        grad.flat[indices[name]] = (plus - minus) / (2 * h)
        grads[name] = grad
    return grads
