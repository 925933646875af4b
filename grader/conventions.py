"""The notebook conventions that the grader relies on (SPEC section 2), stated once.

- A graded function or class `<name>` is defined in its own solution cell, grade_id `<name>_solution`.
- Every autograded test cell's grade_id starts with the name of what it grades.
- A forward pass `<layer>_forward` and its backward pass `<layer>_backward` form a pair: a cache
  made by one half only ever goes to the other half of the same implementation.
- A notebook uses another's answers through `import_solutions("<notebook>.ipynb")` (or
  "../<assignment>/<notebook>.ipynb" for an earlier assignment) in a given cell.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SOLUTION_SUFFIX = "_solution"
FORWARD, BACKWARD = "_forward", "_backward"
SKIP_TAG = "experiment"


def nbgrader_meta(cell: Mapping[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def function_cell(function: str) -> str:
    """The grade_id of the solution cell that defines `function`."""
    return function + SOLUTION_SUFFIX


def is_solution_code(cell: Mapping[str, Any]) -> bool:
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("solution")) and not meta.get("grade")


def cell_role(cell: Mapping[str, Any]) -> str:
    """'test' for autograded test cells, 'given' for locked instructor code, else 'student'."""
    meta = nbgrader_meta(cell)
    if meta.get("grade") and not meta.get("solution"):
        return "test"
    if meta.get("locked") and not meta.get("solution"):
        return "given"
    return "student"


def source_of(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def graded_functions_of(notebooks: Iterable[Mapping[str, Any]]) -> list[str]:
    """Names of the graded functions and classes of some notebooks (their `<name>_solution` cells)."""
    names = set()
    for nb in notebooks:
        for cell in nb.get("cells", []):
            grade_id = nbgrader_meta(cell).get("grade_id", "")
            if is_solution_code(cell) and grade_id.endswith(SOLUTION_SUFFIX):
                names.add(grade_id[: -len(SOLUTION_SUFFIX)])
    return sorted(names)


def function_of_test(grade_id: str, functions: Iterable[str]) -> str:
    """The graded function a test cell belongs to: the longest name its grade_id starts with."""
    matches = [f for f in functions if grade_id == f or grade_id.startswith(f + "_")]
    if not matches:
        raise ValueError(f"test cell {grade_id!r} does not start with the name of a graded function")
    return max(matches, key=len)


def pair_of(name: str) -> str | None:
    """The other half of a forward/backward pair (affine_forward <-> affine_backward), or None."""
    if name.endswith(FORWARD):
        return name[: -len(FORWARD)] + BACKWARD
    if name.endswith(BACKWARD):
        return name[: -len(BACKWARD)] + FORWARD
    return None


_IMPORTS = re.compile(r"import_solutions\(([^)]*)\)")
_NOTEBOOK = re.compile(r"""["']([^"']+\.ipynb)["']""")


def imported_notebooks(nb: Mapping[str, Any]) -> list[str]:
    """The notebooks (paths relative to this one's folder) whose answers this notebook imports."""
    found: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or cell_role(cell) != "given":
            continue
        for call in _IMPORTS.findall(source_of(cell)):
            found += [n for n in _NOTEBOOK.findall(call) if n not in found]
    return found
