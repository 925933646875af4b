"""ReportProgress: tell the grading session which notebook is being autograded."""
from __future__ import annotations

from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from ..session import GradingSession


class ReportProgress(NbGraderPreprocessor):
    """Tell the progress bar which notebook is being autograded."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        session = GradingSession.current()
        if session is not None and session.on_notebook is not None:
            session.on_notebook(resources.get("unique_key", "?"))
        return nb, resources
