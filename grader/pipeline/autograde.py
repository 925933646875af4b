"""Autograde every submission with nbgrader, in parallel workers, with a progress bar.

nbgrader's own `Autograde` converter does the work (through its API), with the kit's steps in
its pipeline (nbgrader_config.py). A submission that cannot be graded is recorded as failed
with its reason, its old autograded scores cleared, and the class goes on.
"""
from __future__ import annotations

import contextlib
import re
import time
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any

from tqdm import tqdm

from ..course import Course
from .gradebook import clear_autograded, mark_failed, mark_graded, shared_gradebooks
from .prerequisites import prerequisites, proven_blocks
from .session import GradingSession
from .staging import stage_submission
from .status import Outcome, in_progress, save_status
from .workers import ProgressBar, pool_context, start_pool, usable_cores

with contextlib.suppress(ImportError):   # nbgrader's gradebook triggers harmless SQLAlchemy session warnings
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)

#: what grading a notebook imports beyond this module: forked workers share them (grader.pipeline.workers)
GRADING_IMPORTS = ("grader.judge.notebook_run", "grader.pipeline.preprocessors", "nbgrader.api", "nbformat.v4",
                   "nnkit.checks", "nnkit.gradient_check", "nnkit.notebooks")


def _last_error_line(result: dict[str, Any]) -> str:
    """The most telling line of nbgrader's answer: its error, else the last exception line of its log."""
    error = str(result.get("error") or "").strip()
    text = str(result.get("log") or "") + "\n" + error
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Unavailable|Died): ", line)
              and "Please see the the above traceback" not in line]
    return (errors or lines or ["unknown error"])[-1]


def grade_one(course: Course, assignment: str, student: str,
              on_notebook: Callable[[str, str], None] | None = None) -> Outcome:
    """Autograde one submission with nbgrader; returns its Outcome (never raises for bad input)."""
    graded: list[str] = []

    def notebook_started(name: str) -> None:
        graded.append(name)
        if on_notebook is not None:
            on_notebook(student, name)

    start = time.perf_counter()
    session = GradingSession(student, assignment, notebook_started)
    try:
        session.verified |= proven_blocks(course, assignment, student)
    except Exception:  # nothing proven: the known-good swap rule applies as before
        pass
    settings = course.settings
    api = course.grading_api
    try:
        preflight = stage_submission(course, assignment, student, settings.max_file_mb * 1024 ** 2)
        clear_autograded(course.db_url, course.course_id, assignment, student, "grading in progress")
        with session.active():
            result = api.autograde(assignment, student, force=True, create=True)
        success = bool(result.get("success"))
        error = "" if success else _last_error_line(result)
        messages = preflight.messages
    except Exception as exc:  # a submission that breaks the kit itself: that submission only
        success, error, messages = False, f"{type(exc).__name__}: {exc}", []
    try:
        if success:
            mark_graded(course.db_url, course.course_id, assignment, student)
        else:
            mark_failed(course.db_url, course.course_id, assignment, student, error, session.saved)
    except Exception as exc:  # the gradebook itself failed: say so, with the grading's own error
        success, error = False, error or f"the gradebook could not be updated: {type(exc).__name__}: {exc}"
    total = time.perf_counter() - start
    timings = {"execution": session.timings["execution"], "gradebook": session.timings["gradebook"]}
    timings["other"] = max(0.0, total - sum(timings.values()))
    timings["sandboxes"] = float(session.sandbox_starts)
    return Outcome(student, assignment, success, total, error, graded, messages, timings, profile=session.profile)


def ensure_in_gradebook(course: Course, assignment: str) -> None:
    """Register the assignment in the gradebook (nbgrader generate_assignment) if it is not there yet."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            gb.find_assignment(assignment)
            return
        except MissingEntry:
            pass
    tqdm.write(f"{assignment} is not in the gradebook yet: running nbgrader generate_assignment")
    result = course.api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"cannot register {assignment} in the gradebook: {_last_error_line(result)}")


def default_jobs() -> int:
    """Parallel grading workers: one per core, plus one.

    A worker whose student is stuck in an infinite loop waits for the cell's time limit, and
    its looping student process runs at a lower priority; the extra worker keeps the cores busy.
    """
    return usable_cores() + 1


class _WorkerState:
    """A grading worker's Course, progress queue and gradebook connections, kept between submissions."""

    course: Course
    queue: Any
    resources: contextlib.ExitStack


def _init_worker(root: str, queue: Any) -> None:
    _WorkerState.course = Course(root)
    _WorkerState.queue = queue
    _WorkerState.resources = contextlib.ExitStack()   # held for the worker's lifetime
    _WorkerState.resources.enter_context(shared_gradebooks())


