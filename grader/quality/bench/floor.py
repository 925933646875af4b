"""The floor: the test cells' own compute per submission, against the instructor's solutions.

In a fresh Python process (no nbgrader, no kernel, no sandbox), each source notebook's set-up and
solution cells run untimed (experiments skipped), then its test cells run timed. Repeated in the
same process (warm, like the kit's workers).
"""
from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat

from ...conventions import SKIP_TAG, cell_role
from ...course import Course
from .plain import grader_environment


def _test_compute_once(source_dir: str) -> tuple[dict[str, float], list[str]]:
    """Seconds spent in each notebook's test cells, and the test cells that lost points."""
    import time

    os.environ["NNKIT_REFERENCE_DIR"] = source_dir   # known_good: the instructor's building blocks
    os.chdir(source_dir)
    seconds, lost = {}, []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        namespace: dict[str, Any] = {"__name__": "__main__"}
        seconds[path.stem] = 0.0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            role = cell_role(cell)
            if role == "student" and SKIP_TAG in cell.metadata.get("tags", []):
                continue
            tree = ast.parse(cell.source)
            last = tree.body.pop().value if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            code = compile(tree, path.name, "exec")
            final = compile(ast.Expression(last), path.name, "eval") if last is not None else None
            out = io.StringIO()
            began = time.perf_counter()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                try:
                    exec(code, namespace)
                    value = eval(final, namespace) if final is not None else None
                except Exception as exc:
                    value = exc
            if role == "test":
                seconds[path.stem] += time.perf_counter() - began
                points = float(cell.metadata["nbgrader"].get("points", 0))
                if not isinstance(value, (int, float)) or abs(value - points) > 1e-9:
                    lost.append(f"{path.stem}/{cell.metadata['nbgrader']['grade_id']}: {value!r}")
    return seconds, lost


def _test_compute_main(source_dir: str, repeats: int) -> None:
    runs = [_test_compute_once(source_dir) for _ in range(repeats)]
    print(json.dumps({"runs": [r[0] for r in runs], "lost": runs[0][1]}))


def measure_test_compute(course: Course, assignment: str,
                         repeats: int = 3) -> tuple[float, dict[str, float], list[str]]:
    """(median total seconds per submission, per-notebook seconds of the median run, test cells that
    did not give full points) for one assignment."""
    source = str(course.source_dir / assignment)
    code = f"from grader.quality.bench.floor import _test_compute_main; _test_compute_main({source!r}, {repeats})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=course.root, env=grader_environment(MPLBACKEND="Agg"),
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError("measuring the test cells failed:\n" + proc.stderr[-3000:])
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    runs = sorted(data["runs"], key=lambda r: sum(r.values()))
    median = runs[len(runs) // 2]
    return sum(median.values()), median, data["lost"]
