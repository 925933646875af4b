"""nbgrader configuration of the course kit (the course directory is this folder).

The kit's own knobs are `c.GraderSettings.<name>` (grader/settings.py lists each with its default
and help); environment variables are read here and by the command line only.
"""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, Execute, IgnorePattern,
    LimitOutput, OverwriteCells, OverwriteKernelspec)

from grader.pipeline.preprocessors import (
    CheckCellMetadataCompiled, ExplainTimeouts, PointToReference, ReportProgress, RestoreDeletedCells,
    RestoreHiddenTests, SplitExecute, TimedSaveAutoGrades, VerdictsFromChecks)
from grader.reports.feedback_preprocessors import (FEEDBACK_TEMPLATE, FEEDBACK_TEMPLATE_DIRS, FORMGRADE_TEMPLATE,
                                                  TEMPLATE_FILTERS, HideHiddenTests, KitFeedbackExporter, KitGetGrades)
from grader.settings import GraderSettings

HERE = os.path.dirname(os.path.abspath(__file__))

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "nn-from-scratch"
# GRADER_DB_URL selects another gradebook database, e.g. postgresql+psycopg2://user:password@host/gradebook
c.CourseDirectory.db_url = os.environ.get("GRADER_DB_URL") or \
    "sqlite:///" + os.path.join(HERE, "gradebook.db") + "?timeout=120"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.pkl", ".*"]
# Files of a submission above this size (kB) are ignored: a huge extra file cannot stall grading.
c.CourseDirectory.max_file_size = 20 * 1024

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

c.GraderSettings.allow_unsandboxed = os.environ.get("GRADER_ALLOW_UNSANDBOXED") == "1"
c.GraderSettings.dask_scheduler = os.environ.get("GRADER_DASK_SCHEDULER", "")

SOURCE_ROOT = os.path.join(HERE, "source")
c.SplitExecute.course_root = HERE
c.PointToReference.source_root = SOURCE_ROOT
c.RestoreDeletedCells.source_root = SOURCE_ROOT
# nbgrader's plain Execute (comparison runs) stops a cell after the same time as the kit
TIMEOUT = c.GraderSettings.get("cell_timeout", GraderSettings.cell_timeout.default_value)
c.Execute.timeout = c.ExplainTimeouts.timeout = TIMEOUT

# The autograding pipeline: nbgrader's own steps plus the kit's (grader/pipeline/preprocessors).
# By default the execution step is SplitExecute: student code runs in a bubblewrap sandbox and
# test cells in the trusted judge. GRADER_EXECUTOR=nbgrader selects nbgrader's plain Execute
# (one kernel runs everything; for comparison only: student code can forge its grade).
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
    SANITIZE = [DeduplicateIds, OverwriteKernelspec, RestoreDeletedCells, RestoreHiddenTests, CHECK_METADATA]
    # nbconvert validates the whole notebook after each preprocessor by default; once at the end
    # catches the same errors.
    c.Exporter.optimistic_validation = True

c.Autograde.sanitize_preprocessors = SANITIZE
c.Autograde.autograde_preprocessors = [
    ReportProgress, *EXECUTION,
    IgnorePattern, ClearMetadataPreprocessor, LimitOutput, TimedSaveAutoGrades, AssignLatePenalties, CHECK_METADATA,
]
# Feedback: hidden tests removed; student markup and outputs sanitised (no script of theirs runs in
# it): the kit's template (grader/reports/templates/feedback) sanitises markdown, nbconvert's the outputs;
# math is MathML (no MathJax, no network). The template is the feedback exporter's only: the formgrader
# renders its grading pages with an HTMLExporter of its own (nbgrader's formgrade template).
c.GenerateFeedback.preprocessors = [KitGetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
c.GenerateFeedback.exporter_class = KitFeedbackExporter
c.KitFeedbackExporter.template_name, c.KitFeedbackExporter.template_file = FEEDBACK_TEMPLATE
c.KitFeedbackExporter.extra_template_basedirs = FEEDBACK_TEMPLATE_DIRS
# Every HTML page of the course (feedback and the formgrader's grading pages): student outputs sanitised;
# the kit's templates first on the path. The formgrader's grading page is nbgrader's with the students'
# markdown sanitised (grader/reports/templates/formgrade/kit_formgrade.html.j2) and MathJax loaded from
# this server (jupyter_server_mathjax) instead of a CDN.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.extra_template_basedirs = FEEDBACK_TEMPLATE_DIRS
c.HTMLExporter.template_file = FORMGRADE_TEMPLATE
c.HTMLExporter.filters = dict(TEMPLATE_FILTERS)

# nbgrader's exchange (release, fetch, submit, collect, release feedback) for this course: a folder
# that instructors and students can write; NBGRADER_EXCHANGE selects a shared one (e.g. on JupyterHub,
# /srv/nbgrader/exchange, set up by its administrator). The course's own folder is made here when it is
# missing: nbgrader makes one only when an assignment is released, and until then the formgrader says
# that the exchange "does not exist" and its server logs "Unwritable directory" every few seconds.
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE") or os.path.join(HERE, "exchange")
if not os.environ.get("NBGRADER_EXCHANGE"):
    try:
        os.makedirs(EXCHANGE, exist_ok=True)
    except OSError:   # a read-only course folder: nbgrader reports the missing exchange itself
        pass
c.Exchange.root = EXCHANGE
