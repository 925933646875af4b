"""Per-student feedback with nbgrader's generate_feedback (hidden tests removed by HideHiddenTests),
plus a page of grading notes for what happened to the submission as a whole."""
import html

from tqdm import tqdm

from .autograde import load_status
from .course import Course

NOTES_PAGE = "grading_notes.html"


def feedback_class(course=None, assignments=None, progress=True):
    """Generate feedback/<student>/<assignment>/*.html for every graded submission.

    Returns a list of (student_id, assignment, success, message).
    """
    course = course or Course()
    status = load_status(course)
    jobs = sorted(key for key in status if assignments is None or key[1] in assignments)
    results = []
    for student, assignment in tqdm(jobs, desc="feedback", unit="submission", disable=not progress):
        message = ""
        if (course.autograded_dir / student / assignment).is_dir():
            result = course.api.generate_feedback(assignment, student, force=True)
            if not result.get("success"):
                message = (result.get("error") or result.get("log") or "").strip()[-300:]
                tqdm.write(f"no feedback for {student}/{assignment}: {message}")
        write_notes(course, status[(student, assignment)])
        results.append((student, assignment, not message, message))
    return results


def write_notes(course, outcome):
    """feedback/<student>/<assignment>/grading_notes.html: how the submission as a whole was graded."""
    folder = course.feedback_dir / outcome["student_id"] / outcome["assignment"]
    folder.mkdir(parents=True, exist_ok=True)
    items = [html.escape(m) for m in outcome.get("messages", [])]
    if not outcome["success"]:
        items.append("Your submission could not be graded: " + html.escape(outcome["error"]))
    body = "".join(f"<li>{item}</li>" for item in items) or "<li>Every notebook was graded normally.</li>"
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grading notes</title></head><body>"
            f"<h1>Grading notes: {html.escape(outcome['assignment'])}</h1><ul>{body}</ul>"
            f"<p>Each notebook's page shows every check with its result.</p></body></html>")
    (folder / NOTES_PAGE).write_text(page, encoding="utf-8")
