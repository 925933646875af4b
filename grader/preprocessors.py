"""nbgrader preprocessors of the course kit, plugged in by nbgrader_config.py.

Autograde: `ReportProgress` (names the notebook being graded), `PointToReference`
(known-good building blocks for composite tests), `VerdictsFromChecks`
(stderr never decides a verdict), `ExplainTimeouts` (a clear message for a stopped cell).
`CheckCellMetadataCompiled` (nbgrader's metadata check with its schema compiled once),
`TimedSaveAutoGrades` (nbgrader's SaveAutoGrades, timed, on one gradebook connection per worker).
Feedback: `HideHiddenTests` (no hidden-test source, no tracebacks that quote it).
"""
import collections
import contextlib
import functools
import json
import os
import time
import traceback

import jsonschema
import jsonschema.exceptions
import jsonschema.validators
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata, NbGraderPreprocessor, SaveAutoGrades
from nbgrader import utils
from traitlets import Bool, Integer, List, Unicode

from nnkit.notebooks import REFERENCE_DIR_VARIABLE

TIMEOUT_ENAMES = ("CellTimeoutError", "KeyboardInterrupt", "TimeoutError")

#: called with the notebook name before each notebook is executed (set by the CLI's progress bar)
progress_callback = None

#: seconds spent per phase in this process since the last reset (read by grader.autograde)
timings = collections.defaultdict(float)

#: (student, assignment) -> graded functions that passed all their tests in the current grading run;
#: composite tests use these building blocks as they are (reset by grader.autograde per submission)
verified = {}


class ReportProgress(NbGraderPreprocessor):
    """Tell the progress bar which notebook is being autograded."""

    def preprocess(self, nb, resources):
        if progress_callback is not None:
            progress_callback(resources.get("unique_key", "?"))
        return nb, resources


class PointToReference(NbGraderPreprocessor):
    """Point the kernel at the instructor's notebooks of the assignment being graded.

    `nnkit.notebooks.known_good` then swaps the instructor's building blocks in
    for the tests of composite functions. Runs before Execute, which starts the
    kernel with this process's environment.
    """

    source_root = Unicode("source", help="the course's source/ folder").tag(config=True)

    def preprocess(self, nb, resources):
        assignment = resources.get("nbgrader", {}).get("assignment")
        if assignment:
            os.environ[REFERENCE_DIR_VARIABLE] = os.path.abspath(os.path.join(self.source_root, assignment))
        return nb, resources


