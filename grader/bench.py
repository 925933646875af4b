"""Benchmarks that print figures: notebook execution times, and grading throughput.

- `bench_notebooks`: every source notebook executed in a fresh kernel, timed.
- `bench_class` (`make bench`): a generated class of submissions (honest, buggy,
  catalog mutants and variants, adversarial) graded twice in throwaway copies of
  the course, each with its own gradebook: once by plain serial nbgrader (the stock
  `nbgrader autograde` command with nbgrader's Execute, one kernel per notebook),
  once by the kit (`autograde_class`, parallel, split execution). It prints the
  throughput of both and their ratio, where the kit's time goes per submission, the
  floor (the pure compute of the test cells against the instructor's solutions) and
  whether both gave every non-adversarial student the same grade on every test.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .course import REPO_ROOT, Course

NOTEBOOK_BUDGET_SECONDS = 60
BENCH_SIZE = 50
ASSIGNMENT = "fc_nets"


def bench_notebooks(course=None):
    """Execute every source notebook in a fresh kernel and print its wall time.

    Returns dict notebook name -> seconds. The budget is 60 s per notebook on 2 cores.
    """
    course = course or Course()
    times = {}
    for assignment in course.assignments():
        for path in course.source_notebooks(assignment):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            times[path.name] = time.perf_counter() - start
            verdict = "ok" if times[path.name] < NOTEBOOK_BUDGET_SECONDS else "OVER BUDGET"
            print(f"{assignment}/{path.name:<24} {times[path.name]:6.1f} s  {verdict}", flush=True)
    print(f"{'total':<33} {sum(times.values()):6.1f} s (budget {NOTEBOOK_BUDGET_SECONDS} s per notebook)")
    return times


# --- the class ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BenchStudent:
    """One submission of the benchmark class.

    - kind: honest, blank, buggy (sample class), mutant or variant (catalog), adversarial
    - replacements: function -> new source of its solution cell
    - edits: function -> callable(instructor source) -> new source
    """
    student_id: str
    kind: str
    description: str
    replacements: dict = field(default_factory=dict)
    edits: dict = field(default_factory=dict)
    blank: bool = False

    @property
    def adversarial(self):
        return self.kind == "adversarial"


def _prefixed(code):
    """An edit: attack code first, then the instructor's solution, in the same cell."""
    return lambda source: code.strip() + "\n\n" + source


def _suffixed(code):
    """An edit: the instructor's solution, then code that runs after it, in the same cell."""
    return lambda source: source.rstrip() + "\n\n" + code.strip() + "\n"


#: attacks that plain nbgrader also survives (no fork or memory bombs): graded by both, but their
#: grades are not compared (plain nbgrader can be fooled by some of them; that is the point of the kit)
ADVERSARIAL = (
    BenchStudent("adv_sys_exit", "adversarial", "relu_forward calls sys.exit() when it is called",
                 replacements={"relu_forward": "import sys\n\ndef relu_forward(x):\n    sys.exit(0)\n"}),
    BenchStudent("adv_patch_numpy", "adversarial",
                 "a wrong svm_loss, and numpy's comparison functions patched to always agree",
                 replacements={"svm_loss": (
                     "import numpy as np\n"
                     "np.allclose = lambda *args, **kwargs: True\n"
                     "np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, bool)\n"
                     "np.testing.assert_allclose = lambda *args, **kwargs: None\n\n"
                     "def svm_loss(x, y):\n    return 0.0, np.zeros_like(x)\n")}),
    BenchStudent("adv_forge_score", "adversarial",
                 "a wrong softmax_loss, and the test cells' Checks.score patched to give full points",
                 replacements={"softmax_loss": (
                     "import numpy as np\nimport nnkit.checks\n"
                     "nnkit.checks.Checks.score = lambda self: self.points\n\n"
                     "def softmax_loss(x, y):\n    return 0.0, np.zeros_like(x)\n")}),
    BenchStudent("adv_raise_after", "adversarial", "the affine_forward cell raises KeyboardInterrupt after "
                 "defining a correct affine_forward", edits={"affine_forward": _suffixed("raise KeyboardInterrupt")}),
)


