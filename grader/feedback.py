"""Per-student feedback with nbgrader's generate_feedback (hidden tests removed by HideHiddenTests)."""
from tqdm import tqdm

from .course import Course


def feedback_class(course=None, assignments=None, progress=True):
    """Generate feedback/<student>/<assignment>/*.html for every autograded submission.

    Returns a list of (student_id, assignment, success, message).
    """
    course = course or Course()
    jobs = []
    for assignment in assignments or course.assignments():
        folder = course.autograded_dir
        if folder.is_dir():
            jobs += [(assignment, p.name) for p in sorted(folder.iterdir()) if (p / assignment).is_dir()]
    results = []
    for assignment, student in tqdm(jobs, desc="feedback", unit="submission", disable=not progress):
        result = course.api.generate_feedback(assignment, student, force=True)
        message = "" if result.get("success") else (result.get("error") or result.get("log") or "").strip()[-300:]
        if message:
            tqdm.write(f"no feedback for {student}/{assignment}: {message}")
        results.append((student, assignment, bool(result.get("success")), message))
    return results
