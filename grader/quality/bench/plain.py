"""The class graded by plain serial nbgrader: the stock `nbgrader autograde` with nbgrader's Execute."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import TextIO

from ...course import Course

STUDENT_START = re.compile(r"Creating/updating student with ID '([^']+)'")


def grader_environment(**extra: str) -> dict[str, str]:
    """Environment of a grading subprocess: nothing of this process's grading set-up."""
    env = dict(os.environ)
    for name in ("NNKIT_REFERENCE_DIR", "GRADER_DB_URL", "GRADER_DASK_SCHEDULER"):
        env.pop(name, None)
    env.update(extra)
    return env


def grade_with_plain_nbgrader(course: Course, assignments: list[str], students: int,
                              log: TextIO = sys.stderr) -> tuple[float, dict[tuple[str, str], float], int]:
    """Run `nbgrader autograde <assignment> --force --create` for each assignment, one after the other.

    nbgrader's own Execute (GRADER_EXECUTOR=nbgrader in nbgrader_config.py): one kernel per notebook
    runs the student's code and the tests together, every cell re-executed.
    Returns (wall seconds, (assignment, student) -> seconds, worst return code). A submission's time
    runs from nbgrader's first log line about it to the first line about the next one (or the end).
    """
    env = grader_environment(GRADER_EXECUTOR="nbgrader")
    per_submission: dict[tuple[str, str], float] = {}
    status, start = 0, time.perf_counter()
    with open(course.root / "nbgrader-autograde.log", "w") as log_file:
        for assignment in assignments:
            command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", "--create"]
            began = time.perf_counter()
            starts: list[tuple[str, float]] = []
            proc = subprocess.Popen(command, cwd=course.root, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
            assert proc.stdout is not None
            for line in proc.stdout:
                now = time.perf_counter()
                log_file.write(f"{now - start:9.2f} {line}")
                match = STUDENT_START.search(line)
                if match:
                    starts.append((match.group(1), now))
                    print(f"plain nbgrader: {assignment}: {len(starts) - 1} of {students} graded, now "
                          f"{match.group(1)} ({now - start:.0f} s)", file=log, flush=True)
            proc.wait()
            status = max(status, proc.returncode)
            ended = time.perf_counter()
            for i, (student, at) in enumerate(starts):
                until = starts[i + 1][1] if i + 1 < len(starts) else ended
                per_submission[(assignment, student)] = until - at
            if starts:  # nbgrader's start-up belongs to the first submission
                per_submission[(assignment, starts[0][0])] += starts[0][1] - began
    return time.perf_counter() - start, per_submission, status
