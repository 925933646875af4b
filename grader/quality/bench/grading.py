"""`make bench`: a generated class graded by plain serial nbgrader and by the kit, side by side.

Both grade the same class in throwaway copies of the course, each with its own gradebook. The
figures: throughput of both and their ratio; per submission, where the kit's time goes
(start-up and nbgrader, execution, gradebook) and, summed over the class, where execution goes
per notebook (grader.judge.profile); the floor (the test cells' own compute); and whether every
non-adversarial student got the same score on every test from both (exit status 1 if not).
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, TextIO

import nbformat

from ...course import Course, scratch_course
from ...judge.profile import BATCHES, CALLBACKS, CALLS, COUNT, ORDER
from ...pipeline.autograde import autograde_class, default_jobs
from ...pipeline.status import Outcome
from ...reports.grades import test_scores
from .floor import measure_test_compute
from .plain import grade_with_plain_nbgrader
from .roster import BenchStudent, bench_roster, build_class

BENCH_SIZE = 50
TARGET_RATIO = 20


def scores_by_submission(course: Course) -> dict[tuple[str, str], dict[tuple[str, str], float]]:
    """(assignment, student) -> {(notebook, grade_id): score} from the course's gradebook."""
    out: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    for row in test_scores(course):
        out.setdefault((row.assignment, row.student_id), {})[(row.notebook, row.grade_id)] = row.score
    return out


def grade_differences(plain: dict[Any, dict[Any, float]], kit: dict[Any, dict[Any, float]],
                      keys: list[tuple[str, str]]) -> list[tuple[str, str, str, str, float | None, float | None]]:
    """(assignment, student, notebook, grade_id, plain score, kit score) wherever the two disagree."""
    out = []
    for key in keys:
        a, b = plain.get(key, {}), kit.get(key, {})
        for test in sorted(set(a) | set(b)):
            if a.get(test) != b.get(test):
                out.append((key[0], key[1], test[0], test[1], a.get(test), b.get(test)))
    return out


def cell_error(course: Course, assignment: str, student: str, notebook: str, grade_id: str) -> str:
    """The error a graded cell ended with in autograded/ (e.g. 'CellTimeoutError'), or ''."""
    path = course.autograded_dir / student / assignment / f"{notebook}.ipynb"
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return "no autograded notebook"
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return ", ".join(o.get("ename", "") for o in cell.get("outputs", []) if o.get("output_type") == "error")
    return "cell missing"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def _stats(values: Any) -> str:
    values = list(values)
    if not values:
        return "-"
    return f"mean {statistics.fmean(values):6.2f} s, median {statistics.median(values):6.2f} s"


