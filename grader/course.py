"""The course directory: its folders, its nbgrader configuration and API."""
import os
from functools import cached_property
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from .preflight import STAGED

REPO_ROOT = Path(__file__).resolve().parents[1]


class Course:
    """An nbgrader course directory (the repo root by default).

    Inputs:
    - root: folder holding nbgrader_config.py, source/, release/, ...
    """

    def __init__(self, root=None):
        self.root = Path(root or os.environ.get("COURSE_ROOT") or REPO_ROOT).resolve()
        self.source_dir = self.root / "source"
        self.release_dir = self.root / "release"
        self.submitted_dir = self.root / "submitted"
        self.autograded_dir = self.root / "autograded"
        self.feedback_dir = self.root / "feedback"
        self.reports_dir = self.root / "reports"

    @cached_property
    def config(self):
        """The course's nbgrader config (nbgrader_config.py), with the root pinned.

        The kit grades the staged copies of submissions (see grader/preflight.py),
        and GRADER_DB_URL selects another gradebook database (e.g. PostgreSQL).
        """
        config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.db_url = os.environ.get("GRADER_DB_URL") or \
            "sqlite:///" + str(self.root / "gradebook.db") + "?timeout=120"
        config.CourseDirectory.submitted_directory = STAGED
        config.SplitExecute.submitted_root = str(self.root / STAGED)
        return config

    @cached_property
    def api(self):
        from nbgrader.apps import NbGraderAPI

        return NbGraderAPI(config=self.config)

    @property
    def db_url(self):
        return self.config.CourseDirectory.db_url

    @property
    def course_id(self):
        return self.config.CourseDirectory.course_id

    def assignments(self):
        """Assignment names: the folders under source/."""
        return sorted(p.name for p in self.source_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def source_notebooks(self, assignment):
        return sorted((self.source_dir / assignment).glob("*.ipynb"))

    def release_notebooks(self, assignment):
        return sorted((self.release_dir / assignment).glob("*.ipynb"))

    def students(self, assignment):
        """Student ids with a submission of `assignment` under submitted/."""
        if not self.submitted_dir.is_dir():
            return []
        return sorted(p.name for p in self.submitted_dir.iterdir() if (p / assignment).is_dir())
