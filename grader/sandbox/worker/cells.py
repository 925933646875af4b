"""Running a notebook cell's source as a kernel would: IPython syntax, the last expression's value."""
from __future__ import annotations

# Student code may replace builtins: keep the originals.
from builtins import Exception, SyntaxError, ValueError, compile, eval, exec, isinstance  # noqa: A004

import ast
from typing import Any

from .capture import Outcome, run_captured


class QuietShell:
    """What get_ipython() returns here: magics and shell escapes do nothing when grading."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def transform(source: str) -> str:
    """IPython syntax (magics, shell escapes) to Python, as a notebook kernel would do it.

    A cell that compiles as plain Python is left alone without importing IPython: IPython's
    escapes (%magic, !shell, help?) only count at the start or end of a logical line,
    where they are never valid Python.
    """
    try:
        compile(source, "<cell>", "exec")
        return source
    except (SyntaxError, ValueError):  # magics, pasted prompts, indented cells, ...: IPython's job
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # plain Python cells still run
        return source
    try:
        return str(TransformerManager().transform_cell(source))
    except Exception:  # leave it to the compiler to report
        return source


def run_cell(source: str, namespace: dict[str, Any], name: str) -> Outcome:
    """Run a cell in `namespace` (its output captured); the value is the last expression's, if any."""
    namespace.setdefault("get_ipython", lambda: QuietShell())
    code = transform(source)

    def run() -> Any:
        tree = ast.parse(code, filename=name)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body[-1].value)
            tree.body.pop()
        exec(compile(tree, name, "exec"), namespace)
        if last is not None:
            return eval(compile(last, name, "eval"), namespace)
        return None

    return run_captured(run)
