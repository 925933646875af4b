"""Cells as the judge runs them: compiled once, their outputs built as nbformat outputs."""
from __future__ import annotations

import ast
import functools
import hashlib
import io
from types import CodeType
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_output

from . import hidden

OUTPUT_LIMIT = 64 * 1024
MAX_FIGURES = 20
CELL_TIMEOUT_MESSAGE = ("this cell was stopped after {timeout:g} s (an infinite loop or a very slow function?); "
                        "its tests score 0 and the other cells were graded normally")
BUDGET_MESSAGE = ("the notebook's time budget of {budget:g} s is exhausted (slow or looping code in earlier "
                  "cells?); this cell and the rest of the notebook score 0, later notebooks are graded normally")


class CappedStdout(io.StringIO):
    """What a cell run in the judge prints, up to OUTPUT_LIMIT characters."""

    def write(self, text: str) -> int:
        if self.tell() < OUTPUT_LIMIT:
            return super().write(str(text)[: OUTPUT_LIMIT - self.tell()])
        return len(text)


def stream(text: str, name: str = "stdout") -> NotebookNode:
    return new_output("stream", name=name, text=text)


def error_output(ename: str, evalue: str, where: list[str] | tuple[str, ...] = ()) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", *where])


def result_output(text: str, execution_count: int | None) -> NotebookNode:
    return new_output("execute_result", {"text/plain": text[:OUTPUT_LIMIT]}, execution_count=execution_count)


def figure_output(png: str) -> NotebookNode:
    return new_output("display_data", {"image/png": png, "text/plain": "<Figure>"})


@functools.lru_cache(maxsize=256)
def compile_cell(source: str) -> tuple[CodeType, CodeType | None]:
    """A cell's code compiled as (body, last expression or None), as a kernel runs it.

    Test cells are the instructor's in every submission (nbgrader overwrites edited ones), and
    given cells nearly always are: a grading process compiles each distinct source once. Each
    source gets a file name of its own, so that its hidden regions can be recognised.
    """
    filename = f"<test {hashlib.sha1(source.encode()).hexdigest()[:12]}>"
    hidden.register(filename, source)
    tree = ast.parse(source)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body[-1].value)
        tree.body.pop()
    return compile(tree, filename, "exec"), compile(last, filename, "eval") if last is not None else None


def run_compiled(source: str, namespace: dict[str, Any]) -> Any:
    """Run a cell's code in namespace; returns the last expression's value (or None)."""
    body, last = compile_cell(source)
    exec(body, namespace)
    return eval(last, namespace) if last is not None else None


def show_reply(cell: NotebookNode, reply: dict[str, Any]) -> None:
    """The outputs of a student cell from the student process's reply: streams, figures, value, error."""
    if reply.get("stdout"):
        cell.outputs.append(stream(str(reply["stdout"])))
    if reply.get("stderr"):
        cell.outputs.append(stream(str(reply["stderr"]), "stderr"))
    figures = reply.get("figures")
    for png in (figures if isinstance(figures, list) else [])[:MAX_FIGURES]:
        if isinstance(png, str):
            cell.outputs.append(figure_output(png))
    if reply.get("ok") and reply.get("result") is not None:
        cell.outputs.append(result_output(str(reply["result"]), cell.execution_count))
    if not reply.get("ok"):
        error = reply.get("error") or {}
        if not isinstance(error, dict):
            error = {"ename": "Error", "evalue": str(error)}
        cell.outputs.append(error_output(str(error.get("ename", "Error")), str(error.get("evalue", "")),
                                         [str(w) for w in list(error.get("where") or [])]))
