"""One notebook's split execution as a job of plain data, runnable here or on another machine.

A Job carries everything the execution needs as bytes and text: the sanitized notebook, the
student's working folder (their notebooks of this assignment and of the others, which later
notebooks import, and the assignment's support package), the instructor's notebooks (known-good
parts for composite tests) and the settings. `run_job` needs no shared disk, so the same job
runs in this process or on a Dask worker; the working folder is written inside the sandbox.
"""
from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from ..judge.known_good import ReferenceProcess, ReferenceSolutions
from ..judge.notebook_run import NotebookRun, RunSettings
from ..sandbox.bubblewrap import sandbox_user, sandbox_works
from ..sandbox.limits import Limits
from ..sandbox.uids import UidLease
from ..sandbox.wire import Bounds
from ..settings import GraderSettings
from .files import student_notebooks


@dataclass
class Job:
    notebook: str                                            # the sanitized notebook, as JSON text
    files: dict[str, bytes] = field(default_factory=dict)    # the working folder: relative path -> bytes
    cwd: str = "."                                           # the assignment's folder in it
    reference_notebooks: dict[str, bytes] = field(default_factory=dict)  # key -> instructor notebook
    settings: dict[str, Any] = field(default_factory=dict)  # GraderSettings.as_dict()
    verified: list[str] = field(default_factory=list)        # building blocks known to be good
    functions: list[str] = field(default_factory=list)       # the assignment's graded functions


@dataclass
class JobResult:
    notebook: str                 # the executed notebook, as JSON text
    seconds: float
    passed: list[str]             # graded functions whose every test cell kept full marks
    sandbox_starts: int = 0
    profile: dict[str, float] = field(default_factory=dict)   # seconds per phase (grader.judge.profile)


def notebook_to_text(nb: NotebookNode) -> str:
    """A notebook as JSON text, without re-validating it (nbgrader validated it when it read it)."""
    return json.dumps(nb)


def notebook_from_text(text: str) -> NotebookNode:
    return nbformat.from_dict(json.loads(text))


# --- the instructor's files -----------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _course_files(folder: str, notebooks: bool, stamp: tuple[Any, ...]) -> dict[str, bytes]:
    del stamp   # part of the cache key only
    out: dict[str, bytes] = {}
    root = Path(folder)
    for base, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            path = Path(base) / name
            if name.startswith(".") or name.endswith(".pyc") or name.endswith(".ipynb") != notebooks:
                continue
            if notebooks and path.parent != root:
                continue
            out[str(path.relative_to(root))] = path.read_bytes()
    return out


def course_files(folder: Path, notebooks: bool) -> dict[str, bytes]:
    """The instructor's files of an assignment folder (support files, or its notebooks), cached by
    the files' modification times."""
    stamp = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()))
    return _course_files(str(folder), notebooks, stamp)


def pack_job(nb: NotebookNode, course_root: Path, assignment: str, student_folders: dict[str, Path],
             settings: GraderSettings, verified: list[str], functions: list[str]) -> Job:
    """The Job for notebook `nb` of `assignment`.

    Inputs:
    - course_root: the course (its source/ folder has the instructor's notebooks)
    - student_folders: assignment -> the student's (staged or submitted) folder of it; the
      graded assignment's and any other the student handed in (later notebooks import them)
    """
    max_bytes = settings.max_file_mb * 1024 ** 2
    source = Path(course_root) / "source"
    files: dict[str, bytes] = {}
    for other, folder in student_folders.items():
        names = {p.name for p in (source / other).glob("*.ipynb")}   # the assignment's notebooks only
        for name, data in student_notebooks(folder, max_bytes, names).items():
            files[f"{other}/{name}"] = data
    for rel, data in course_files(source / assignment, notebooks=False).items():
        files[f"{assignment}/{rel}"] = data
    reference: dict[str, bytes] = {}
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for name, data in course_files(folder, notebooks=True).items():
            reference[name if folder.name == assignment else f"../{folder.name}/{name}"] = data
    return Job(notebook_to_text(nb), files, assignment, reference, settings.as_dict(), sorted(verified),
               list(functions))


# --- running ----------------------------------------------------------------------------------------

class Executor:
    """What a grading process keeps between executions: its sandbox user id and its reference process.

    One per process (`Executor.here()`): a forked worker gets its own.
    """

    _here: dict[int, Executor] = {}

    def __init__(self, settings: GraderSettings) -> None:
        self.sandboxed, reason = sandbox_works()
        if not self.sandboxed and not settings.allow_unsandboxed:
            raise RuntimeError("no sandbox can be made for student code (%s); install bubblewrap, or set "
                               "GRADER_ALLOW_UNSANDBOXED=1 to grade without one at your own risk" % reason)
        self.uid = UidLease(settings.first_uid, settings.uid_count).uid if self.sandboxed and sandbox_user() else None
        self.reference_key: tuple[Any, ...] | None = None
        self.reference: ReferenceProcess | None = None

    @classmethod
    def here(cls, settings: GraderSettings) -> Executor:
        pid = os.getpid()
        if pid not in cls._here:
            cls._here[pid] = cls(settings)
        return cls._here[pid]

    def reference_process(self, limits: Limits, bounds: Bounds) -> ReferenceProcess:
        key = (limits, bounds)
        if self.reference is None or self.reference_key != key:
            if self.reference is not None:
                self.reference.stop()
            self.reference, self.reference_key = ReferenceProcess(limits, self.uid, self.sandboxed, bounds), key
        return self.reference


def run_settings(settings: GraderSettings, uid: int | None, sandboxed: bool) -> RunSettings:
    return RunSettings(timeout=settings.cell_timeout, budget=settings.notebook_budget,
                       known_good_time_factor=settings.known_good_time_factor, max_restarts=settings.max_restarts,
                       skip_tags=tuple(settings.skip_tags), limits=settings.limits(), uid=uid, sandboxed=sandboxed,
                       bounds=settings.bounds())


def run_job(job: Job) -> JobResult:
    """Execute a Job here."""
    start = time.perf_counter()
    settings = GraderSettings(**{k: v for k, v in job.settings.items() if k in GraderSettings.class_trait_names()})
    executor = Executor.here(settings)
    nb = notebook_from_text(job.notebook)
    run = NotebookRun(nb, job.files, job.cwd, ReferenceSolutions(job.reference_notebooks),
                      executor.reference_process(settings.reference_limits(), settings.bounds()),
                      run_settings(settings, executor.uid, executor.sandboxed), job.verified, job.functions)
    run.run()
    return JobResult(notebook_to_text(nb), time.perf_counter() - start, sorted(run.verdicts.passed(nb)),
                     run.process.starts, run.process.profile.finish())


def job_as_data(job: Job) -> dict[str, Any]:
    return asdict(job)
