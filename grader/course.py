"""The course directory: its folders, its nbgrader configuration and API, its assignments."""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat.notebooknode import NotebookNode
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .conventions import graded_functions_of
from .settings import GraderSettings

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

REPO_ROOT = Path(__file__).resolve().parents[1]
#: nbgrader grades checked copies of the submissions (grader.pipeline.staging), kept here
STAGED = ".staged"
#: what a copy of the course holds besides its configuration
COURSE_CONTENT = ("assignments", "source", "release", "catalog")


class Course:
    """An nbgrader course directory.

    Inputs:
    - root: folder holding nbgrader_config.py, source/, release/, ... (default: this repository)
    """

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root or REPO_ROOT).resolve()
        _put_interpreter_tools_on_path()
        self.source_dir = self.root / "source"
        self.release_dir = self.root / "release"
        self.submitted_dir = self.root / "submitted"
        self.autograded_dir = self.root / "autograded"
        self.feedback_dir = self.root / "feedback"
        self.reports_dir = self.root / "reports"
        self.staged_dir = self.root / STAGED

    @cached_property
    def config(self) -> Config:
        """The course's nbgrader config, as nbgrader_config.py states it."""
        return PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()

    @cached_property
    def settings(self) -> GraderSettings:
        return GraderSettings(config=self.config)

    def grading_config(self) -> Config:
        """The config the kit's autograde runs nbgrader with: the course's, grading the staged copies."""
        config = Config(self.config)
        config.merge(Config({"CourseDirectory": {"submitted_directory": STAGED}}))
        return config

    @cached_property
    def api(self) -> NbGraderAPI:
        """nbgrader's API on the course's own config (release, feedback, ...)."""
        return self._api(self.config)

    @cached_property
    def grading_api(self) -> NbGraderAPI:
        """nbgrader's API for autograding the staged copies."""
        return self._api(self.grading_config())

    @staticmethod
    def _api(config: Config) -> NbGraderAPI:
        from nbgrader.apps import NbGraderAPI

        return NbGraderAPI(config=config)

    @property
    def db_url(self) -> str:
        return str(self.config.CourseDirectory.db_url)

    @property
    def course_id(self) -> str:
        return str(self.config.CourseDirectory.course_id)

    def assignments(self) -> list[str]:
        """Assignment names: the folders under source/."""
        return sorted(p.name for p in self.source_dir.iterdir() if p.is_dir() and not p.name.startswith("."))

    def source_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.source_dir / assignment).glob("*.ipynb"))

    def release_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.release_dir / assignment).glob("*.ipynb"))

    def graded_functions(self, assignment: str) -> list[str]:
        """Names of the assignment's graded functions and classes (their `<name>_solution` cells)."""
        return graded_functions_of(read_course_notebook(p) for p in self.source_notebooks(assignment))

    def notebook_of_functions(self, assignment: str) -> dict[str, str]:
        """graded function -> the notebook (name without .ipynb) whose solution cell defines it."""
        return {function: path.stem for path in self.source_notebooks(assignment)
                for function in graded_functions_of([read_course_notebook(path)])}

    def students(self, assignment: str) -> list[str]:
        """Student ids with a submission of `assignment` under submitted/."""
        if not self.submitted_dir.is_dir():
            return []
        return sorted(p.name for p in self.submitted_dir.iterdir()
                      if (p / assignment).is_dir() and not (p / assignment).is_symlink())


def read_course_notebook(path: Path | str) -> NotebookNode:
    """A notebook of the course's own (source/, release/), parsed once per version of the file.

    Callers share the result: they must not change it.
    """
    info = os.stat(path)
    return _parsed_notebook(str(path), info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=64)
def _parsed_notebook(path: str, mtime_ns: int, size: int) -> NotebookNode:
    return nbformat.read(path, as_version=4)


def copy_course(dest: Path | str, root: Path | str | None = None) -> Path:
    """Copy a course's configuration, support package, notebooks and catalog into dest; return dest.

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
def scratch_course(root: Path | str | None = None, keep: Path | str | None = None,
                   config: str = "") -> Iterator[Course]:
    """A throwaway copy of the course (a Course in a temporary folder), removed afterwards.

    Inputs:
    - root: the course to copy (default: this repository)
    - keep: a folder to make the copy in and keep (for inspection) instead
    - config: lines appended to the copy's nbgrader_config.py

    The copy has its own SQLite gradebook (nbgrader_config.py's default, in the copy's folder).
    """
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="course-copy-"))
    try:
        copy = copy_course(folder, root)
        with open(copy / "nbgrader_config.py", "a") as f:
            f.write("\n# a scratch copy of the course: its own gradebook\n"
                    "c.CourseDirectory.db_url = 'sqlite:///' + os.path.join(HERE, 'gradebook.db') + '?timeout=120'\n")
            f.write(config)
        yield Course(copy)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _put_interpreter_tools_on_path() -> None:
    """nbgrader runs `alembic` by name when it creates a gradebook: find it beside this Python."""
    tools = os.path.dirname(sys.executable)
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
