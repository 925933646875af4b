"""VerdictsFromChecks: for nbgrader's plain Execute, stderr never decides a verdict."""
from __future__ import annotations

from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor


class VerdictsFromChecks(NbGraderPreprocessor):
    """Show stderr of test cells as stdout, so only the checks decide a verdict.

    Plain nbgrader scores a test cell 0 when anything reaches stderr, so a warning from
    correct code would cost points. A test cell's verdict is its error (if it raised) or the
    partial credit returned by `checks.score()`.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
                    output.text = "".join("[stderr] " + line for line in output.text.splitlines(True))
        return cell, resources
