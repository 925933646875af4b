"""Helpers for the judge's tests: tiny notebooks run with split execution, in the sandbox."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grader.judge.known_good import ReferenceProcess, ReferenceSolutions
from grader.judge.notebook_run import NotebookRun, RunSettings
from grader.sandbox.bubblewrap import sandbox_user, sandbox_works
from grader.sandbox.limits import Limits
from grader.sandbox.uids import process_uid
from grader.sandbox.wire import DEFAULT_BOUNDS

SANDBOXED = sandbox_works()[0]
NNKIT = Path(__file__).resolve().parents[2] / "assignments" / "nnkit"
SETUP = "import numpy as np\nfrom nnkit.checks import Checks, assert_allclose\nfrom nnkit.notebooks import known_good"
GOOD = "def double(x):\n    return 2 * x"
TEST = """checks = Checks(points=2)
with checks.check("doubles a vector"):
    x = np.arange(3.0)
    assert_allclose(double(x), 2 * np.arange(3.0), name="out")
with checks.check("doubles a matrix"):
    assert_allclose(double(np.ones((2, 2))), 2 * np.ones((2, 2)), name="out")
checks.score()"""


def meta(grade_id: str, kind: str, points: int = 2) -> dict[str, Any]:
    nbgrader: dict[str, Any] = {"grade_id": grade_id, "schema_version": 3, "task": False}
    nbgrader.update({"given": dict(grade=False, solution=False, locked=True),
                     "solution": dict(grade=False, solution=True, locked=False),
                     "test": dict(grade=True, solution=False, locked=True, points=points)}[kind])
    return {"nbgrader": nbgrader}


def notebook(solution: str, second_solution: str = GOOD.replace("double", "triple").replace("2 *", "3 *")) -> Any:
    """given setup, an answer cell, its test, a second answer and its test."""
    return new_notebook(cells=[
        new_code_cell(SETUP, metadata=meta("setup", "given")),
        new_code_cell(solution, metadata=meta("double_solution", "solution")),
        new_code_cell(TEST, metadata=meta("double", "test")),
        new_code_cell(second_solution, metadata=meta("triple_solution", "solution")),
        new_code_cell(TEST.replace("double", "triple").replace("2 *", "3 *"), metadata=meta("triple", "test")),
    ])


def one_function_notebook(name: str, solution: str, test: str) -> Any:
    """given setup, the answer cell `<name>_solution` and its test cell `<name>`."""
    return new_notebook(cells=[
        new_code_cell(SETUP, metadata=meta("setup", "given")),
        new_code_cell(solution, metadata=meta(f"{name}_solution", "solution")),
        new_code_cell(test, metadata=meta(name, "test")),
    ])


def solution_notebook(source: str, grade_id: str = "part_solution") -> bytes:
    """A notebook with one solution cell, as bytes (an earlier notebook, or the instructor's)."""
    nb = new_notebook(cells=[new_code_cell(source, metadata=meta(grade_id, "solution"))])
    return nbformat.writes(nb).encode()


def working_folder(extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    files = {f"work/nnkit/{p.name}": p.read_bytes() for p in NNKIT.glob("*.py")}
    files.update(extra or {})
    return files


_reference: dict[str, ReferenceProcess] = {}


def reference_process(limits: Limits = Limits()) -> ReferenceProcess:
    key = limits.to_json()
    if key not in _reference:
        _reference[key] = ReferenceProcess(limits, process_uid() if sandbox_user() else None, SANDBOXED,
                                           DEFAULT_BOUNDS)
    return _reference[key]


def run(nb: Any, timeout: float = 10, reference: dict[str, bytes] | None = None, files: dict[str, bytes] | None = None,
        verified: tuple[str, ...] = (), functions: tuple[str, ...] = (), budget: float = 600.0,
        limits: Limits = Limits(), **settings: Any) -> dict[str, float]:
    """Run a notebook; returns grade_id -> score of its test cells (0 when a cell gave no score)."""
    run_settings = RunSettings(timeout=timeout, budget=budget, limits=limits,
                               uid=process_uid() if SANDBOXED and sandbox_user() else None,
                               sandboxed=SANDBOXED, **settings)
    NotebookRun(nb, working_folder(files), "work", ReferenceSolutions(reference or {}), reference_process(),
                run_settings, list(verified), list(functions)).run()
    scores = {}
    for cell in nb.cells:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if cell.metadata["nbgrader"].get("grade"):
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            scores[grade_id] = float(results[0]["data"]["text/plain"]) if results else 0.0
    return scores


def text_of(cell: Any) -> str:
    return "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)


def outputs_json(nb: Any) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells])
