"""The kit's steps in nbgrader's autograde pipeline, one class per module (nbgrader_config.py lists them).

- `ReportProgress`: names the notebook being graded
- `RestoreDeletedCells`: puts back locked cells a student deleted
- `RestoreHiddenTests`: nbgrader's OverwriteCells, warning only about test cells a student changed
- `CheckCellMetadataCompiled`: nbgrader's metadata check with its schema compiled once
- `SplitExecute`: student code in the sandbox, tests in the judge (the execution step)
- `TimedSaveAutoGrades`: nbgrader's SaveAutoGrades, timed, on one connection per worker
- for nbgrader's plain Execute (comparison runs): `PointToReference`, `VerdictsFromChecks`, `ExplainTimeouts`
"""
from .explain_timeouts import ExplainTimeouts
from .metadata import CheckCellMetadataCompiled
from .point_to_reference import PointToReference
from .report_progress import ReportProgress
from .restore_deleted_cells import RestoreDeletedCells
from .restore_hidden_tests import RestoreHiddenTests
from .save_autogrades import TimedSaveAutoGrades
from .split_execute import SplitExecute
from .verdicts_from_checks import VerdictsFromChecks

__all__ = ["CheckCellMetadataCompiled", "ExplainTimeouts", "PointToReference", "ReportProgress",
           "RestoreDeletedCells", "RestoreHiddenTests", "SplitExecute", "TimedSaveAutoGrades", "VerdictsFromChecks"]
