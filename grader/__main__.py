"""The instructor's command line: python -m grader <command> (the Makefile calls it)."""
import argparse
import sys
import time

from .course import Course


def cmd_release(course, args):
    for assignment in args.assignment or course.assignments():
        result = course.api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            print(result.get("error") or result.get("log"), file=sys.stderr)
            return 1
        print(f"released {assignment} -> {course.release_dir / assignment}")
    return 0


def cmd_sample_class(course, args):
    from .sample_class import build_sample_class
    from .submissions import remove_submissions

    remove_submissions(course)
    students = build_sample_class(course)
    print(f"sample class: {len(students)} submissions under {course.submitted_dir}")
    return 0


def cmd_autograde(course, args):
    from .autograde import autograde_class

    if getattr(args, "dask", None):
        from .distributed import dask_engine, executed_per_worker

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
    print(f"autograded {len(outcomes) - len(failed)} of {len(outcomes)} submissions")
    return 0


def cmd_feedback(course, args):
    from .feedback import feedback_class

    results = feedback_class(course, args.assignment, jobs=args.jobs)
    print(f"feedback for {sum(r[2] for r in results)} of {len(results)} submissions under {course.feedback_dir}")
    return 0


def cmd_grades(course, args):
    from .grades import write_grade_csvs

    for path in write_grade_csvs(course):
        print(f"wrote {path}")
    return 0


def cmd_report(course, args):
    from .report import write_report

    print(f"wrote {write_report(course)}")
    return 0


def cmd_demo(course, args):
    phases = [("release", cmd_release), ("sample class", cmd_sample_class), ("autograde", cmd_autograde),
              ("feedback", cmd_feedback), ("grades", cmd_grades), ("report", cmd_report)]
    timings = []
    for name, command in phases:
        print(f"== {name}")
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


def cmd_bench_notebooks(course, args):
    from .bench import NOTEBOOK_BUDGET_SECONDS, bench_notebooks

    times = bench_notebooks(course)
    return 0 if all(t < NOTEBOOK_BUDGET_SECONDS for t in times.values()) else 1


def cmd_bench(course, args):
    from .bench import bench_class

    result = bench_class(course, size=args.size, jobs=args.jobs, keep=args.keep)
    return 0 if result["identical"] else 1



def cmd_mutants(course, args):
    from .mutants import main as mutants_main

    return mutants_main(course, patterns=args.case or (), jobs=args.jobs, keep=args.keep,
                        whole=args.whole_submissions)


COMMANDS = {
    "release": (cmd_release, "nbgrader generate_assignment for every assignment into release/"),
    "sample-class": (cmd_sample_class, "build the sample class under submitted/ (replaces submitted/)"),
    "autograde": (cmd_autograde, "autograde every submission under submitted/"),
    "feedback": (cmd_feedback, "per-student feedback under feedback/"),
    "grades": (cmd_grades, "reports/grades.csv and reports/grades_by_test.csv"),
    "report": (cmd_report, "the class report reports/report.md with plots"),
    "bench": (cmd_bench, "grade a generated class with plain serial nbgrader and with the kit; print throughput"),
    "bench-notebooks": (cmd_bench_notebooks, "execution time of every source notebook"),
    "mutants": (cmd_mutants, "test the tests: grade the catalog of buggy and correct-but-different implementations"),
    "demo": (cmd_demo, "release, sample class, autograde, feedback, grades, report"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    parser.add_argument("--root", help="course directory (default: this repository)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
        p.add_argument("--student", action="append", help="only this student (repeatable)")
        p.add_argument("--jobs", type=int, default=None,
                       help="parallel workers (default: one per core, plus one, for autograde; one per core for feedback)")
        if name == "autograde":
            p.add_argument("--dask", metavar="ADDRESS|local",
                           help="execute notebooks on a Dask cluster: 'local' starts one on this machine, "
                                "or the address of a running scheduler (e.g. tcp://host:8786)")
        if name == "bench":
            p.add_argument("--size", type=int, default=50, help="submissions in the generated class (default 50)")
            p.add_argument("--keep", help="keep the benchmark's course copies in this folder")
        if name == "mutants":
            p.add_argument("--case", action="append",
                           help="only the cases whose name or function matches this pattern (repeatable), "
                                "e.g. 'adam', 'batchnorm_*', 'sgd/ascends'")
            p.add_argument("--keep", help="make the course copy in this folder and keep it (for inspection)")
            p.add_argument("--whole-submissions", action="store_true",
                           help="grade each case's whole submission and count the points its bug costs in "
                                "the other notebooks too (slower)")
    args = parser.parse_args(argv)
    return COMMANDS[args.command][0](Course(args.root), args)


if __name__ == "__main__":
    sys.exit(main())
