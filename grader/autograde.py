"""Autograde every submission with nbgrader, one student at a time, with a progress bar.

nbgrader's own `Autograde` converter does the work (through its API); the
execution step is the `Execute` preprocessor named in nbgrader_config.py and
can be replaced there. A submission that nbgrader cannot grade at all is
recorded as failed with its message and the class goes on.
"""
import json
import time
from dataclasses import asdict, dataclass, field

from tqdm import tqdm

from . import preprocessors
from .course import Course

STATUS_FILE = "autograde_status.json"


@dataclass
class Outcome:
    student_id: str
    assignment: str
    success: bool
    seconds: float
    error: str = ""
    notebooks: list = field(default_factory=list)


def _last_error_line(result):
    text = (result.get("error") or "").strip() or (result.get("log") or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def autograde_class(course=None, assignments=None, students=None, progress=True):
    """Autograde submissions; returns a list of Outcome and writes reports/autograde_status.json.

    Inputs:
    - course: the Course (default: the repo's)
    - assignments: names to grade (default: all)
    - students: student ids to grade (default: everyone who submitted)
    - progress: show a tqdm bar naming student and notebook
    """
    course = course or Course()
    jobs = [(a, s) for a in (assignments or course.assignments())
            for s in (students or course.students(a))]
    outcomes = []
    bar = tqdm(jobs, desc="autograde", unit="submission", disable=not progress, dynamic_ncols=True)
    try:
        for assignment, student in bar:
            graded = []

            def on_notebook(name, student=student):
                graded.append(name)
                bar.set_postfix_str(f"{student} / {name}")

            preprocessors.progress_callback = on_notebook
            bar.set_postfix_str(student)
            start = time.perf_counter()
            result = course.api.autograde(assignment, student, force=True, create=True)
            outcome = Outcome(student, assignment, bool(result.get("success")), time.perf_counter() - start,
                              "" if result.get("success") else _last_error_line(result), graded)
            if not outcome.success:
                tqdm.write(f"could not autograde {student}/{assignment}: {outcome.error}")
            outcomes.append(outcome)
    finally:
        preprocessors.progress_callback = None
        bar.close()
    _save_status(course, outcomes)
    return outcomes


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
