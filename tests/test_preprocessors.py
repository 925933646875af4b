"""The kit's replacements of nbgrader steps behave exactly as nbgrader's own."""
import copy
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import SchemaTooOldError, ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from grader.preprocessors import CheckCellMetadataCompiled
from grader.preflight import read_course_notebook

SOURCE = Path(__file__).resolve().parent.parent / "source" / "fc_nets" / "01_layers.ipynb"


def first_cell_with(nb, key, value):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get(key) == value)


def wrong_type(nb):
    first_cell_with(nb, "grade", True).metadata["nbgrader"]["points"] = "two"


def missing_key(nb):
    del first_cell_with(nb, "solution", True).metadata["nbgrader"]["locked"]


def duplicate_grade_id(nb):
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    cells[1].metadata["nbgrader"]["grade_id"] = cells[0].metadata["nbgrader"]["grade_id"]


def old_schema(nb):
    first_cell_with(nb, "grade", True).metadata["nbgrader"]["schema_version"] = 1


def grade_without_points(nb):
    del first_cell_with(nb, "grade", True).metadata["nbgrader"]["points"]


def outcome(preprocessor, nb):
    try:
        preprocessor().preprocess(copy.deepcopy(nb), {})
        return "valid"
    except (ValidationError, SchemaTooOldError) as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("corrupt", [None, wrong_type, missing_key, duplicate_grade_id, old_schema,
                                     grade_without_points])
def test_compiled_metadata_check_accepts_and_rejects_what_nbgrader_does(corrupt):
    nb = copy.deepcopy(read_course_notebook(SOURCE))
    if corrupt is not None:
        corrupt(nb)
    expected = outcome(CheckCellMetadata, nb)
    assert (expected == "valid") == (corrupt is None), expected
    assert outcome(CheckCellMetadataCompiled, nb) == expected


def test_course_notebooks_are_parsed_again_when_the_file_changes(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1")]), path)
    first = read_course_notebook(path)
    assert read_course_notebook(path) is first
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 22")]), path)
    assert read_course_notebook(path).cells[0].source == "a = 22"
