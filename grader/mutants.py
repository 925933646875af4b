"""Test the tests: grade buggy and correct-but-different implementations (grader/catalog.py).

Every case is a submission made from the instructor's solutions with one solution
cell replaced (a variant with its own cache layout also replaces the backward pass
that reads it). The submissions are graded by the same autograding the instructor
uses (`autograde_class`), in a throwaway copy of the course, so the instructor's
submitted/, autograded/ and gradebook are never touched.

- A mutant must lose points on the tests of its function ("killed"); if it keeps
  full marks there it "survived": the hidden tests miss that bug.
- A variant must keep every point of its notebook ("ok"); if it loses any, the tests
  are too strict ("FALSE ALARM").
- The instructor's own solutions (the baseline) must keep full marks everywhere.
- With whole submissions (`--whole-submissions`, slower), a mutant must also cost no
  point in another notebook ("CHARGED TWICE" otherwise: SPEC, one bug costs its points
  once; composite tests judge with known-good building blocks).

Each case is graded on the one notebook that defines its function, except the cases
of the notebooks in WHOLE_SUBMISSION: their tests call the earlier notebooks'
building blocks thousands of times. Graded alone, every such call goes back to the
judge's known-good copy (about 75 s per submission); graded with the earlier
notebooks, as in a real grading run, blocks that passed their own tests run directly
in the sandbox (about 10 s for the whole submission). Only the case's own notebook
is scored either way.
"""
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass

from .autograde import autograde_class
from .course import scratch_course
from .grades import test_scores
from .submissions import build_submission, function_cell, function_of_test, graded_functions, solution_sources

ASSIGNMENT = "fc_nets"
BASELINE = "baseline"
WHOLE_SUBMISSION = ("05_networks",)

KILLED, SURVIVED, OK, FALSE_ALARM, ERROR = "killed", "survived", "ok", "FALSE ALARM", "ERROR"
CHARGED_TWICE = "CHARGED TWICE"   # (whole submissions) the bug also costs points in another notebook
PASSING = (KILLED, OK)


@dataclass
class CaseResult:
    """How one case fared.

    - lost: points lost on the tests of the case's function
    - max_points: the maximum of those tests
    - lost_elsewhere: points lost on the other tests scored (its notebook, or the whole submission)
    - lost_other_notebooks: the part of lost_elsewhere in other notebooks (whole submissions only)
    """
    case: object
    student_id: str
    notebook: str
    lost: float = 0.0
    max_points: float = 0.0
    lost_elsewhere: float = 0.0
    lost_other_notebooks: float = 0.0
    verdict: str = ERROR
    error: str = ""

    @property
    def passed(self):
        return self.verdict in PASSING


@dataclass
class MutantsRun:
    results: list
    baseline_losses: list      # (notebook, grade_id, score, max_score) where our solutions lose points
    seconds: float

    @property
    def mutants(self):
        return [r for r in self.results if not r.case.correct]

    @property
    def variants(self):
        return [r for r in self.results if r.case.correct]

    @property
    def kill_rate(self):
        mutants = self.mutants
        return sum(r.verdict == KILLED for r in mutants) / len(mutants) if mutants else 1.0

    @property
    def ok(self):
        return not self.baseline_losses and all(r.passed for r in self.results)


def student_id(case):
    """The submission folder of a case: e.g. mutant-affine_forward-forgot_bias."""
    kind = "variant" if case.correct else "mutant"
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{kind}-{case.name.replace('/', '-')}")


def notebook_of_functions(course, assignment=ASSIGNMENT):
    """function name -> notebook name (without .ipynb) whose solution cell defines it."""
    import nbformat

    out = {}
    for path in course.source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if grade_id.endswith("_solution"):
                out[grade_id[: -len("_solution")]] = path.stem
    return out


def _release(course, assignment):
    result = course.api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError("nbgrader generate_assignment failed in the course copy:\n%s"
                           % (result.get("error") or result.get("log")))


