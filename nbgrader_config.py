"""nbgrader configuration of the course kit (the course directory is this folder)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for path in (os.path.join(HERE, "assignments"), HERE):  # the grader, and the nnkit package it reads
    if path not in sys.path:
        sys.path.insert(0, path)

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "fc-nets"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.pkl", ".*"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A cell that runs longer than this is interrupted: an infinite loop costs only its own tests.
c.Execute.timeout = 30

# The autograding pipeline: nbgrader's own steps plus the kit's preprocessors (grader/preprocessors.py).
# The execution step is EXECUTOR. By default it is SplitExecute: student code runs in a bubblewrap
# sandbox and test cells in the trusted judge. GRADER_EXECUTOR=nbgrader selects nbgrader's plain
# Execute (one kernel runs everything; for comparison only: student code can forge its grade).
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, Execute, GetGrades, IgnorePattern,
    LimitOutput, OverwriteCells, OverwriteKernelspec)

from grader.preprocessors import (  # noqa: E402
    CheckCellMetadataCompiled, ExplainTimeouts, HideHiddenTests, PointToReference, ReportProgress,
    RestoreDeletedCells, SplitExecute, TimedSaveAutoGrades, VerdictsFromChecks)

SOURCE_ROOT = os.path.join(HERE, "source")
c.PointToReference.source_root = SOURCE_ROOT
c.RestoreDeletedCells.source_root = SOURCE_ROOT
c.ExplainTimeouts.timeout = str(c.Execute.timeout)
c.SplitExecute.timeout = c.Execute.timeout
c.SplitExecute.source_root = SOURCE_ROOT
c.SplitExecute.submitted_root = os.path.join(HERE, "submitted")
c.SplitExecute.allow_unsandboxed = os.environ.get("GRADER_ALLOW_UNSANDBOXED") == "1"
c.SplitExecute.dask_scheduler = os.environ.get("GRADER_DASK_SCHEDULER", "")
# Files of a submission above this size are ignored (a huge extra file cannot stall grading).
c.CourseDirectory.max_file_size = 20 * 1024

if os.environ.get("GRADER_EXECUTOR") == "nbgrader":
    EXECUTION = [PointToReference, Execute, ExplainTimeouts, VerdictsFromChecks]
    SANITIZE = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
    CHECK_METADATA = CheckCellMetadata
else:
    EXECUTION = [SplitExecute]
    # The same checks as nbgrader's CheckCellMetadata, without re-checking the schema itself per cell.
    CHECK_METADATA = CheckCellMetadataCompiled
    # No ClearOutput: SplitExecute clears every cell it runs and keeps the student's own outputs
    # of the experiment cells it skips.
    SANITIZE = [DeduplicateIds, OverwriteKernelspec, RestoreDeletedCells, OverwriteCells, CHECK_METADATA]
    # nbconvert validates the whole notebook after each preprocessor by default; once at the end
    # catches the same errors.
    c.Exporter.optimistic_validation = True

c.Autograde.sanitize_preprocessors = SANITIZE
c.Autograde.autograde_preprocessors = [
    ReportProgress, *EXECUTION,
    IgnorePattern, ClearMetadataPreprocessor, LimitOutput, TimedSaveAutoGrades, AssignLatePenalties, CHECK_METADATA,
]
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