class VerdictsFromChecks(NbGraderPreprocessor):
    """Show stderr of test cells as stdout, so only the checks decide a verdict.

    Plain nbgrader scores a test cell 0 when anything reaches stderr, so a
    warning from correct code would cost points. A test cell's verdict is its
    error (if it raised) or the partial credit returned by `checks.score()`.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "stream" and output.name == "stderr":
                    output.name = "stdout"
                    output.text = "".join("[stderr] " + line for line in output.text.splitlines(True))
        return cell, resources


class ExplainTimeouts(NbGraderPreprocessor):
    """Replace the error of a cell stopped by the time limit with a plain explanation."""

    timeout = Unicode("30", help="the cell time limit in seconds, for the message").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.outputs:
            if output.output_type == "error" and output.ename in TIMEOUT_ENAMES:
                output.ename = "CellTimeoutError"
                output.evalue = (f"this cell was stopped after {self.timeout} s (an infinite loop or a very "
                                 "slow function?); its tests score 0 and the other cells were graded normally")
                output.traceback = [f"CellTimeoutError: {output.evalue}"]
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test source from feedback; keep what the checks printed.

    Hidden regions become a one-line placeholder. Tracebacks of errors in test
    cells quote source lines, so they are cut to the exception's name and message.
    """

    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)
    placeholder = Unicode("# Hidden tests ran here; their results are in the output below.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        lines, hidden = [], False
        for line in cell.source.splitlines():
            if self.begin in line:
                hidden = True
                lines.append(line[: len(line) - len(line.lstrip())] + self.placeholder)
            elif self.end in line:
                hidden = False
            elif not hidden:
                lines.append(line)
        cell.source = "\n".join(lines)
        for output in cell.outputs:
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class SplitExecute(NbGraderPreprocessor):
    """Execute a submission with student code sandboxed and test cells in the trusted judge.

    Replaces nbgrader's Execute in the autograde pipeline (see grader/judge.py and
    grader/execution.py). Refuses to run without a working sandbox unless
    `allow_unsandboxed` is set. With `dask_scheduler`, the execution runs on a Dask
    cluster, shipped as data.
    """

    timeout = Integer(30, help="seconds per cell").tag(config=True)
    source_root = Unicode("source", help="the course's source/ folder").tag(config=True)
    submitted_root = Unicode("submitted", help="the course's submitted/ folder").tag(config=True)
    allow_unsandboxed = Bool(False, help="run student code without the OS sandbox (not for real classes)").tag(config=True)
    skip_tags = List(["experiment"], help="student cells with these tags are not re-executed").tag(config=True)
    memory_mb = Integer(4096).tag(config=True)
    cpu_seconds = Integer(600).tag(config=True)
    processes = Integer(64).tag(config=True)
    file_mb = Integer(64).tag(config=True)
    max_file_mb = Integer(20, help="larger files of a submission are not given to the sandbox").tag(config=True)
    dask_scheduler = Unicode("", help="address of a Dask scheduler to run executions on ('' = here)").tag(config=True)

    def settings(self):
        return {"timeout": self.timeout, "skip_tags": list(self.skip_tags), "allow_unsandboxed": self.allow_unsandboxed,
                "uid": sandbox_uid(), "limits": {"memory_bytes": self.memory_mb * 1024 ** 2,
                                                 "cpu_seconds": self.cpu_seconds, "processes": self.processes,
                                                 "file_bytes": self.file_mb * 1024 ** 2}}

    def preprocess(self, nb, resources):
        from .execution import notebook_from_text, pack_job, run_job
        from .submissions import graded_functions_in

        info = resources.get("nbgrader", {})
        assignment, student = info.get("assignment"), info.get("student")
        job = pack_job(nb, os.path.join(self.submitted_root, student, assignment),
                       os.path.join(self.source_root, assignment), self.settings(), self.max_file_mb * 1024 ** 2)
        key = (student, assignment)
        job.settings["verified"] = sorted(verified.get(key, ()))
        job.settings["functions"] = graded_functions_in(os.path.join(self.source_root, assignment))
        if self.dask_scheduler:
            from .distributed import run_remotely

            executed, seconds, passed = run_remotely(self.dask_scheduler, job)
        else:
            executed, seconds, passed = run_job(job)
        timings["execution"] += seconds
        verified.setdefault(key, set()).update(passed)
        return notebook_from_text(executed), resources


def sandbox_uid():
    """An unprivileged user id for this grading process's sandboxes (distinct per worker)."""
    return 61000 + int(os.environ.get("GRADER_WORKER_SLOT", os.getpid() % 1000))


class RestoreDeletedCells(NbGraderPreprocessor):
    """Put back locked cells (tests, given code) that a student deleted, from the source notebook.

    nbgrader restores the text of edited locked cells but not deleted ones; without
    this a deleted test cell would simply not be run. Restored cells go after the
    nearest preceding cell that the submission still has.
    """

    source_root = Unicode("source", help="the course's source/ folder").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat

        from .preflight import read_course_notebook

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


#: db_url -> an open nbgrader Gradebook, kept between notebooks inside `shared_gradebooks()`
_shared_gradebooks = None


@contextlib.contextmanager
def shared_gradebooks():
    """Within this block, TimedSaveAutoGrades keeps one gradebook connection per database.

    nbgrader's SaveAutoGrades opens the gradebook for each notebook: a new SQLAlchemy engine,
    its schema checks, and every query compiled again (half of its time). Every write is still
    committed as nbgrader commits it; the connections are closed when the block ends.
    """
    global _shared_gradebooks
    outer, _shared_gradebooks = _shared_gradebooks, {}
    try:
        yield
    finally:
        for gradebook in _shared_gradebooks.values():
            gradebook.close()
        _shared_gradebooks = outer


class TimedSaveAutoGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, timed (the gradebook's share of grading time), on a shared
    connection inside `shared_gradebooks()`."""

    def preprocess(self, nb, resources):
        start = time.perf_counter()
        try:
            if _shared_gradebooks is None:
                return super().preprocess(nb, resources)
            return self._preprocess_shared(nb, resources)
        finally:
            timings["gradebook"] += time.perf_counter() - start

    def _preprocess_shared(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]   # what SaveAutoGrades.preprocess reads, then its cell loop
        self.notebook_id, self.assignment_id = info["notebook"], info["assignment"]
        self.student_id, self.db_url = info["student"], info["db_url"]
        if self.db_url not in _shared_gradebooks:
            _shared_gradebooks[self.db_url] = Gradebook(self.db_url)
        self.gradebook = _shared_gradebooks[self.db_url]
        try:
            return NbGraderPreprocessor.preprocess(self, nb, resources)
        except BaseException:   # a failed session is not reused
            _shared_gradebooks.pop(self.db_url).close()
            raise


@functools.lru_cache(maxsize=None)
def _compiled_schema(schema_text):
    schema = json.loads(schema_text)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


class _SchemaCompiledOnce(BaseMetadataValidator):
    """The schema step of nbgrader's cell validation, with the schema checked and compiled once.

    nbgrader calls `jsonschema.validate` per cell, which first re-checks the schema
    itself against the JSON Schema meta-schema: most of the cost of a pass.
    """

    @functools.cached_property
    def compiled_schema(self):
        return _compiled_schema(json.dumps(self.schema, sort_keys=True))

    def validate_cell(self, cell):
        meta = cell.metadata.get("nbgrader")
        if meta is None or meta.get("schema_version", 0) != self.schema_version:
            return super().validate_cell(cell)   # nbgrader's own handling and messages
        error = jsonschema.exceptions.best_match(self.compiled_schema.iter_errors(meta))
        if error is not None:
            raise error


class CompiledMetadataValidator(MetadataValidator, _SchemaCompiledOnce):
    """nbgrader's MetadataValidator (every rule it checks), on the compiled schema."""


class CheckCellMetadataCompiled(CheckCellMetadata):
    """nbgrader's CheckCellMetadata (same checks, same errors) with the schema compiled once per process."""

    def preprocess(self, nb, resources):
        try:
            CompiledMetadataValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg)
        return nb, resources
