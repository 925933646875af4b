"""The gradebook during autograding: shared connections, and no stale grades.

- `shared_gradebooks()`: within the block, TimedSaveAutoGrades keeps one gradebook connection
  per database (nbgrader's SaveAutoGrades opens one per notebook: a new SQLAlchemy engine, its
  schema checks, every query compiled again). Every write is still committed as nbgrader commits it.
- `clear_autograded(...)`: before a submission is graded again, its autograded scores are
  cleared and its notebooks flagged, so that a grading that fails or stops midway never leaves
  old scores looking current; `mark_graded(...)` lifts the flags when grading succeeded, and
  `mark_failed(...)` records why it did not.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from nbgrader.api import Gradebook, MissingEntry

_shared: contextvars.ContextVar[dict[str, Gradebook] | None] = contextvars.ContextVar("shared_gradebooks",
                                                                                     default=None)
FAILED_PREFIX = "Autograding failed: "


@contextlib.contextmanager
def shared_gradebooks() -> Iterator[None]:
    """Within this block, TimedSaveAutoGrades keeps one gradebook connection per database."""
    connections: dict[str, Gradebook] = {}
    token = _shared.set(connections)
    try:
        yield
    finally:
        _shared.reset(token)
        for gradebook in connections.values():
            gradebook.close()


def shared_connections() -> dict[str, Gradebook] | None:
    """The connections of the innermost shared_gradebooks() block, or None outside one."""
    return _shared.get()


def _submission_notebooks(gb: Gradebook, assignment: str, student: str) -> list:
    try:
        return list(gb.find_submission(assignment, student).notebooks)
    except MissingEntry:
        return []


def clear_autograded(db_url: str, course_id: str, assignment: str, student: str, reason: str,
                     keep: set[str] | frozenset[str] = frozenset()) -> None:
    """Clear the autograded scores of a submission's notebooks, except those in `keep`, flag them and
    say why in their comments; manual grades stay."""
    with Gradebook(db_url, course_id) as gb:
        for notebook in _submission_notebooks(gb, assignment, student):
            if notebook.name in keep:
                continue
            notebook.flagged = True
            for grade in notebook.grades:
                if grade.auto_score is not None and not grade.needs_manual_grade:
                    grade.auto_score = 0.0
            for comment in notebook.comments:
                comment.auto_comment = FAILED_PREFIX + reason
        gb.db.commit()


def mark_graded(db_url: str, course_id: str, assignment: str, student: str) -> None:
    """Lift the flags of a submission that was graded in full."""
    with Gradebook(db_url, course_id) as gb:
        for notebook in _submission_notebooks(gb, assignment, student):
            notebook.flagged = False
            for comment in notebook.comments:
                if (comment.auto_comment or "").startswith(FAILED_PREFIX):
                    comment.auto_comment = None
        gb.db.commit()


def mark_failed(db_url: str, course_id: str, assignment: str, student: str, reason: str,
                graded: set[str] | frozenset[str] = frozenset()) -> None:
    """Record a failed grading: the notebooks it did not grade keep no autograded score, are flagged
    and say why; the notebooks it did grade (`graded`) keep their new scores."""
    clear_autograded(db_url, course_id, assignment, student, reason, keep=graded)
