"""nbgrader preprocessors of the course kit, plugged in by nbgrader_config.py.

Autograde: `ReportProgress` (names the notebook being graded), `PointToReference`
(known-good building blocks for composite tests), `VerdictsFromChecks`
(stderr never decides a verdict), `ExplainTimeouts` (a clear message for a stopped cell).
Feedback: `HideHiddenTests` (no hidden-test source, no tracebacks that quote it).
"""
import os

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader import utils
from traitlets import Unicode

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