def _catalog_cases(exclude):
    """Catalog cases, alternating mutants and variants and spreading over the graded functions."""
    from . import catalog

    def spread(cases):
        by_function = {}
        for case in cases:
            if case.name not in exclude:
                by_function.setdefault(case.function, []).append(case)
        out, queues = [], list(by_function.values())
        while any(queues):
            for q in queues:
                if q:
                    out.append(q.pop(0))
        return out

    mutants, variants = spread(catalog.MUTANTS), spread(catalog.VARIANTS)
    out = []
    while mutants or variants:
        out += mutants[:2]
        mutants = mutants[2:]
        if variants:
            out.append(variants.pop(0))
    return out


def _case_student(case):
    kind = "variant" if case.correct else "mutant"
    sid = re.sub(r"[^A-Za-z0-9_-]", "_", f"{kind}-{case.name.replace('/', '-')}")
    return BenchStudent(sid, kind, case.description, replacements=case.replacements())


def bench_roster(size=BENCH_SIZE):
    """The benchmark class of `size` submissions (a mix of every kind, whatever the size).

    The sample class (full marks, the untouched release, typical bugs), the
    adversarial submissions, then catalog mutants and variants to make up the size.
    """
    from . import catalog
    from .sample_class import STUDENTS

    sample = [BenchStudent(s.student_id, "honest" if not s.loses else ("blank" if s.blank else "buggy"),
                           s.description, replacements={c.function: c.source for c in s.cases},
                           edits=dict(s.edits), blank=s.blank) for s in STUDENTS]
    first, buggy = sample[:2], sample[2:]          # full_marks, untouched_release
    cases = [_case_student(c) for c in _catalog_cases({c.name for c in catalog.SAMPLE_CASES})]
    mutants = [c for c in cases if c.kind == "mutant"]
    variants = [c for c in cases if c.kind == "variant"]
    adversarial = list(ADVERSARIAL)
    # a small class still gets one of each kind; then the sample class, the attacks and the catalog
    roster = first + [group.pop(0) for group in (buggy, mutants, variants, adversarial) if group]
    rest = buggy + adversarial + [c for c in cases if c in mutants or c in variants]
    roster += rest[: max(0, size - len(roster))]
    if len(roster) < size:
        raise ValueError(f"only {len(roster)} distinct submissions can be generated (asked for {size})")
    return roster[:size]


def build_class(course, roster, assignment=ASSIGNMENT):
    """Write every roster student's submission under the course's submitted/."""
    from .submissions import build_submission, function_cell, solution_sources

    solutions = solution_sources(course, assignment)
    for student in roster:
        replacements = {function_cell(f): s for f, s in student.replacements.items()}
        for function, edit in student.edits.items():
            replacements[function_cell(function)] = edit(solutions[function_cell(function)])
        build_submission(course, assignment, student.student_id, replacements=replacements, blank=student.blank)


# --- the two graders ---------------------------------------------------------------------------------

