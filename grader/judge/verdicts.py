"""Which graded functions kept full marks so far: composite tests use those as they are."""
from __future__ import annotations

import contextlib
from collections.abc import Iterable

from nbformat.notebooknode import NotebookNode

from ..conventions import cell_role, function_of_test, nbgrader_meta


class Verdicts:
    """Test-cell verdicts of one notebook run, by graded function.

    Inputs:
    - functions: the assignment's graded functions and classes (to map test cells to them)
    - verified: functions that passed all their tests earlier in this grading run
    """

    def __init__(self, functions: Iterable[str], verified: Iterable[str] = ()) -> None:
        self.functions = list(functions)
        self.verified = set(verified)
        self.failed: set[str] = set()

    def function_of(self, cell: NotebookNode) -> str | None:
        try:
            return function_of_test(nbgrader_meta(cell).get("grade_id", ""), self.functions)
        except ValueError:
            return None

    def record(self, cell: NotebookNode) -> None:
        """Note whether a test cell that just ran kept its full points."""
        function = self.function_of(cell)
        if function is None:
            return
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        try:
            points = float(nbgrader_meta(cell).get("points", 0))
            full = not errors and bool(results) and float(results[0]["data"]["text/plain"]) >= points
        except (TypeError, ValueError, KeyError):
            full = False
        if not full:
            self.failed.add(function)

    def tested(self, cells: Iterable[NotebookNode]) -> set[str]:
        found = set()
        for cell in cells:
            if cell.cell_type == "code" and cell_role(cell) == "test":
                with contextlib.suppress(TypeError):
                    function = self.function_of(cell)
                    if function is not None:
                        found.add(function)
        return found

    def passed(self, nb: NotebookNode) -> set[str]:
        """Graded functions whose every test cell in this notebook kept full marks."""
        return self.tested(nb.cells) - self.failed

    def completed(self, nb: NotebookNode, current: NotebookNode) -> set[str]:
        """Functions whose test cells in this notebook have all run (up to `current`) with full marks."""
        index = next(i for i, cell in enumerate(nb.cells) if cell is current)
        return self.passed(nb) - self.tested(nb.cells[index + 1:])
