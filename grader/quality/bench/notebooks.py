"""Execution time of every source notebook, in a fresh kernel (`make bench-notebooks`)."""
from __future__ import annotations

import time

import nbformat
from nbclient import NotebookClient

from ...course import Course

NOTEBOOK_BUDGET_SECONDS = 60


def bench_notebooks(course: Course | None = None, assignments: list[str] | None = None) -> dict[str, float]:
    """Execute every source notebook in a fresh kernel and print its wall time.

    Returns "<assignment>/<notebook>" -> seconds. The budget is 60 s per notebook on 2 cores.
    """
    course = course or Course()
    times = {}
    for assignment in assignments or course.assignments():
        for path in course.source_notebooks(assignment):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            key = f"{assignment}/{path.name}"
            times[key] = time.perf_counter() - start
            verdict = "ok" if times[key] < NOTEBOOK_BUDGET_SECONDS else "OVER BUDGET"
            print(f"{key:<40} {times[key]:6.1f} s  {verdict}", flush=True)
    print(f"{'total':<40} {sum(times.values()):6.1f} s (budget {NOTEBOOK_BUDGET_SECONDS} s per notebook)")
    return times