def _grade_in_worker(assignment: str, student: str) -> Outcome:
    queue = _WorkerState.queue
    return grade_one(_WorkerState.course, assignment, student, on_notebook=lambda s, name: queue.put((s, name)))


def autograde_class(course: Course | None = None, assignments: list[str] | None = None,
                    students: list[str] | None = None, progress: bool = True,
                    jobs: int | None = None) -> list[Outcome]:
    """Autograde submissions in parallel; returns a list of Outcome and records them in reports/.

    Inputs:
    - course: the Course (default: the repo's)
    - assignments: names to grade (default: all)
    - students: student ids to grade (default: everyone who submitted each assignment)
    - progress: show a tqdm bar naming student and notebook
    - jobs: worker processes (default: one per core, plus one); 1 grades in this process

    A student who handed in only some assignments is graded on those; a student's earlier
    assignments (grader.pipeline.prerequisites) are graded before the later ones that use them.
    """
    course = course or Course()
    jobs = jobs or default_jobs()
    order = assignments_in_order(course, assignments or course.assignments())
    work = [(a, s) for a in order for s in course.students(a) if students is None or s in students]
    for assignment in sorted({a for a, _ in work}):
        ensure_in_gradebook(course, assignment)
    save_status(course.reports_dir, in_progress(work))
    outcomes: list[Outcome] = []
    bar = ProgressBar(total=len(work), desc="autograde", unit="submission", disable=not progress, dynamic_ncols=True)

    def finished(outcome: Outcome) -> None:
        outcomes.append(outcome)
        save_status(course.reports_dir, [outcome])
        if not outcome.success:
            tqdm.write(f"could not autograde {outcome.student_id}/{outcome.assignment}: {outcome.error}")
        bar.update(1)

    try:
        if jobs == 1 or len(work) <= 1:
            with shared_gradebooks():
                for assignment, student in work:
                    finished(grade_one(course, assignment, student,
                                       on_notebook=lambda s, name: bar.set_postfix_str(f"{s} / {name}")))
        else:
            _grade_in_pool(course, work, waits_for(course, work), jobs, bar, finished)
    finally:
        bar.close()
    return sorted(outcomes, key=lambda o: (o.assignment, o.student_id))


def assignments_in_order(course: Course, assignments: list[str]) -> list[str]:
    """The assignments, each after the prerequisites among them (alphabetical otherwise)."""
    ordered: list[str] = []

    def visit(assignment: str, path: tuple[str, ...]) -> None:
        if assignment in ordered or assignment in path:   # done, or a cycle (ignored)
            return
        for earlier in prerequisites(course, assignment):
            if earlier in assignments:
                visit(earlier, (*path, assignment))
        ordered.append(assignment)

    for assignment in sorted(assignments):
        visit(assignment, ())
    return ordered


def waits_for(course: Course, work: list[tuple[str, str]]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(assignment, student) -> the submissions in `work` of the same student that must be graded first."""
    queued = set(work)
    return {(a, s): {(earlier, s) for earlier in prerequisites(course, a) if (earlier, s) in queued}
            for a, s in work}


def _grade_in_pool(course: Course, work: list[tuple[str, str]], waits: dict[tuple[str, str], set[tuple[str, str]]],
                   jobs: int, bar: ProgressBar, finished: Callable[[Outcome], None]) -> None:
    context = pool_context(warm=GRADING_IMPORTS)
    progress = context.SimpleQueue()
    with start_pool(context, jobs, _init_worker, (str(course.root), progress)) as pool:
        pending: dict[Future[Outcome], tuple[str, str]] = {}
        waiting, done_work = list(work), set[tuple[str, str]]()

        def submit_ready() -> None:
            for item in [w for w in waiting if waits.get(w, set()) <= done_work]:
                waiting.remove(item)
                pending[pool.submit(_grade_in_worker, *item)] = item

        submit_ready()
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            while not progress.empty():
                student, name = progress.get()
                bar.set_postfix_str(f"{student} / {name}")
            for future in done:
                assignment, student = pending.pop(future)
                done_work.add((assignment, student))
                try:
                    finished(future.result())
                except Exception as exc:  # a worker that died: that submission only
                    reason = f"grading worker failed: {type(exc).__name__}: {exc}"
                    with contextlib.suppress(Exception):
                        mark_failed(course.db_url, course.course_id, assignment, student, reason)
                    finished(Outcome(student, assignment, False, 0.0, reason))
            submit_ready()
