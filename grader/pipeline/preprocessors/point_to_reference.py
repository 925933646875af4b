"""PointToReference: for nbgrader's plain Execute, point the kernel at the instructor's notebooks."""
from __future__ import annotations

import os
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from nnkit.notebooks import REFERENCE_DIR_VARIABLE


class PointToReference(NbGraderPreprocessor):
    """Point the kernel at the instructor's notebooks of the assignment being graded.

    `nnkit.notebooks.known_good` then swaps the instructor's building blocks in for the tests
    of composite functions. Runs before Execute, which starts the kernel with this process's
    environment. (SplitExecute does not need it: the judge provides known_good itself.)
    """

    source_root = Unicode("source", help="the course's source/ folder").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        assignment = resources.get("nbgrader", {}).get("assignment")
        if assignment:
            os.environ[REFERENCE_DIR_VARIABLE] = os.path.abspath(os.path.join(self.source_root, assignment))
        return nb, resources
