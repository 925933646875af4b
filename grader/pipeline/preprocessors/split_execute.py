"""SplitExecute: the execution step of the kit's autograde pipeline."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ...conventions import graded_functions_of
from ...course import read_course_notebook
from ...settings import GraderSettings
from ..jobs import notebook_from_text, pack_job, run_job
from ..session import GradingSession


class SplitExecute(NbGraderPreprocessor):
    """Execute a submission with student code sandboxed and test cells in the trusted judge.

    Replaces nbgrader's Execute in the autograde pipeline (see grader.judge and
    grader.pipeline.jobs). Its knobs are GraderSettings (grader/settings.py). With
    GraderSettings.dask_scheduler, the execution runs on a Dask cluster, shipped as data.
    """

    course_root = Unicode("", help="the course directory (default: nbgrader's CourseDirectory.root)").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        settings = GraderSettings(parent=self)
        root = Path(self.course_root or self.config.CourseDirectory.root or ".")
        info = resources.get("nbgrader", {})
        assignment, student = str(info.get("assignment")), str(info.get("student"))
        session = GradingSession.current()
        verified = sorted(session.verified) if session is not None else []
        folders = {other.name: root / "submitted" / student / other.name
                   for other in sorted((root / "source").iterdir()) if other.is_dir() and other.name != assignment}
        # the graded copy: the kit's staging folder, or submitted/ when nbgrader runs it (the formgrader)
        submitted = self.config.CourseDirectory.get("submitted_directory", "submitted") or "submitted"
        folders[assignment] = root / str(submitted) / student / assignment
        sources = [read_course_notebook(p) for p in sorted((root / "source" / assignment).glob("*.ipynb"))]
        job = pack_job(nb, root, assignment, folders, settings, verified, graded_functions_of(sources))
        if settings.dask_scheduler:
            from ..distributed import run_remotely

            result = run_remotely(settings.dask_scheduler, job)
        else:
            result = run_job(job)
        if session is not None:
            session.timings["execution"] += result.seconds
            session.verified.update(result.passed)
            session.sandbox_starts += result.sandbox_starts
            session.profile[str(info.get("notebook"))] = result.profile
        return notebook_from_text(result.notebook), resources

