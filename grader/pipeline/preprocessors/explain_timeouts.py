"""ExplainTimeouts: for nbgrader's plain Execute, a clear message for a cell stopped by the time limit."""
from __future__ import annotations

from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float

from ...judge.cells import CELL_TIMEOUT_MESSAGE

TIMEOUT_ENAMES = ("CellTimeoutError", "KeyboardInterrupt", "TimeoutError")


class ExplainTimeouts(NbGraderPreprocessor):
    """Replace the error of a cell stopped by the time limit with a plain explanation."""

    timeout = Float(30.0, help="the cell time limit in seconds, for the message").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.outputs:
            if output.output_type == "error" and output.ename in TIMEOUT_ENAMES:
                output.ename = "CellTimeoutError"
                output.evalue = CELL_TIMEOUT_MESSAGE.format(timeout=self.timeout)
                output.traceback = [f"CellTimeoutError: {output.evalue}"]
        return cell, resources
