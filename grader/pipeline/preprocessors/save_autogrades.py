"""TimedSaveAutoGrades: nbgrader's SaveAutoGrades, timed, on one gradebook connection per worker."""
from __future__ import annotations

import time
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor, SaveAutoGrades

from ..gradebook import shared_connections
from ..session import GradingSession


class TimedSaveAutoGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, timed (the gradebook's share of grading time), on a shared
    connection inside `grader.pipeline.gradebook.shared_gradebooks()`."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        start = time.perf_counter()
        session = GradingSession.current()
        try:
            connections = shared_connections()
            if connections is None:
                result = super().preprocess(nb, resources)
            else:
                result = self._preprocess_shared(nb, resources, connections)
            if session is not None:
                session.saved.add(str(resources["nbgrader"]["notebook"]))
            return result
        finally:
            if session is not None:
                session.timings["gradebook"] += time.perf_counter() - start

    def _preprocess_shared(self, nb: NotebookNode, resources: dict[str, Any],
                           connections: dict[str, Gradebook]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]   # what SaveAutoGrades.preprocess reads, then its cell loop
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        if self.db_url not in connections:
            connections[self.db_url] = Gradebook(self.db_url)
        self.gradebook = connections[self.db_url]
        try:
            return NbGraderPreprocessor.preprocess(self, nb, resources)
        except BaseException:   # a failed session is not reused
            connections.pop(self.db_url).close()
            raise