def grader_environment(**extra):
    """Environment of a grading subprocess: this repository's grader and nnkit importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "assignments")])
    for name in ("NNKIT_REFERENCE_DIR", "GRADER_DB_URL", "GRADER_DASK_SCHEDULER"):
        env.pop(name, None)
    env.update(extra)
    return env


STUDENT_START = re.compile(r"Creating/updating student with ID '([^']+)'")


def grade_with_plain_nbgrader(course, students, assignment=ASSIGNMENT, log=sys.stderr):
    """Run the stock `nbgrader autograde <assignment> --force --create` over the class, in one process.

    nbgrader's own Execute (GRADER_EXECUTOR=nbgrader in nbgrader_config.py): one kernel per notebook
    runs the student's code and the tests together, every cell re-executed.
    Returns (wall seconds, dict student -> seconds, return code). A student's time runs from nbgrader's
    first log line about them to the first line about the next one (or the end).
    """
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", "--create"]
    env = grader_environment(GRADER_EXECUTOR="nbgrader")
    log_path = course.root / "nbgrader-autograde.log"
    starts = []
    start = time.perf_counter()
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(command, cwd=course.root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            now = time.perf_counter()
            log_file.write(f"{now - start:9.2f} {line}")
            match = STUDENT_START.search(line)
            if match:
                starts.append((match.group(1), now))
                done = len(starts) - 1
                if done == 1:
                    first = starts[1][1] - start
                    print(f"plain nbgrader: first submission took {first:.0f} s; the class of {len(students)} "
                          f"will take about {first * len(students) / 60:.0f} min", file=log, flush=True)
                print(f"plain nbgrader: {done} of {len(students)} graded, now {match.group(1)} "
                      f"({now - start:.0f} s)", file=log, flush=True)
        proc.wait()
    wall = time.perf_counter() - start
    per_student = {}
    for i, (student, began) in enumerate(starts):
        ended = starts[i + 1][1] if i + 1 < len(starts) else start + wall
        per_student[student] = ended - began
    if starts:  # nbgrader's start-up (before the first student) belongs to the first submission
        per_student[starts[0][0]] += starts[0][1] - start
    return wall, per_student, proc.returncode


def grade_with_kit(course, students, jobs=None, assignment=ASSIGNMENT):
    """The kit's `autograde_class` (parallel, split execution); returns (wall seconds, outcomes)."""
    from .autograde import autograde_class

    start = time.perf_counter()
    outcomes = autograde_class(course, [assignment], students, progress=sys.stderr.isatty(), jobs=jobs)
    return time.perf_counter() - start, outcomes


# --- the floor: the test cells' own compute ----------------------------------------------------------

