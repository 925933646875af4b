"""RestoreHiddenTests: nbgrader's OverwriteCells, without a warning for every released test cell."""
from __future__ import annotations

from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells


class RestoreHiddenTests(OverwriteCells):
    """Put the instructor's version of every locked cell back, as nbgrader's OverwriteCells does,
    and warn only about cells the student changed.

    nbgrader compares each locked cell of a submission with the source version in the gradebook;
    a released test cell never matches it, since its hidden tests were removed at release, so
    nbgrader logs "Attribute 'checksum' ... has changed!" for every test cell of a pristine
    submission. Here a locked cell that is exactly its released version (the source version with
    its hidden-test regions removed) gets the source version back silently; any other change is
    reported and overwritten by nbgrader as before.
    """

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        cell_index: int) -> tuple[NotebookNode, dict[str, Any]]:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and utils.is_locked(cell):
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None
            if source_cell is not None and source_cell.locked and cell.source == released_source(source_cell.source):
                cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)


def released_source(source: str) -> str:
    """What nbgrader's release makes of a cell's source: its hidden-test regions removed."""
    cell = NotebookNode(cell_type="code", source=source, metadata={})
    try:
        ClearHiddenTests()._remove_hidden_test_region(cell)
    except RuntimeError:   # unbalanced markers: nothing matches, nbgrader's own check reports it
        return "\0"
    return str(cell.source)
