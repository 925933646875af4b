"""How each submission's autograding went: reports/autograde_status.json, written as grading goes.

A submission is recorded as "grading" before its grading starts and as "graded" or "failed"
(with the reason) when it ends, each time with an atomic replace of the file: a crash or a
kill mid-class leaves the unfinished submissions as "grading", which every report reads as
"not graded" (their autograded scores were cleared in the gradebook before grading started).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUS_FILE = "autograde_status.json"
GRADED, FAILED, GRADING = "graded", "failed", "grading"
UNFINISHED = "grading did not finish (the grader stopped or crashed while grading this submission)"


@dataclass
class Outcome:
    student_id: str
    assignment: str
    success: bool
    seconds: float
    error: str = ""
    notebooks: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)   # execution, gradebook, other (start-up, nbgrader)
    status: str = ""
    profile: dict[str, dict[str, float]] = field(default_factory=dict)   # notebook -> phase -> seconds

    def __post_init__(self) -> None:
        if not self.status:
            self.status = GRADED if self.success else FAILED


def status_path(reports_dir: Path) -> Path:
    return Path(reports_dir) / STATUS_FILE


def load_status(reports_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The recorded outcomes as dicts keyed (student_id, assignment); unfinished ones as failed."""
    path = status_path(reports_dir)
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError):
        rows = []
    out = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or "student_id" not in row or "assignment" not in row:
            continue
        if row.get("status") == GRADING:
            row = {**row, "success": False, "error": UNFINISHED}
        row.setdefault("status", GRADED if row.get("success") else FAILED)
        out[(row["student_id"], row["assignment"])] = row
    return out


def save_status(reports_dir: Path, outcomes: Iterable[Outcome]) -> None:
    """Merge outcomes into the status file (atomically)."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = status_path(reports_dir)
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        previous = []
    merged = {(r["student_id"], r["assignment"]): r for r in previous if isinstance(r, dict) and "student_id" in r}
    for outcome in outcomes:
        row = asdict(outcome)
        row.pop("profile", None)   # per-phase seconds are for the benchmark, not the record
        merged[(outcome.student_id, outcome.assignment)] = row
    rows = sorted(merged.values(), key=lambda r: (r["assignment"], r["student_id"]))
    fd, tmp = tempfile.mkstemp(prefix=".status-", dir=reports_dir)
    with os.fdopen(fd, "w") as f:
        json.dump(rows, f, indent=1)
    os.replace(tmp, path)


def in_progress(work: Iterable[tuple[str, str]]) -> list[Outcome]:
    """Outcomes recording that these (assignment, student) submissions are being graded."""
    return [Outcome(student, assignment, False, 0.0, UNFINISHED, status=GRADING) for assignment, student in work]
