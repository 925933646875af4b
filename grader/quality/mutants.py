"""Test the tests: grade every assignment's catalog of buggy and correct-but-different implementations.

Every case is a whole submission: the instructor's solutions of the whole course with the case's
solution cells replaced (a case with its own cache layout also replaces the backward pass that
reads it). The submissions are graded by the same autograding the instructor uses
(`autograde_class`), in a throwaway copy of the course, so the instructor's submitted/,
autograded/ and gradebook are never touched.

- A mutant must lose points on the tests of its function ("killed"); if it keeps full marks
  there it "survived": the hidden tests miss that bug. It must lose no point anywhere else, in
  its own notebook, in the later notebooks that use its function, or in a later assignment that
  imports it ("CHARGED TWICE" otherwise: one bug costs its points once).
- A variant must keep every point of the course ("FALSE ALARM" otherwise).
- The instructor's own solutions (the baseline) must keep full marks everywhere.

A case's own assignment is graded whole (later notebooks then see which building blocks passed
their tests, as in a real grading run); another assignment is graded too when one of its
notebooks imports, directly or not, the notebook that defines the case's function.
"""
from __future__ import annotations

import fnmatch
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TextIO

from ..conventions import function_cell, function_of_test, imported_notebooks
from ..course import Course, read_course_notebook, scratch_course
from ..pipeline.autograde import autograde_class, default_jobs
from ..reports.grades import test_scores
from .catalog import Case, load_catalog
from .submissions import build_submission

BASELINE = "baseline"
KILLED, SURVIVED, OK, FALSE_ALARM, ERROR = "killed", "survived", "ok", "FALSE ALARM", "ERROR"
CHARGED_TWICE = "CHARGED TWICE"   # the bug also costs points outside its function's tests
PASSING = (KILLED, OK)


@dataclass
class CaseResult:
    """How one case fared.

    - lost: points lost on the tests of the case's function
    - max_points: the maximum of those tests
    - lost_elsewhere: points lost on every other test graded (its notebook, later ones, later assignments)
    - charged_in: the tests outside its function's that lost points
    """

    case: Case
    assignment: str
    student_id: str
    notebook: str
    lost: float = 0.0
    max_points: float = 0.0
    lost_elsewhere: float = 0.0
    charged_in: tuple[str, ...] = ()
    verdict: str = ERROR
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict in PASSING


@dataclass
class MutantsRun:
    results: list[CaseResult]
    baseline_losses: list[tuple[str, str, float, float]]   # (where, grade_id, score, max_score)
    seconds: float

    @property
    def mutants(self) -> list[CaseResult]:
        return [r for r in self.results if not r.case.correct]

    @property
    def variants(self) -> list[CaseResult]:
        return [r for r in self.results if r.case.correct]

    @property
    def kill_rate(self) -> float:
        mutants = self.mutants
        return sum(r.verdict == KILLED for r in mutants) / len(mutants) if mutants else 1.0

    @property
    def ok(self) -> bool:
        return not self.baseline_losses and all(r.passed for r in self.results)


def student_id(assignment: str, case: Case) -> str:
    """The submission folder of a case: <assignment>-mutant-<function>-<name> (or -variant-)."""
    kind = "variant" if case.correct else "mutant"
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{assignment}-{kind}-{case.name.replace('/', '-')}")


def dependent_assignments(course: Course, assignment: str, notebook: str) -> list[str]:
    """The other assignments with a notebook that imports (directly or not) `notebook` of `assignment`."""
    imports: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for other in course.assignments():
        for path in course.source_notebooks(other):
            found = set()
            for name in imported_notebooks(read_course_notebook(path)):
                parts = name.split("/")
                found.add((parts[-2], parts[-1][:-6]) if len(parts) >= 3 and parts[0] == ".." else (other, name[:-6]))
            imports[(other, path.stem)] = found
    reached, frontier = {(assignment, notebook)}, [(assignment, notebook)]
    while frontier:
        target = frontier.pop()
        for key, used in imports.items():
            if target in used and key not in reached:
                reached.add(key)
                frontier.append(key)
    return sorted({a for a, _ in reached} - {assignment})