def _test_compute_once(source_dir):
    """Seconds spent in each notebook's test cells, run in-process against the instructor's solutions."""
    import ast
    import contextlib
    import io

    from .judge import cell_role

    os.environ["NNKIT_REFERENCE_DIR"] = source_dir   # known_good: the instructor's building blocks
    os.chdir(source_dir)
    seconds, lost = {}, []
    for path in sorted(Path(source_dir).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        namespace = {"__name__": "__main__"}
        seconds[path.stem] = 0.0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            role = cell_role(cell)
            if role == "student" and "experiment" in cell.metadata.get("tags", []):
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


def _test_compute_main(source_dir, repeats):
    runs = [_test_compute_once(source_dir) for _ in range(repeats)]
    print(json.dumps({"runs": [r[0] for r in runs], "lost": runs[0][1]}))


def measure_test_compute(course, repeats=3, assignment=ASSIGNMENT):
    """The floor: seconds per submission spent purely in the test cells' checks.

    In a fresh Python process (no nbgrader, no kernel, no sandbox), each source notebook's
    set-up and solution cells run untimed (experiments skipped), then its test cells run
    timed, against the instructor's own solutions. Repeated `repeats` times in the same
    process (warm, like the kit's workers); returns (median total seconds, per-notebook
    seconds of the median run, test cells that did not give full points).
    """
    code = f"from grader.bench import _test_compute_main; _test_compute_main({str(course.source_dir / assignment)!r}, {repeats})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=course.root, env=grader_environment(MPLBACKEND="Agg"),
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError("measuring the test cells failed:\n" + proc.stderr[-3000:])
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    runs = sorted(data["runs"], key=lambda r: sum(r.values()))
    median = runs[len(runs) // 2]
    return sum(median.values()), median, data["lost"]


# --- comparing grades --------------------------------------------------------------------------------

def scores_by_student(course):
    """student -> {(notebook, grade_id): score} from the course's gradebook."""
    from .grades import test_scores

    out = {}
    for row in test_scores(course):
        out.setdefault(row.student_id, {})[(row.notebook, row.grade_id)] = row.score
    return out


def grade_differences(plain, kit, students):
    """(student, notebook, grade_id, plain score, kit score) wherever the two disagree."""
    out = []
    for student in students:
        a, b = plain.get(student, {}), kit.get(student, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append((student, key[0], key[1], a.get(key), b.get(key)))
    return out


def cell_error(course, student, notebook, grade_id, assignment=ASSIGNMENT):
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


# --- the benchmark -----------------------------------------------------------------------------------

def _load():
    """The machine's load averages: other work on the machine slows both graders down."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min)"


def _stats(values):
    values = list(values)
    if not values:
        return "-"
    return f"mean {statistics.fmean(values):6.2f} s, median {statistics.median(values):6.2f} s"


def bench_class(course=None, size=BENCH_SIZE, jobs=None, keep=None, out=sys.stdout, plain=True):
    """Grade a generated class with plain serial nbgrader and with the kit; print and return the figures.

    Inputs:
    - course: the course whose notebooks are graded (default: this repository); never modified
    - size: submissions in the class (default 50)
    - jobs: the kit's parallel workers (default: one per core, plus one)
    - keep: a folder to keep the two course copies in (default: temporary, removed)
    - plain: also grade with plain nbgrader (False: the kit and the floor only)

    Returns a dict of the figures; "identical" is True when every non-adversarial student got the
    same score on every test from both.
    """
    from .autograde import default_jobs
    from .course import scratch_course

    course = course or Course()
    jobs = jobs or default_jobs()
    roster = bench_roster(size)
    students = [s.student_id for s in roster]

    def say(text=""):
        print(text, file=out, flush=True)

    keep_kit = keep_plain = None
    if keep:
        keep_kit, keep_plain = Path(keep) / "kit", Path(keep) / "plain"
        for folder in (keep_kit, keep_plain):
            shutil.rmtree(folder, ignore_errors=True)
    result = {"size": len(roster), "jobs": jobs}
    with scratch_course(course.root, keep=keep_kit) as kit_course:
        release = kit_course.api.generate_assignment(ASSIGNMENT, force=True, create=True)
        if not release.get("success"):
            raise RuntimeError("nbgrader generate_assignment failed:\n%s" % (release.get("error") or release.get("log")))
        build_class(kit_course, roster)
        kinds = {}
        for s in roster:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        say(f"benchmark class: {len(roster)} submissions of {ASSIGNMENT} ("
            + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + f"); {os.cpu_count()} cores, "
            + _load())

        plain_root = Path(keep_plain) if keep_plain else Path(str(kit_course.root) + "-plain")
        shutil.copytree(kit_course.root, plain_root, symlinks=True)   # released, submitted, same gradebook
        try:
            plain_course = Course(plain_root)

            say("\n== floor: the test cells alone, in-process, against the instructor's solutions")
            floor, floor_by_notebook, floor_lost = measure_test_compute(kit_course)
            say("   " + ", ".join(f"{nb} {s:.2f} s" for nb, s in floor_by_notebook.items())
                + f"; total {floor:.2f} s per submission")
            if floor_lost:
                say("   (the instructor's solutions did not get full points on: " + "; ".join(floor_lost) + ")")
            result["floor_seconds"] = floor

            say(f"\n== the kit: autograde_class, {jobs} parallel workers")
            kit_wall, outcomes = grade_with_kit(kit_course, students, jobs=jobs)
            failed = [o for o in outcomes if not o.success]
            say(f"   {len(outcomes) - len(failed)} of {len(outcomes)} graded in {kit_wall:.1f} s; {_load()}")
            for o in failed:
                say(f"   could not grade {o.student_id}: {o.error}")
            result.update(kit_seconds=kit_wall, kit_failed=[o.student_id for o in failed])

            if plain:
                say("\n== plain nbgrader: `nbgrader autograde fc_nets --force --create`, serial, "
                    "nbgrader's Execute (one kernel per notebook)")
                plain_wall, plain_each, code = grade_with_plain_nbgrader(plain_course, students)
                say(f"   finished in {plain_wall:.1f} s (exit status {code}); {_load()}")
                result.update(plain_seconds=plain_wall, plain_status=code)

            # --- figures ---
            n = len(roster)
            kit_rate = 60 * n / kit_wall
            say("\n== results")
            say(f"submissions:                 {n}")
            say(f"floor (test compute):        {floor:7.2f} s per submission "
                f"(= {60 / floor:.1f} submissions/min per core)")
            if plain:
                plain_rate = 60 * n / plain_wall
                say(f"plain nbgrader (serial):     {plain_wall:7.1f} s wall  {plain_rate:7.2f} submissions/min")
            say(f"kit ({jobs} workers):             {kit_wall:7.1f} s wall  {kit_rate:7.2f} submissions/min")
            if plain:
                ratio = kit_rate / plain_rate
                say(f"throughput ratio kit / plain: {ratio:6.1f}x  (target: 10x on 2 cores: "
                    f"{'met' if ratio >= 10 else 'NOT met'})")
                result.update(plain_rate=plain_rate, kit_rate=kit_rate, ratio=ratio)
            else:
                result.update(kit_rate=kit_rate)

            say("\nper submission, the kit (each worker's own time; Outcome.timings):")
            ok = [o for o in outcomes if o.success]
            for part, label in (("other", "start-up and nbgrader"), ("execution", "execution"),
                                ("gradebook", "gradebook")):
                say(f"   {label:<22} {_stats(o.timings.get(part, 0.0) for o in ok)}")
            say(f"   {'total':<22} {_stats(o.seconds for o in ok)}")
            say(f"   wall per submission    {kit_wall / n:6.2f} s ({sum(o.seconds for o in outcomes) / kit_wall:.2f} "
                f"submissions in flight on average)")
            say(f"   execution / floor      {statistics.fmean(o.timings.get('execution', 0) for o in ok) / floor:6.2f}x"
                if ok else "")
            if plain:
                say("per submission, plain nbgrader (start-up, kernels, execution, gradebook together):")
                say(f"   {'total':<22} {_stats(plain_each.values())}")

            kit_scores = scores_by_student(kit_course)
            kit_totals = {s: sum(v.values()) for s, v in kit_scores.items()}
            say("\nper student: seconds (kit total = other + execution + gradebook; plain total), points")
            outcome_of = {o.student_id: o for o in outcomes}
            plain_scores = scores_by_student(plain_course) if plain else {}
            for s in roster:
                o = outcome_of.get(s.student_id)
                t = o.timings if o else {}
                kit_part = (f"kit {o.seconds:6.1f} = {t.get('other', 0):4.1f} + {t.get('execution', 0):5.1f} + "
                            f"{t.get('gradebook', 0):4.1f}") if o else "kit      -"
                plain_part = f"  plain {plain_each.get(s.student_id, float('nan')):6.1f}" if plain else ""
                points = f"  points kit {kit_totals.get(s.student_id, 0):6.2f}"
                if plain:
                    points += f" plain {sum(plain_scores.get(s.student_id, {}).values()):6.2f}"
                say(f"   {s.student_id:<48} {s.kind:<11} {kit_part}{plain_part}{points}")

            if plain:
                compared = [s.student_id for s in roster if not s.adversarial]
                differences = grade_differences(plain_scores, kit_scores, compared)
                result["differences"] = differences
                result["identical"] = not differences and code == 0
                say(f"\ngrades of the {len(compared)} non-adversarial students, per test: "
                    + ("IDENTICAL" if not differences else f"{len(differences)} DIFFERENCES"))
                for student, notebook, grade_id, a, b in differences:
                    why = [f"{name}: {error}" for name, error in (
                        ("plain", cell_error(plain_course, student, notebook, grade_id)),
                        ("kit", cell_error(kit_course, student, notebook, grade_id))) if error]
                    say(f"   {student} {notebook} {grade_id}: plain nbgrader {a}, kit {b}"
                        + (f" ({'; '.join(why)})" if why else ""))
                adversarial = [s.student_id for s in roster if s.adversarial]
                forged = [(s, sum(plain_scores.get(s, {}).values()), kit_totals.get(s, 0)) for s in adversarial]
                if forged:
                    say("adversarial students (not compared): " + ", ".join(
                        f"{s} plain {a:g} / kit {b:g} points" for s, a, b in forged))
            else:
                result["identical"] = True
        finally:
            if not keep_plain:
                shutil.rmtree(plain_root, ignore_errors=True)
    return result