def run_mutants(course, cases, jobs=None, assignment=ASSIGNMENT, progress=False, keep=None, whole=False):
    """Grade every case (and the baseline) in a throwaway copy of `course`; return a MutantsRun.

    Inputs:
    - course: the Course whose source notebooks (tests) are examined
    - cases: catalog Cases
    - jobs: parallel grading workers (default: at most 2)
    - progress: show autograde's progress bar
    - keep: a folder to make the course copy in and keep (default: a temporary one)
    - whole: grade and score every case's whole submission (slower): `lost_elsewhere` then
      counts the points a bug costs in every other notebook too (SPEC: one bug costs its
      points once), and a variant must keep every point of the assignment
    """
    from .autograde import default_jobs

    start = time.perf_counter()
    jobs = jobs or min(2, default_jobs())
    with scratch_course(course.root, keep=keep) as scratch:
        _release(scratch, assignment)
        notebook_of = notebook_of_functions(scratch, assignment)
        functions = graded_functions(scratch, assignment)
        unknown = sorted({f for c in cases for f in c.replacements()} - set(notebook_of))
        if unknown:
            raise KeyError("the notebooks have no solution cell for %s" % ", ".join(unknown))

        scored = {}       # student id -> the notebook whose grades count ("*": all of them)
        for case in cases:
            sid = student_id(case)
            if sid in scored:
                raise ValueError(f"two cases map to the submission {sid}")
            build_submission(scratch, assignment, sid,
                             replacements={function_cell(f): s for f, s in case.replacements().items()})
            scored[sid] = "*" if whole else notebook_of[case.function]
        for notebook in ["*"] if whole else sorted(set(scored.values())):
            sid = BASELINE if notebook == "*" else f"{BASELINE}-{notebook}"
            build_submission(scratch, assignment, sid)
            scored[sid] = notebook

        only = {sid: nb for sid, nb in scored.items() if nb != "*" and nb not in WHOLE_SUBMISSION}
        outcomes = autograde_class(scratch, [assignment], sorted(scored), progress=progress, jobs=jobs,
                                   notebooks=only)
        failed = {o.student_id: o.error for o in outcomes if not o.success}
        scores = defaultdict(list)
        for row in test_scores(scratch):
            if row.assignment == assignment and scored.get(row.student_id) in (row.notebook, "*"):
                scores[row.student_id].append(row)

    baseline_losses = []
    for sid, notebook in sorted(scored.items()):
        if sid == BASELINE or sid.startswith(BASELINE + "-"):
            where = "every notebook" if notebook == "*" else notebook
            if sid in failed or not scores[sid]:
                baseline_losses.append((where, "(not graded: %s)" % failed.get(sid, "no grades"), 0.0, 0.0))
            baseline_losses += [(r.notebook, r.grade_id, r.score, r.max_score)
                                for r in scores[sid] if r.score < r.max_score]

    results = []
    for case in cases:
        sid = student_id(case)
        result = CaseResult(case, sid, notebook_of[case.function] + (" (whole submission)" if whole else ""))
        rows = scores[sid]
        if sid in failed or not rows:
            result.error = failed.get(sid) or "no grades recorded"
            results.append(result)
            continue
        own = [r for r in rows if function_of_test(r.grade_id, functions) == case.function]
        result.lost = round(sum(r.max_score - r.score for r in own), 2)
        result.max_points = sum(r.max_score for r in own)
        result.lost_elsewhere = round(sum(r.max_score - r.score for r in rows if r not in own), 2)
        result.lost_other_notebooks = round(sum(r.max_score - r.score for r in rows
                                                if r.notebook != notebook_of[case.function]), 2)
        if not own:
            result.error = f"no test cell grades {case.function}"
        elif case.correct:
            result.verdict = OK if result.lost == 0 and result.lost_elsewhere == 0 else FALSE_ALARM
        else:
            result.verdict = KILLED if result.lost > 0 else SURVIVED
            if result.verdict == KILLED and result.lost_other_notebooks > 0:
                result.verdict = CHARGED_TWICE
        results.append(result)
    return MutantsRun(results, baseline_losses, time.perf_counter() - start)


def format_table(run):
    """The results as a plain-text table, then the summary lines."""
    header = ("case", "function", "points lost", "elsewhere", "verdict")
    rows = []
    for r in run.results:
        lost = f"{r.lost:g} / {r.max_points:g}" if r.max_points else "-"
        rows.append((r.case.name, r.case.function, lost, f"{r.lost_elsewhere:g}",
                     r.verdict + (f" ({r.error})" if r.error else "")))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths[:-1], header[:-1])) + "  " + header[-1]
    out = [line, "-" * len(line)]
    for row in rows:
        out.append("  ".join("%-*s" % (w, c) for w, c in zip(widths[:-1], row[:-1])) + "  " + row[-1])
    out.append("")
    mutants, variants = run.mutants, run.variants
    killed = sum(r.verdict == KILLED for r in mutants)
    out.append(f"mutants: {killed} of {len(mutants)} killed (kill rate {100 * run.kill_rate:.1f}%)")
    out.append(f"variants: {sum(r.verdict == OK for r in variants)} of {len(variants)} keep full marks")
    for notebook, grade_id, score, max_score in run.baseline_losses:
        out.append(f"BASELINE BROKEN: the instructor's solutions lose points in {notebook} {grade_id} "
                   f"({score:g} / {max_score:g}): verdicts on that notebook mean nothing")
    problems = [r for r in run.results if not r.passed]
    for r in problems:
        out.append(f"{r.verdict}: {r.case.name} ({r.student_id}, {r.notebook}): {r.case.description}"
                   + (f" [{r.error}]" if r.error else ""))
    out.append(f"wall time: {run.seconds:.0f} s for {len(run.results)} cases and the baseline")
    out.append("PASS: every mutant is killed and every variant keeps full marks" if run.ok else
               "FAIL: see the lines above (strengthen or relax the hidden tests, never the catalog)")
    return "\n".join(out)


def select_cases(cases, patterns):
    """The cases whose name or function matches one of the shell-style patterns (all if none)."""
    import fnmatch

    if not patterns:
        return list(cases)
    return [c for c in cases if any(fnmatch.fnmatchcase(c.name, p) or fnmatch.fnmatchcase(c.function, p)
                                    or p == c.name for p in patterns)]


def main(course, patterns=(), jobs=None, keep=None, whole=False, stream=sys.stdout):
    """Run the catalog (or the cases matching `patterns`), print the table; return the exit status."""
    from .catalog import ALL_CASES

    cases = select_cases(ALL_CASES, patterns)
    if not cases:
        print("no case matches %s" % ", ".join(patterns), file=stream)
        return 2
    print(f"grading {len(cases)} cases in a copy of the course ...", file=stream, flush=True)
    run = run_mutants(course, cases, jobs=jobs, keep=keep, progress=stream.isatty(), whole=whole)
    print(format_table(run), file=stream, flush=True)
    return 0 if run.ok else 1
