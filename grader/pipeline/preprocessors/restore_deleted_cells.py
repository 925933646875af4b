"""RestoreDeletedCells: put back locked cells (tests, given code) that a student deleted."""
from __future__ import annotations

import os
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ...course import read_course_notebook


class RestoreDeletedCells(NbGraderPreprocessor):
    """Put back locked cells that a student deleted, from the source notebook.

    nbgrader restores the text of edited locked cells but not deleted ones; without this a
    deleted test cell would simply not be run. Restored cells go after the nearest preceding
    cell that the submission still has.
    """

    source_root = Unicode("source", help="the course's source/ folder").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources.get("nbgrader", {})
        path = os.path.join(self.source_root, info.get("assignment", ""), f"{info.get('notebook', '')}.ipynb")
        if not os.path.exists(path):
            return nb, resources
        source = read_course_notebook(path)
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
        anchor = None
        for cell in source.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id")
            if grade_id and grade_id not in present and meta.get("locked"):
                position = 0 if anchor is None else 1 + next(
                    i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == anchor)
                restored = nbformat.from_dict(dict(cell))
                if restored.cell_type == "code":
                    restored.outputs, restored.execution_count = [], None
                nb.cells.insert(position, restored)
                present.add(grade_id)
                self.log.warning("Restored deleted cell %s", grade_id)
            if grade_id in present:
                anchor = grade_id
        return nb, resources