def print_profile(outcomes: list[Outcome], say: Any) -> dict[str, dict[str, float]]:
    """Where execution time went, per notebook and phase, summed over the class; returns the sums."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for o in outcomes:
        for notebook, phases in o.profile.items():
            for phase, seconds in phases.items():
                sums[f"{o.assignment}/{notebook}"][phase] += seconds
    if not sums:
        return {}
    notebooks = sorted(sums)
    width = max(len(p) for p in ORDER)
    say("\nexecution summed over the class, seconds per notebook and phase (grader.judge.profile):")
    say(" " * (width + 3) + "".join(f"{n.split('/')[-1][:14]:>15}" for n in notebooks) + f"{'total':>10}")
    for phase in ORDER:
        values = [sums[n].get(phase, 0.0) for n in notebooks]
        say(f"   {phase:<{width}}" + "".join(f"{v:15.1f}" for v in values) + f"{sum(values):10.1f}")
    totals = [sum(v for k, v in sums[n].items() if not k.startswith(COUNT)) for n in notebooks]
    say(f"   {'all phases':<{width}}" + "".join(f"{v:15.1f}" for v in totals) + f"{sum(totals):10.1f}")
    for phase in (CALLS, BATCHES, CALLBACKS):
        counts = [sums[n].get(COUNT + phase, 0.0) for n in notebooks]
        say(f"   {'requests: ' + phase.split(': ')[-1]:<{width}}" + "".join(f"{v:15.0f}" for v in counts)
            + f"{sum(counts):10.0f}")
    return {n: dict(v) for n, v in sums.items()}


def bench_class(course: Course | None = None, size: int = BENCH_SIZE, jobs: int | None = None,
                keep: str | None = None, out: TextIO = sys.stdout, plain: bool = True,
                assignments: list[str] | None = None) -> dict[str, Any]:
    """Grade a generated class with plain serial nbgrader and with the kit; print and return the figures.

    Inputs:
    - course: the course whose notebooks are graded (default: this repository); never modified
    - size: submissions in the class (default 50), shared equally by the assignments
    - jobs: the kit's parallel workers (default: one per core, plus one)
    - keep: a folder to keep the two course copies in (default: temporary, removed)
    - plain: also grade with plain nbgrader (False: the kit and the floor only)
    - assignments: the assignments (default: all)

    Returns a dict of the figures; "identical" is True when every non-adversarial submission got
    the same score on every test from both.
    """
    course = course or Course()
    jobs = jobs or default_jobs()
    assignments = assignments or course.assignments()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    keep_kit = keep_plain = None
    if keep:
        keep_kit, keep_plain = Path(keep) / "kit", Path(keep) / "plain"
        for folder in (keep_kit, keep_plain):
            shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, Any] = {"jobs": jobs, "assignments": assignments}
    with scratch_course(course.root, keep=keep_kit) as kit_course:
        for assignment in assignments:
            release = kit_course.api.generate_assignment(assignment, force=True, create=True)
            if not release.get("success"):
                raise RuntimeError("nbgrader generate_assignment failed:\n%s"
                                   % (release.get("error") or release.get("log")))
        roster = bench_roster(kit_course, assignments, size)
        build_class(kit_course, roster)
        submissions = len(roster) * len(assignments)
        result["size"] = submissions
        kinds: dict[str, int] = defaultdict(int)
        for student in roster:
            for submission in student.submissions.values():
                kinds[submission.kind] += 1
        say(f"benchmark class: {submissions} submissions ({len(roster)} students x {', '.join(assignments)}: "
            + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + f"); {os.cpu_count()} cores, " + _load())

        plain_root = Path(keep_plain) if keep_plain else Path(str(kit_course.root) + "-plain")
        if plain:
            shutil.copytree(kit_course.root, plain_root, symlinks=True)   # released, submitted, same gradebook
        try:
            say("\n== floor: the test cells alone, in-process, against the instructor's solutions")
            floors = {}
            for assignment in assignments:
                floor, by_notebook, lost = measure_test_compute(kit_course, assignment)
                floors[assignment] = floor
                say(f"   {assignment}: " + ", ".join(f"{nb} {s:.2f} s" for nb, s in by_notebook.items())
                    + f"; total {floor:.2f} s per submission")
                if lost:
                    say("   (the instructor's solutions did not get full points on: " + "; ".join(lost) + ")")
            floor = statistics.fmean(floors.values())
            result["floor_seconds"] = floor

            say(f"\n== the kit: autograde_class, {jobs} parallel workers")
            start = time.perf_counter()
            outcomes = autograde_class(kit_course, assignments, [s.student_id for s in roster],
                                       progress=sys.stderr.isatty(), jobs=jobs)
            kit_wall = time.perf_counter() - start
            failed = [o for o in outcomes if not o.success]
            say(f"   {len(outcomes) - len(failed)} of {len(outcomes)} graded in {kit_wall:.1f} s; {_load()}")
            for o in failed:
                say(f"   could not grade {o.student_id}/{o.assignment}: {o.error}")
            result.update(kit_seconds=kit_wall, kit_failed=[(o.student_id, o.assignment) for o in failed])

            if plain:
                say("\n== plain nbgrader: `nbgrader autograde <assignment> --force --create`, serial, "
                    "nbgrader's Execute (one kernel per notebook)")
                plain_wall, plain_each, code = grade_with_plain_nbgrader(Course(plain_root), assignments, len(roster))
                say(f"   finished in {plain_wall:.1f} s (exit status {code}); {_load()}")
                result.update(plain_seconds=plain_wall, plain_status=code)
            _figures(say, result, roster, assignments, outcomes, kit_course, Course(plain_root) if plain else None,
                     plain_each if plain else {}, floor, floors, kit_wall, jobs)
        finally:
            if plain and not keep_plain:
                shutil.rmtree(plain_root, ignore_errors=True)
    return result


def _figures(say: Any, result: dict[str, Any], roster: list[BenchStudent], assignments: list[str],
             outcomes: list[Outcome], kit_course: Course, plain_course: Course | None,
             plain_each: dict[tuple[str, str], float], floor: float, floors: dict[str, float], kit_wall: float,
             jobs: int) -> None:
    n = len(outcomes)
    kit_rate = 60 * n / kit_wall
    say("\n== results")
    say(f"submissions:                 {n}")
    say(f"floor (test compute):        {floor:7.2f} s per submission (" +
        ", ".join(f"{a} {s:.2f} s" for a, s in floors.items()) + ")")
    if plain_course is not None:
        plain_rate = 60 * n / result["plain_seconds"]
        say(f"plain nbgrader (serial):     {result['plain_seconds']:7.1f} s wall  {plain_rate:7.2f} submissions/min")
    say(f"kit ({jobs} workers):             {kit_wall:7.1f} s wall  {kit_rate:7.2f} submissions/min "
        f"({kit_wall / n:.2f} s per submission)")
    result.update(kit_rate=kit_rate, kit_wall_per_submission=kit_wall / n)
    if plain_course is not None:
        ratio = kit_rate / plain_rate
        say(f"throughput ratio kit / plain: {ratio:6.1f}x  (target: {TARGET_RATIO}x on 2 cores: "
            f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
        result.update(plain_rate=plain_rate, ratio=ratio)

    say("\nper submission, the kit (each worker's own time; Outcome.timings):")
    ok = [o for o in outcomes if o.success]
    for part, label in (("other", "start-up and nbgrader"), ("execution", "execution"), ("gradebook", "gradebook")):
        say(f"   {label:<22} {_stats(o.timings.get(part, 0.0) for o in ok)}")
    say(f"   {'total':<22} {_stats(o.seconds for o in ok)}")
    sandboxes = sum(o.timings.get("sandboxes", 0) for o in ok) / max(1, len(ok))
    say(f"   sandboxes started      {sandboxes:6.2f} per submission")
    in_flight = sum(o.seconds for o in outcomes) / kit_wall
    say(f"   wall per submission    {kit_wall / n:6.2f} s ({in_flight:.2f} submissions in flight on average)")
    if ok:
        mean_exec = statistics.fmean(o.timings.get("execution", 0) for o in ok)
        median_exec = statistics.median(o.timings.get("execution", 0) for o in ok)
        say(f"   execution / floor      {mean_exec / floor:6.2f}x (mean), {median_exec / floor:6.2f}x (median)")
        result.update(execution_mean=mean_exec, execution_median=median_exec)
    result["profile"] = print_profile(outcomes, say)
    if plain_course is not None:
        say("per submission, plain nbgrader (start-up, kernels, execution, gradebook together):")
        say(f"   {'total':<22} {_stats(plain_each.values())}")

    kit_scores = scores_by_submission(kit_course)
    plain_scores = scores_by_submission(plain_course) if plain_course is not None else {}
    outcome_of = {(o.assignment, o.student_id): o for o in outcomes}
    say("\nper submission: seconds (kit total = other + execution + gradebook; plain total), points")
    for student in roster:
        for assignment, submission in student.submissions.items():
            key = (assignment, student.student_id)
            o = outcome_of.get(key)
            t = o.timings if o else {}
            kit_part = (f"kit {o.seconds:6.1f} = {t.get('other', 0):4.1f} + {t.get('execution', 0):5.1f} + "
                        f"{t.get('gradebook', 0):4.1f}") if o else "kit      -"
            plain_part = f"  plain {plain_each.get(key, float('nan')):6.1f}" if plain_course is not None else ""
            points = f"  points kit {sum(kit_scores.get(key, {}).values()):6.2f}"
            if plain_course is not None:
                points += f" plain {sum(plain_scores.get(key, {}).values()):6.2f}"
            say(f"   {student.student_id[:44]:<44} {assignment:<10} {submission.kind:<11} "
                f"{kit_part}{plain_part}{points}")

    if plain_course is None:
        result["identical"] = not result["kit_failed"]
        return
    compared = [(a, s.student_id) for s in roster for a, done in s.submissions.items() if done.kind != "adversarial"]
    differences = grade_differences(plain_scores, kit_scores, compared)
    result["differences"] = differences
    result["identical"] = not differences and result["plain_status"] == 0
    say(f"\ngrades of the {len(compared)} non-adversarial submissions, per test: "
        + ("IDENTICAL" if not differences else f"{len(differences)} DIFFERENCES"))
    for assignment, student_id, notebook, grade_id, a, b in differences:
        why = [f"{name}: {error}" for name, error in (
            ("plain", cell_error(plain_course, assignment, student_id, notebook, grade_id)),
            ("kit", cell_error(kit_course, assignment, student_id, notebook, grade_id))) if error]
        say(f"   {student_id} {assignment}/{notebook} {grade_id}: plain nbgrader {a}, kit {b}"
            + (f" ({'; '.join(why)})" if why else ""))
    attacks = [(a, s.student_id) for s in roster for a, sub in s.submissions.items() if sub.kind == "adversarial"]
    if attacks:
        say("adversarial submissions (not compared): " + ", ".join(
            f"{s}/{a} plain {sum(plain_scores.get((a, s), {}).values()):g} / kit "
            f"{sum(kit_scores.get((a, s), {}).values()):g} points" for a, s in attacks))
