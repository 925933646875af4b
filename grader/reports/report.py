"""The class report: reports/report.md with PNG plots, per assignment and for the course.

For the course: each student's total over the assignments. Per assignment: the score
distribution, the pass rate per test (hardest first), the written answers (graded, or awaiting
manual grading), and every student whose notebook raised errors or timed out, or who could not
be graded at all. Scores count the written answers graded so far; a total that still awaits
manual grading says so.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat

from ..course import Course
from ..pipeline.status import load_status
from .grades import (AWAITING, TestScore, WrittenScore, assignment_grades, awaiting_manual_grading, test_scores, totals,
                     written_scores)

#: the error a test cell ends with when none of its checks passed (nnkit.checks): a failed test, not a crash
CHECKS_FAILED = "ChecksFailed"


def notebook_problems(course: Course) -> list[dict[str, str]]:
    """Errors and time-outs in the autograded notebooks.

    Returns a list of dicts: student_id, assignment, notebook, cell, kind ('timeout' or
    'error'), message.
    """
    problems: list[dict[str, str]] = []
    if not course.autograded_dir.is_dir():
        return problems
    for path in sorted(course.autograded_dir.glob("*/*/*.ipynb")):
        student, assignment = path.parts[-3], path.parts[-2]
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # an unreadable notebook is itself a problem to report
            problems.append(dict(student_id=student, assignment=assignment, notebook=path.stem,
                                 cell="-", kind="error", message=f"unreadable notebook: {exc}"))
            continue
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
            for output in cell.get("outputs", []):
                if output.output_type == "error" and output.ename != CHECKS_FAILED:
                    kind = "timeout" if output.ename in ("CellTimeoutError", "BudgetExhausted") else "error"
                    problems.append(dict(student_id=student, assignment=assignment, notebook=path.stem,
                                         cell=grade_id, kind=kind, message=f"{output.ename}: {output.evalue}"[:200]))
    return problems


def pass_rates(scores: list[TestScore]) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(assignment, notebook, grade_id) -> (fraction of students with full marks, mean score fraction)."""
    groups: dict[tuple[str, str, str], list[TestScore]] = defaultdict(list)
    for r in scores:
        groups[(r.assignment, r.notebook, r.grade_id)].append(r)
    rates = {}
    for key, rows in groups.items():
        full = sum(r.score >= r.max_score for r in rows)
        mean = sum(r.score / r.max_score for r in rows if r.max_score) / len(rows)
        rates[key] = (full / len(rows), mean)
    return rates