def _release(course: Course) -> None:
    for assignment in course.assignments():
        result = course.api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            raise RuntimeError("nbgrader generate_assignment failed in the course copy:\n%s"
                               % (result.get("error") or result.get("log")))


def run_mutants(course: Course, cases: dict[str, list[Case]], jobs: int | None = None, progress: bool = False,
                keep: str | None = None) -> MutantsRun:
    """Grade every case (assignment -> cases) and the baseline in a throwaway copy of `course`."""
    start = time.perf_counter()
    jobs = jobs or min(2, default_jobs())
    with scratch_course(course.root, keep=keep) as scratch:
        _release(scratch)
        graded: dict[str, list[str]] = defaultdict(list)     # student -> assignments graded
        owner: dict[str, tuple[str, Case]] = {}
        for assignment, assignment_cases in cases.items():
            notebook_of = scratch.notebook_of_functions(assignment)
            unknown = sorted({f for c in assignment_cases for f in c.replacements()} - set(notebook_of))
            if unknown:
                raise KeyError(f"the {assignment} notebooks have no solution cell for " + ", ".join(unknown))
            for case in assignment_cases:
                sid = student_id(assignment, case)
                if sid in owner:
                    raise ValueError(f"two cases map to the submission {sid}")
                owner[sid] = (assignment, case)
                build_submission(scratch, assignment, sid,
                                 replacements={function_cell(f): s for f, s in case.replacements().items()})
                graded[sid].append(assignment)
                for other in dependent_assignments(scratch, assignment, notebook_of[case.function]):
                    build_submission(scratch, other, sid)
                    graded[sid].append(other)
        for assignment in scratch.assignments():
            build_submission(scratch, assignment, BASELINE)
            graded[BASELINE].append(assignment)
        outcomes = autograde_class(scratch, None, sorted(graded), progress=progress, jobs=jobs)
        failed = {(o.student_id, o.assignment): o.error for o in outcomes if not o.success}
        rows = defaultdict(list)
        for row in test_scores(scratch):
            rows[row.student_id].append(row)
        functions = {a: scratch.graded_functions(a) for a in scratch.assignments()}
        notebooks = {a: scratch.notebook_of_functions(a) for a in cases}

    baseline_losses = [(f"{r.assignment}/{r.notebook}", r.grade_id, r.score, r.max_score)
                       for r in rows[BASELINE] if r.score < r.max_score]
    baseline_losses += [(a, f"(not graded: {error})", 0.0, 0.0) for (s, a), error in failed.items() if s == BASELINE]
    results = []
    for sid, (assignment, case) in owner.items():
        result = CaseResult(case, assignment, sid, notebooks[assignment][case.function])
        errors = [f"{a}: {failed[(sid, a)]}" for a in graded[sid] if (sid, a) in failed]
        mine = rows[sid]
        if errors or not mine:
            result.error = "; ".join(errors) or "no grades recorded"
            results.append(result)
            continue
        own = [r for r in mine if r.assignment == assignment
               and function_of_test(r.grade_id, functions[assignment]) == case.function]
        elsewhere = [r for r in mine if r not in own and r.score < r.max_score]
        result.lost = round(sum(r.max_score - r.score for r in own), 2)
        result.max_points = sum(r.max_score for r in own)
        result.lost_elsewhere = round(sum(r.max_score - r.score for r in elsewhere), 2)
        result.charged_in = tuple(f"{r.assignment}/{r.grade_id}" for r in elsewhere)
        if not own:
            result.error = f"no test cell grades {case.function}"
        elif case.correct:
            result.verdict = OK if result.lost == 0 and result.lost_elsewhere == 0 else FALSE_ALARM
        else:
            result.verdict = KILLED if result.lost > 0 else SURVIVED
            if result.verdict == KILLED and result.lost_elsewhere > 0:
                result.verdict = CHARGED_TWICE
        results.append(result)
    results.sort(key=lambda r: (r.assignment, r.case.correct, r.case.name))
    return MutantsRun(results, baseline_losses, time.perf_counter() - start)


