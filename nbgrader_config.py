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
# The execution step is the one named EXECUTOR: replace it here to run student code elsewhere.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, Execute, GetGrades, IgnorePattern, LimitOutput, SaveAutoGrades)

from grader.preprocessors import (  # noqa: E402
    ExplainTimeouts, HideHiddenTests, PointToReference, ReportProgress, VerdictsFromChecks)

EXECUTOR = Execute
c.PointToReference.source_root = os.path.join(HERE, "source")
c.ExplainTimeouts.timeout = str(c.Execute.timeout)
c.Autograde.autograde_preprocessors = [
    ReportProgress, PointToReference, EXECUTOR, ExplainTimeouts, VerdictsFromChecks,
    IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
