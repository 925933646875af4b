"""Autograde every submission with nbgrader, one student at a time, with a progress bar.

nbgrader's own `Autograde` converter does the work (through its API); the
execution step is the `Execute` preprocessor named in nbgrader_config.py and
can be replaced there. A submission that nbgrader cannot grade at all is
recorded as failed with its message and the class goes on.
"""
import contextlib
import json
import re
import time
import warnings
from dataclasses import asdict, dataclass, field

from tqdm import tqdm

from . import preprocessors
from .course import Course
from .execution import one_sandbox_per_submission
from .preflight import stage_submission
from .workers import ProgressBar, pool_context, start_pool

try:  # nbgrader's gradebook triggers harmless SQLAlchemy session warnings on every submission
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
except ImportError:  # pragma: no cover
    pass

STATUS_FILE = "autograde_status.json"
#: what grading a notebook imports beyond this module: forked workers share them (grader.workers)
GRADING_IMPORTS = ("grader.judge", "grader.submissions", "nbgrader.api", "nbformat.v4", "matplotlib.pyplot",
                   "nnkit.checks", "nnkit.gradient_check", "nnkit.notebooks")


@dataclass
class Outcome:
    student_id: str
    assignment: str
    success: bool
    seconds: float
    error: str = ""
    notebooks: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)   # seconds: execution, gradebook, other (start-up, nbgrader)


def _last_error_line(result):
    """The most telling line of nbgrader's log: the last exception message, else the last line."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Unavailable): ", line)
              and "Please see the the above traceback" not in line]
    return (errors or lines or ["unknown error"])[-1]


def grade_one(course, assignment, student, on_notebook=None, notebook=None):
    """Autograde one submission with nbgrader; returns its Outcome (never raises for bad input).

    With `notebook` (a name without .ipynb), only that notebook is graded.
    """
    graded = []

    def notebook_started(name):
        graded.append(name)
        if on_notebook is not None:
            on_notebook(student, name)

    start = time.perf_counter()
    preprocessors.timings.clear()
    preprocessors.verified.pop((student, assignment), None)
    preflight = stage_submission(course, assignment, student)
    preprocessors.progress_callback = notebook_started
    saved_filter = course.api.coursedir.notebook_id
    course.api.coursedir.notebook_id = notebook or "*"
    try:
        with one_sandbox_per_submission():
            result = course.api.autograde(assignment, student, force=True, create=True)
    finally:
        preprocessors.progress_callback = None
        course.api.coursedir.notebook_id = saved_filter
    success = bool(result.get("success"))
    total = time.perf_counter() - start
    timings = {"execution": preprocessors.timings["execution"], "gradebook": preprocessors.timings["gradebook"]}
    timings["other"] = max(0.0, total - sum(timings.values()))
    return Outcome(student, assignment, success, total, "" if success else _last_error_line(result), graded,
                   preflight.messages, timings)


def ensure_in_gradebook(course, assignment):
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


# --- worker processes: each keeps its Course, nbgrader and the judge warm between submissions ---
_worker = {}


def _init_worker(root, queue, slots):
    import os

    os.environ["GRADER_WORKER_SLOT"] = str(slots.get())
    _worker["course"] = Course(root)
    _worker["queue"] = queue
    _worker["resources"] = contextlib.ExitStack()   # held for the worker's lifetime
    _worker["resources"].enter_context(preprocessors.shared_gradebooks())


def _grade_in_worker(assignment, student, notebook):
    queue = _worker["queue"]
    return grade_one(_worker["course"], assignment, student,
                     on_notebook=lambda s, name: queue.put((s, name)), notebook=notebook)


def usable_cores():
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def default_jobs():
    """Parallel grading workers: one per core, plus one.

    A worker whose student is stuck in an infinite loop waits for the cell's time limit, and
    its looping student process runs at a lower priority; the extra worker keeps the cores busy.
    """
    return usable_cores() + 1


def autograde_class(course=None, assignments=None, students=None, progress=True, jobs=None, notebooks=None):
    """Autograde submissions in parallel; returns a list of Outcome and records them in reports/.

    Inputs:
    - course: the Course (default: the repo's)
    - assignments: names to grade (default: all)
    - students: student ids to grade (default: everyone who submitted)
    - progress: show a tqdm bar naming student and notebook
    - jobs: worker processes (default: one per core, plus one); 1 grades in this process
    - notebooks: optional dict student_id -> notebook name: grade only that notebook of that student

    Each submission is graded by nbgrader's autograde in one worker; the
    gradebook (SQLite or PostgreSQL) takes the workers' writes as transactions.
    """
    course = course or Course()
    jobs = jobs or default_jobs()
    work = [(a, s) for a in (assignments or course.assignments()) for s in (students or course.students(a))]
    for assignment in sorted({a for a, _ in work}):
        ensure_in_gradebook(course, assignment)
    outcomes = []
    bar = ProgressBar(total=len(work), desc="autograde", unit="submission", disable=not progress, dynamic_ncols=True)

    def finished(outcome):
        outcomes.append(outcome)
        if not outcome.success:
            tqdm.write(f"could not autograde {outcome.student_id}/{outcome.assignment}: {outcome.error}")
        bar.update(1)

    try:
        if jobs == 1 or len(work) <= 1:
            with preprocessors.shared_gradebooks():
                for assignment, student in work:
                    finished(grade_one(course, assignment, student,
                                       on_notebook=lambda s, name: bar.set_postfix_str(f"{s} / {name}"),
                                       notebook=(notebooks or {}).get(student)))
        else:
            _grade_in_pool(course, work, jobs, bar, finished, notebooks or {})
    finally:
        bar.close()
    _save_status(course, outcomes)
    return sorted(outcomes, key=lambda o: (o.assignment, o.student_id))


def _grade_in_pool(course, work, jobs, bar, finished, notebooks):
    from concurrent.futures import FIRST_COMPLETED, wait

    context = pool_context(warm=GRADING_IMPORTS)
    progress, slots = context.SimpleQueue(), context.SimpleQueue()
    for slot in range(jobs):   # each worker's sandbox user id is 61000 + its slot (preprocessors.py)
        slots.put(slot)
    with start_pool(context, jobs, _init_worker, (str(course.root), progress, slots)) as pool:
        pending = {pool.submit(_grade_in_worker, a, s, notebooks.get(s)): (a, s) for a, s in work}
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            while not progress.empty():
                student, name = progress.get()
                bar.set_postfix_str(f"{student} / {name}")
            for future in done:
                assignment, student = pending.pop(future)
                try:
                    finished(future.result())
                except Exception as exc:  # a worker that died: that submission only
                    finished(Outcome(student, assignment, False, 0.0, f"grading worker failed: {exc}"))


def _save_status(course, outcomes):
    course.reports_dir.mkdir(parents=True, exist_ok=True)
    path = course.reports_dir / STATUS_FILE
    previous = json.loads(path.read_text()) if path.exists() else []
    done = {(o.student_id, o.assignment) for o in outcomes}
    merged = [row for row in previous if (row["student_id"], row["assignment"]) not in done]
    merged += [asdict(o) for o in outcomes]
    path.write_text(json.dumps(sorted(merged, key=lambda r: (r["assignment"], r["student_id"])), indent=1))


def load_status(course):
    """The recorded autograde outcomes, as dicts keyed (student_id, assignment)."""
    path = course.reports_dir / STATUS_FILE
    rows = json.loads(path.read_text()) if path.exists() else []
    return {(r["student_id"], r["assignment"]): r for r in rows}
