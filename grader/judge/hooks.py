"""nnkit's helpers as the judge needs them while it runs a notebook's test cells.

- `import_solutions`: in the judge, student solutions are never imported (they are proxies);
- `known_good`: the judge's swap of known-good building blocks (grader.judge.known_good);
- the numerical-gradient loops: their student calls batched (grader.judge.perturbation);
- `eval_numerical_param_gradients`: the loop of a student model run beside it.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from . import perturbation
from .channel import StudentProcess


def no_import(*paths: str, **kwargs: Any) -> dict[str, Any]:
    """import_solutions in the judge: nothing (the student's functions are proxies here)."""
    return {}


@contextlib.contextmanager
def judged_helpers(process: StudentProcess, known_good: Callable[..., Any]) -> Iterator[None]:
    """Patch nnkit's helpers for the duration of a notebook run, and restore them."""
    import nnkit.gradient_check as gradient_hooks
    import nnkit.notebooks as hooks

    originals = hooks.import_solutions, hooks.known_good, gradient_hooks.eval_numerical_param_gradients
    loops = {name: getattr(gradient_hooks, name) for name in perturbation.PERTURBATION_LOOPS}

    def param_gradients(*args: Any, **kwargs: Any) -> Any:
        kwargs["fallback"] = originals[2]
        return perturbation.param_gradients(*args, **kwargs)

    hooks.import_solutions, hooks.known_good = no_import, known_good
    gradient_hooks.eval_numerical_param_gradients = param_gradients
    for name, helper in loops.items():
        setattr(gradient_hooks, name, perturbation.batched(helper, process))
    try:
        yield
    finally:
        hooks.import_solutions, hooks.known_good, gradient_hooks.eval_numerical_param_gradients = originals
        for name, helper in loops.items():
            setattr(gradient_hooks, name, helper)
