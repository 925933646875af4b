"""The kit's replacements of nbgrader steps behave exactly as nbgrader's own."""
import copy
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import SchemaTooOldError, ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from conftest import ASSIGNMENT, catalog, gradebook_scores, needs_sandbox, released_class
from grader.course import read_course_notebook
from grader.pipeline import gradebook
from grader.pipeline.autograde import grade_one
from grader.pipeline.gradebook import shared_gradebooks
from grader.pipeline.preprocessors import CheckCellMetadataCompiled

SOURCE = Path(__file__).resolve().parents[2] / "source" / "fc_nets" / "01_layers.ipynb"


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


@needs_sandbox
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")   # nbgrader's own, on every autograde
def test_a_shared_gradebook_connection_records_what_nbgrader_records(tmp_path):
    """Two identical submissions: one saved by nbgrader's SaveAutoGrades (a gradebook per notebook),
    the other inside shared_gradebooks() (one connection for all notebooks); same rows."""
    bug = catalog().MOMENTUM_SIGN.replacements()
    course = released_class(tmp_path, {"alone": bug, "shared": bug})
    assert grade_one(course, ASSIGNMENT, "alone").success
    with shared_gradebooks():
        assert grade_one(course, ASSIGNMENT, "shared").success
        assert len(gradebook.shared_connections()) == 1   # every notebook used the one connection
    assert gradebook.shared_connections() is None          # closed when the block ends

    scores = gradebook_scores(course)
    by_student = {student: {key[1:]: score for key, score in scores.items() if key[0] == student}
                  for student in ("alone", "shared")}
    assert by_student["shared"] == by_student["alone"]
    assert len(by_student["shared"]) > 30 and any(s < top for s, top in by_student["shared"].values())


class _SourceCells:
    """The gradebook's side of RestoreHiddenTests: the source version of one locked test cell."""

    def __init__(self, cell):
        from types import SimpleNamespace

        from nbgrader import utils

        self.cell = SimpleNamespace(source=cell.source, locked=True, cell_type="code",
                                    checksum=utils.compute_checksum(cell), max_score=2.0)

    def find_source_cell(self, *args):
        return self.cell

    find_graded_cell = find_source_cell


@pytest.mark.parametrize("student_source, warned", [
    ("checks = Checks(points=2)\nassert f(1) == 1\n", False),             # the released cell, untouched
    ("checks = Checks(points=2)\nassert True\n", True),                   # the student edited the test
])
def test_hidden_tests_come_back_with_a_warning_only_for_cells_the_student_changed(student_source, warned):
    import logging

    from nbformat.v4 import new_code_cell

    from grader.pipeline.preprocessors import RestoreHiddenTests

    nbgrader_meta = {"grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "f_test",
                     "schema_version": 3}
    source = ("checks = Checks(points=2)\nassert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(2) == 2\n"
              "### END HIDDEN TESTS\n")
    preprocessor = RestoreHiddenTests()
    preprocessor.gradebook = _SourceCells(new_code_cell(source, metadata={"nbgrader": dict(nbgrader_meta)}))
    preprocessor.notebook_id, preprocessor.assignment_id = "nb", "a"
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    preprocessor.log.addHandler(handler)
    try:
        cell, _ = preprocessor.preprocess_cell(
            new_code_cell(student_source, metadata={"nbgrader": dict(nbgrader_meta)}), {}, 0)
    finally:
        preprocessor.log.removeHandler(handler)
    assert cell.source == source                       # the hidden tests are back either way
    assert any("checksum" in r.getMessage() for r in records) == warned
