"""The instructor's command line: python -m grader <command> (the Makefile calls it)."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from .course import Course

Command = Callable[[Course, argparse.Namespace], int]


def cmd_release(course: Course, args: argparse.Namespace) -> int:
    for assignment in args.assignment or course.assignments():
        result = course.api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            print(result.get("error") or result.get("log"), file=sys.stderr)
            return 1
        print(f"released {assignment} -> {course.release_dir / assignment}")
    return 0


def cmd_sample_class(course: Course, args: argparse.Namespace) -> int:
    from .quality.sample_class import build_sample_class
    from .quality.submissions import remove_submissions

    remove_submissions(course)
    built = build_sample_class(course, args.assignment)
    for assignment, students in built.items():
        print(f"sample class of {assignment}: {len(students)} submissions under {course.submitted_dir}")
    return 0


def cmd_autograde(course: Course, args: argparse.Namespace) -> int:
    from .pipeline.autograde import autograde_class

    if getattr(args, "dask", None):
        from .pipeline.distributed import dask_engine, executed_per_worker

        with dask_engine(args.dask, workers=args.jobs) as address:
            print(f"executing notebooks on the Dask cluster at {address}", flush=True)
            before = executed_per_worker(address)
            outcomes = autograde_class(Course(course.root), args.assignment, args.student, jobs=args.jobs)
            after = executed_per_worker(address)
            executed = sum(n - before.get(worker, 0) for worker, n in after.items())
            print(f"Dask workers executed {executed} notebooks ({len(after)} workers)")
    else:
        outcomes = autograde_class(course, args.assignment, args.student, jobs=args.jobs)
    failed = [o for o in outcomes if not o.success]
    print(f"autograded {len(outcomes) - len(failed)} of {len(outcomes)} submissions"
          + (f"; {len(failed)} failed (see reports/grades.csv)" if failed else ""))
    return 0


def cmd_feedback(course: Course, args: argparse.Namespace) -> int:
    from .reports.feedback import feedback_class

    results = feedback_class(course, args.assignment, jobs=args.jobs)
    print(f"feedback for {sum(r[2] for r in results)} of {len(results)} submissions under {course.feedback_dir}")
    return 0


def cmd_grades(course: Course, args: argparse.Namespace) -> int:
    from .reports.grades import write_grade_csvs
    from .reports.lms import write_lms_csvs

    rows, paths = write_grade_csvs(course)
    for path in (*paths, *write_lms_csvs(course, rows)):
        print(f"wrote {path}")
    return 0


def cmd_report(course: Course, args: argparse.Namespace) -> int:
    from .reports.report import write_report

    print(f"wrote {write_report(course)}")
    return 0


def cmd_demo(course: Course, args: argparse.Namespace) -> int:
    phases: list[tuple[str, Command]] = [
        ("release", cmd_release), ("sample class", cmd_sample_class), ("autograde", cmd_autograde),
        ("feedback", cmd_feedback), ("grades", cmd_grades), ("report", cmd_report)]
    timings = []
    for name, command in phases:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        status = command(course, args)
        timings.append((name, time.perf_counter() - start))
        if status:
            return status
    print("\n== run time per phase")
    for name, seconds in timings:
        print(f"{name:>14}: {seconds:7.1f} s")
    print(f"{'total':>14}: {sum(s for _, s in timings):7.1f} s")
    return 0


def cmd_bench_notebooks(course: Course, args: argparse.Namespace) -> int:
    from .quality.bench.notebooks import NOTEBOOK_BUDGET_SECONDS, bench_notebooks

    times = bench_notebooks(course, args.assignment)
    return 0 if all(t < NOTEBOOK_BUDGET_SECONDS for t in times.values()) else 1


def cmd_bench(course: Course, args: argparse.Namespace) -> int:
    from .quality.bench.grading import bench_class

    result = bench_class(course, size=args.size, jobs=args.jobs, keep=args.keep, assignments=args.assignment,
                         plain=not args.kit_only)
    return 0 if result["identical"] else 1


def cmd_mutants(course: Course, args: argparse.Namespace) -> int:
    from .quality.mutants import main as mutants_main

    return mutants_main(course, args.assignment, patterns=args.case or (), jobs=args.jobs, keep=args.keep)


COMMANDS: dict[str, tuple[Command, str]] = {
    "release": (cmd_release, "nbgrader generate_assignment for every assignment into release/"),
    "sample-class": (cmd_sample_class, "build the sample class under submitted/ (replaces submitted/)"),
    "autograde": (cmd_autograde, "autograde every submission under submitted/"),
    "feedback": (cmd_feedback, "per-student feedback under feedback/"),
    "grades": (cmd_grades, "reports/grades.csv and reports/grades_by_test.csv"),
    "report": (cmd_report, "the class report reports/report.md with plots"),
    "bench": (cmd_bench, "grade a generated class with plain serial nbgrader and with the kit; print throughput"),
    "bench-notebooks": (cmd_bench_notebooks, "execution time of every source notebook"),
    "mutants": (cmd_mutants, "test the tests: grade the catalogs of buggy and correct-but-different "
                             "implementations as whole submissions"),
    "demo": (cmd_demo, "release, sample class, autograde, feedback, grades, report"),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    p.add_argument("--root", help="course directory (default: this repository)")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        s = sub.add_parser(name, help=help_text)
        s.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
        s.add_argument("--student", action="append", help="only this student (repeatable)")
        s.add_argument("--jobs", type=int, default=None,
                       help="parallel workers (default: one per core, plus one, for autograde; one per core for "
                            "feedback)")
        if name == "autograde":
            s.add_argument("--dask", metavar="ADDRESS|local",
                           help="execute notebooks on a Dask cluster: 'local' starts one on this machine, "
                                "or the address of a running scheduler (e.g. tcp://host:8786)")
        if name == "bench":
            s.add_argument("--size", type=int, default=50, help="submissions in the generated class (default 50)")
            s.add_argument("--keep", help="keep the benchmark's course copies in this folder")
            s.add_argument("--kit-only", action="store_true", help="grade with the kit only (no plain nbgrader run)")
        if name == "mutants":
            s.add_argument("--case", action="append",
                           help="only the cases whose name or function matches this pattern (repeatable), "
                                "e.g. 'adam', 'batchnorm_*', 'sgd/ascends'")
            s.add_argument("--keep", help="make the course copy in this folder and keep it (for inspection)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return COMMANDS[args.command][0](Course(args.root), args)