def format_table(run: MutantsRun) -> str:
    """The results as a plain-text table, then the summary lines."""
    header = ("assignment", "case", "points lost", "elsewhere", "verdict")
    rows = []
    for r in run.results:
        lost = f"{r.lost:g} / {r.max_points:g}" if r.max_points else "-"
        rows.append((r.assignment, r.case.name, lost, f"{r.lost_elsewhere:g}",
                     r.verdict + (f" ({r.error})" if r.error else "")))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths[:-1], header[:-1])) + "  " + header[-1]
    out = [line, "-" * len(line)]
    for row in rows:
        out.append("  ".join("%-*s" % (w, c) for w, c in zip(widths[:-1], row[:-1])) + "  " + row[-1])
    out.append("")
    for assignment in sorted({r.assignment for r in run.results}):
        mutants = [r for r in run.mutants if r.assignment == assignment]
        variants = [r for r in run.variants if r.assignment == assignment]
        killed = sum(r.verdict == KILLED for r in mutants)
        out.append(f"{assignment}: {killed} of {len(mutants)} mutants killed, each charged only where it lives; "
                   f"{sum(r.verdict == OK for r in variants)} of {len(variants)} variants keep full marks")
    mutants = run.mutants
    out.append(f"all: {sum(r.verdict == KILLED for r in mutants)} of {len(mutants)} mutants killed and charged once "
               f"(kill rate {100 * run.kill_rate:.1f}%), whole submissions")
    for where, grade_id, score, max_score in run.baseline_losses:
        out.append(f"BASELINE BROKEN: the instructor's solutions lose points in {where} {grade_id} "
                   f"({score:g} / {max_score:g}): verdicts mean nothing")
    for r in run.results:
        if not r.passed:
            charged = f"; charged in {', '.join(r.charged_in)}" if r.charged_in else ""
            out.append(f"{r.verdict}: {r.assignment} {r.case.name} ({r.student_id}, {r.notebook}): "
                       f"{r.case.description}{charged}" + (f" [{r.error}]" if r.error else ""))
    out.append(f"wall time: {run.seconds:.0f} s for {len(run.results)} cases and the baseline")
    out.append("PASS: every mutant is killed and charged once, every variant keeps full marks" if run.ok else
               "FAIL: see the lines above (strengthen or relax the hidden tests, never the catalog)")
    return "\n".join(out)


def select_cases(cases: list[Case], patterns: tuple[str, ...] | list[str]) -> list[Case]:
    """The cases whose name or function matches one of the shell-style patterns (all if none)."""
    if not patterns:
        return list(cases)
    return [c for c in cases if any(fnmatch.fnmatchcase(c.name, p) or fnmatch.fnmatchcase(c.function, p)
                                    or p == c.name for p in patterns)]


def course_cases(course: Course, assignments: list[str] | None = None,
                 patterns: tuple[str, ...] | list[str] = ()) -> dict[str, list[Case]]:
    """assignment -> its catalog's mutants and variants that match the patterns."""
    out = {}
    for assignment in assignments or course.assignments():
        catalog = load_catalog(course.root, assignment)
        selected = select_cases(list(catalog.MUTANTS) + list(catalog.VARIANTS), patterns)
        if selected:
            out[assignment] = selected
    return out


def main(course: Course, assignments: list[str] | None = None, patterns: tuple[str, ...] | list[str] = (),
         jobs: int | None = None, keep: str | None = None, stream: TextIO = sys.stdout) -> int:
    """Run the catalogs (or the cases matching `patterns`), print the table; return the exit status."""
    cases = course_cases(course, assignments, patterns)
    if not cases:
        print("no case matches %s" % ", ".join(patterns), file=stream)
        return 2
    total = sum(len(c) for c in cases.values())
    print(f"grading {total} cases of {', '.join(cases)} as whole submissions in a copy of the course ...",
          file=stream, flush=True)
    run = run_mutants(course, cases, jobs=jobs, keep=keep, progress=stream.isatty())
    print(format_table(run), file=stream, flush=True)
    return 0 if run.ok else 1