def _plot_distribution(path: Path, percents: list[float], title: str) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(percents, bins=[i * 5 for i in range(21)], color="#4477aa", edgecolor="white")
    ax.set_xlabel("score (% of the points)")
    ax.set_ylabel("students")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_pass_rates(path: Path, ordered: list[tuple[tuple[str, str, str], tuple[float, float]]], title: str) -> None:
    labels = [grade_id for (_, _, grade_id), _ in ordered]
    values = [100 * rate for _, (rate, _) in ordered]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.22 * len(labels))))
    ax.barh(range(len(labels)), values, color="#cc6677")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students with full marks (%)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _cell_text(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def written_summary(written: list[WrittenScore]) -> dict[tuple[str, str, str], tuple[int, int, float | None]]:
    """(assignment, notebook, grade_id) -> (answers graded, answers awaiting manual grading, mean score fraction of the
    graded ones or None)."""
    groups: dict[tuple[str, str, str], list[WrittenScore]] = defaultdict(list)
    for r in written:
        groups[(r.assignment, r.notebook, r.grade_id)].append(r)
    out = {}
    for key, rows in groups.items():
        graded = [r for r in rows if not r.awaiting]
        mean = sum((r.score or 0.0) / r.max_score for r in graded if r.max_score) / len(graded) if graded else None
        out[key] = (len(graded), len(rows) - len(graded), mean)
    return out


def _summary(percents: list[float]) -> str:
    if not percents:
        return "No grades yet."
    return f"Mean score: {sum(percents) / len(percents):.1f}%, median: {sorted(percents)[len(percents) // 2]:.1f}%."


def write_report(course: Course | None = None) -> Path:
    """Write reports/report.md and its plots; return the report's path."""
    course = course or Course()
    course.reports_dir.mkdir(parents=True, exist_ok=True)
    scores = test_scores(course)
    written = written_scores(course)
    student_totals = totals(scores, written)
    awaiting = awaiting_manual_grading(written)
    statuses = {(g.student_id, g.assignment): g.status for g in assignment_grades(course)}
    rates = pass_rates(scores)
    problems = notebook_problems(course)
    status = load_status(course.reports_dir)
    assignments = sorted({a for _, a in student_totals} | {a for _, a in status})

    course_totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (student, _), (score, max_score) in student_totals.items():
        course_totals[student][0] += score
        course_totals[student][1] += max_score
    lines = ["# Class report", "", "## The course", "",
             f"Students: {len(course_totals)}; assignments: {', '.join(assignments) or 'none'}.",
             _summary([100 * s / m for s, m in course_totals.values() if m]), ""]
    if course_totals:
        _plot_distribution(course.reports_dir / "score_distribution.png",
                           [100 * s / m for s, m in course_totals.values() if m], "Course totals")
        lines += ["![course totals](score_distribution.png)", "",
                  "| student | " + " | ".join(assignments) + " | course total | max |",
                  "|---|" + "---:|" * (len(assignments) + 2)]
        for student, (score, max_score) in sorted(course_totals.items(), key=lambda kv: (-kv[1][0], kv[0])):
            cells = [f"{student_totals[(student, a)][0]:.2f}" + (" (awaiting manual grading)"
                                                                if (student, a) in awaiting else "")
                     if (student, a) in student_totals else "-" for a in assignments]
            lines.append(f"| {student} | " + " | ".join(cells) + f" | {score:.2f} | {max_score:g} |")
        lines.append("")

    for assignment in assignments:
        own = {k: v for k, v in student_totals.items() if k[1] == assignment}
        percents = [100 * s / m for s, m in own.values() if m]
        waiting = sorted(student for student, a in awaiting if a == assignment)
        lines += [f"## {assignment}", "", f"Submissions graded: {len(own)}. " + _summary(percents)
                  + (f" Awaiting manual grading (written answers): {len(waiting)}." if waiting else ""), ""]
        if percents:
            _plot_distribution(course.reports_dir / f"score_distribution_{assignment}.png", percents,
                               f"{assignment}: score distribution")
            lines += [f"![score distribution](score_distribution_{assignment}.png)", ""]
        lines += ["| student | score | max | status |", "|---|---:|---:|---|"]
        for (student, _), (score, max_score) in sorted(own.items(), key=lambda kv: (-kv[1][0], kv[0][0])):
            state = statuses.get((student, assignment), "graded")
            lines.append(f"| {student} | {score:.2f} | {max_score:g} | {_cell_text(state)} |")
        answers = sorted((k, v) for k, v in written_summary(written).items() if k[0] == assignment)
        if answers:
            lines += ["", f"### {assignment}: written answers", "",
                      "| answer (grade_id) | notebook | graded | " + AWAITING + " | mean score of the graded |",
                      "|---|---|---:|---:|---:|"]
            for (_, notebook, grade_id), (graded, waiting_count, mean) in answers:
                shown = "-" if mean is None else f"{100 * mean:.0f}%"
                lines.append(f"| {grade_id} | {assignment}/{notebook} | {graded} | {waiting_count} | {shown} |")
        ordered = sorted(((k, v) for k, v in rates.items() if k[0] == assignment),
                         key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
        if ordered:
            _plot_pass_rates(course.reports_dir / f"pass_rates_{assignment}.png", ordered,
                             f"{assignment}: pass rate per test, hardest first")
        lines += ["", f"### {assignment}: tests, hardest first", "",
                  f"![pass rates](pass_rates_{assignment}.png)", "",
                  "| test (grade_id) | notebook | full marks | mean score |", "|---|---|---:|---:|"]
        for (_, notebook, grade_id), (rate, mean) in ordered:
            lines.append(f"| {grade_id} | {assignment}/{notebook} | {100 * rate:.0f}% | {100 * mean:.0f}% |")
        failed = [row for key, row in sorted(status.items()) if key[1] == assignment and not row["success"]]
        noted = [row for key, row in sorted(status.items()) if key[1] == assignment and row.get("messages")]
        found = [p for p in problems if p["assignment"] == assignment]
        lines += ["", f"### {assignment}: students with errors or time-outs", ""]
        if not found and not failed and not noted:
            lines.append("None.")
        else:
            lines += ["| student | assignment | notebook | cell | kind | message |", "|---|---|---|---|---|---|"]
            for row in failed:
                lines.append(f"| {row['student_id']} | {assignment} | - | - | not graded | "
                             f"{_cell_text(row['error'])} |")
            for row in noted:
                for message in row["messages"]:
                    lines.append(f"| {row['student_id']} | {assignment} | - | - | submission | {_cell_text(message)} |")
            for p in found:
                lines.append(f"| {p['student_id']} | {assignment} | {p['notebook']} | {p['cell']} | {p['kind']} | "
                             f"{_cell_text(p['message'])} |")
        lines.append("")
    path = course.reports_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
