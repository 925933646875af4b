"""The course directory: its folders, its nbgrader configuration and API."""
import contextlib
import os
import sys
import shutil
import sys
import tempfile
from functools import cached_property
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from .preflight import STAGED

REPO_ROOT = Path(__file__).resolve().parents[1]



def _put_interpreter_scripts_on_path():
    """nbgrader runs the `alembic` script when it creates a new gradebook: make sure the one installed
    next to this interpreter (e.g. .venv/bin, not on PATH under `make`) is found."""
    scripts = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if scripts not in path.split(os.pathsep):
        os.environ["PATH"] = scripts + (os.pathsep + path if path else "")


class Course:
    """An nbgrader course directory (the repo root by default).

    Inputs:
    - root: folder holding nbgrader_config.py, source/, release/, ...
    """

    def __init__(self, root=None):
        self.root = Path(root or os.environ.get("COURSE_ROOT") or REPO_ROOT).resolve()
        _put_interpreter_tools_on_path()
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

        _put_interpreter_scripts_on_path()
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


COURSE_CONTENT = ("assignments", "source", "release")


def copy_course(dest, root=None):
    """Copy a course's configuration, support package, source/ and release/ into dest; return dest.

    The copy has no submissions, grades or gradebook of its own: grading there never
    touches the original course (its submitted/, autograded/, reports/ or gradebook).
    """
    root, dest = Path(root or REPO_ROOT), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", dest)
    for folder in COURSE_CONTENT:
        if (root / folder).exists():
            shutil.copytree(root / folder, dest / folder, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return dest


@contextlib.contextmanager
def scratch_course(root=None, keep=None):
    """A throwaway copy of the course (a Course in a temporary folder), removed afterwards.

    Inputs:
    - root: the course to copy (default: this repository)
    - keep: a folder to make the copy in and keep (for inspection) instead

    The copy has its own SQLite gradebook: GRADER_DB_URL is ignored while it is in use.
    """
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="course-copy-"))
    saved_db_url = os.environ.pop("GRADER_DB_URL", None)
    try:
        yield Course(copy_course(folder, root))
    finally:
        if saved_db_url is not None:
            os.environ["GRADER_DB_URL"] = saved_db_url
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _put_interpreter_tools_on_path():
    """nbgrader runs `alembic` by name when it creates a gradebook: find it beside this Python."""
    tools = os.path.dirname(sys.executable)
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
