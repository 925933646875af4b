"""nbgrader preprocessors of the course kit, plugged in by nbgrader_config.py.

Autograde: `ReportProgress` (names the notebook being graded), `PointToReference`
(known-good building blocks for composite tests), `VerdictsFromChecks`
(stderr never decides a verdict), `ExplainTimeouts` (a clear message for a stopped cell).
Feedback: `HideHiddenTests` (no hidden-test source, no tracebacks that quote it).
"""
import os

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader import utils
from traitlets import Bool, Integer, List, Unicode

from nnkit.notebooks import REFERENCE_DIR_VARIABLE

TIMEOUT_ENAMES = ("CellTimeoutError", "KeyboardInterrupt", "TimeoutError")

#: called with the notebook name before each notebook is executed (set by the CLI's progress bar)
progress_callback = None


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

    Replaces nbgrader's Execute in the autograde pipeline (see grader/judge.py).
    Refuses to run without a working sandbox unless `allow_unsandboxed` is set.
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
    max_notebook_mb = Integer(20, help="larger files of a submission are not copied into the sandbox").tag(config=True)

    def preprocess(self, nb, resources):
        from .judge import NotebookRun
        from .sandbox import Limits, sandbox_works
        from .workspace import student_workspace

        sandboxed, reason = sandbox_works()
        if not sandboxed and not self.allow_unsandboxed:
            raise RuntimeError("no sandbox can be made for student code (%s); install bubblewrap, or set "
                               "SplitExecute.allow_unsandboxed = True (GRADER_ALLOW_UNSANDBOXED=1) to grade "
                               "without one at your own risk" % reason)
        info = resources.get("nbgrader", {})
        assignment, student = info.get("assignment"), info.get("student")
        limits = Limits(memory_bytes=self.memory_mb * 1024 ** 2, cpu_seconds=self.cpu_seconds,
                        processes=self.processes, file_bytes=self.file_mb * 1024 ** 2)
        uid = sandbox_uid()
        with student_workspace(os.path.join(self.submitted_root, student, assignment),
                               os.path.join(self.source_root, assignment), uid if sandboxed else None,
                               self.max_notebook_mb * 1024 ** 2) as workdir:
            run = NotebookRun(nb, workdir, reference_loader(os.path.join(self.source_root, assignment)),
                              timeout=self.timeout, sandboxed=sandboxed, uid=uid, limits=limits,
                              skip_tags=self.skip_tags)
            run.run()
        return nb, resources


def sandbox_uid():
    """An unprivileged user id for this grading process's sandboxes (distinct per worker)."""
    return 61000 + int(os.environ.get("GRADER_WORKER_SLOT", os.getpid() % 1000))


_reference_cache = {}


def reference_loader(source_dir):
    """A callable(notebooks) -> dict of the instructor's solutions, cached per notebook list."""
    from nnkit.notebooks import import_solutions

    def load(notebooks):
        key = (source_dir, tuple(notebooks))
        if key not in _reference_cache:
            _reference_cache[key] = import_solutions(*(os.path.join(source_dir, nb) for nb in notebooks),
                                                     verbose=False)
        return _reference_cache[key]

    return load


class RestoreDeletedCells(NbGraderPreprocessor):
    """Put back locked cells (tests, given code) that a student deleted, from the source notebook.

    nbgrader restores the text of edited locked cells but not deleted ones; without
    this a deleted test cell would simply not be run. Restored cells go after the
    nearest preceding cell that the submission still has.
    """

    source_root = Unicode("source", help="the course's source/ folder").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat

        info = resources.get("nbgrader", {})
        path = os.path.join(self.source_root, info.get("assignment", ""), f"{info.get('notebook', '')}.ipynb")
        if not os.path.exists(path):
            return nb, resources
        source = nbformat.read(path, as_version=4)
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
