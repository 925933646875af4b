"""Per-student feedback with nbgrader's generate_feedback (hidden tests removed, markup sanitised),
plus a page of grading notes for what happened to the submission as a whole."""
from __future__ import annotations

import html
from typing import Any

from tqdm import tqdm

from ..course import Course
from ..pipeline.status import load_status
from ..pipeline.workers import ProgressBar, pool_context, start_pool, usable_cores

NOTES_PAGE = "grading_notes.html"


def feedback_class(course: Course | None = None, assignments: list[str] | None = None, progress: bool = True,
                   jobs: int | None = None) -> list[tuple[str, str, bool, str]]:
    """Generate feedback/<student>/<assignment>/*.html for every graded submission, in parallel.

    Inputs:
    - jobs: worker processes (default: one per core); 1 generates in this process

    Returns a list of (student_id, assignment, success, message).
    """
    course = course or Course()
    status = load_status(course.reports_dir)
    work = sorted(key for key in status if assignments is None or key[1] in assignments)
    jobs = min(jobs or usable_cores(), max(1, len(work)))
    results = []
    pool = None
    if jobs == 1:
        messages: Any = (_feedback_one(course, student, assignment) for student, assignment in work)
    else:
        pool = start_pool(pool_context(), jobs, _init_worker, (str(course.root),))
        messages = pool.map(_feedback_in_worker, work)
    with ProgressBar(total=len(work), desc="feedback", unit="submission", disable=not progress) as bar:
        try:
            for (student, assignment), message in zip(work, messages):
                if message:
                    tqdm.write(f"no feedback for {student}/{assignment}: {message}")
                write_notes(course, status[(student, assignment)])
                results.append((student, assignment, not message, message))
                bar.update(1)
        finally:
            if pool is not None:
                pool.shutdown()
    return results


def _feedback_one(course: Course, student: str, assignment: str) -> str:
    """nbgrader generate_feedback for one graded submission; returns '' or what went wrong."""
    if not (course.autograded_dir / student / assignment).is_dir():
        return ""
    result = course.api.generate_feedback(assignment, student, force=True)
    if result.get("success"):
        return ""
    return str(result.get("error") or result.get("log") or "").strip()[-300:]


class _WorkerState:
    course: Course


def _init_worker(root: str) -> None:
    _WorkerState.course = Course(root)


def _feedback_in_worker(key: tuple[str, str]) -> str:
    return _feedback_one(_WorkerState.course, *key)


def write_notes(course: Course, outcome: dict[str, Any]) -> None:
    """feedback/<student>/<assignment>/grading_notes.html: how the submission as a whole was graded."""
    folder = course.feedback_dir / outcome["student_id"] / outcome["assignment"]
    folder.mkdir(parents=True, exist_ok=True)
    items = [html.escape(str(m)) for m in outcome.get("messages", [])]
    if not outcome["success"]:
        items.append("Your submission could not be graded: " + html.escape(str(outcome["error"])))
    body = "".join(f"<li>{item}</li>" for item in items) or "<li>Every notebook was graded normally.</li>"
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grading notes</title></head><body>"
            f"<h1>Grading notes: {html.escape(outcome['assignment'])}</h1><ul>{body}</ul>"
            f"<p>Each notebook's page shows every check with its result.</p></body></html>")
    (folder / NOTES_PAGE).write_text(page, encoding="utf-8")
