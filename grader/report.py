"""The class report: reports/report.md with PNG plots.

Score distribution, pass rate per test (hardest first), and every student whose
notebook raised errors or timed out, or who could not be graded at all.
"""
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402

from .autograde import load_status  # noqa: E402
from .course import Course  # noqa: E402
from .grades import test_scores, totals  # noqa: E402


def notebook_problems(course):
    """Errors and time-outs in the autograded notebooks.

    Returns a list of dicts: student_id, assignment, notebook, cell, kind
    ('timeout' or 'error'), message.
    """
    problems = []
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
                if output.output_type == "error":
                    kind = "timeout" if output.ename == "CellTimeoutError" else "error"
                    problems.append(dict(student_id=student, assignment=assignment, notebook=path.stem,
                                         cell=grade_id, kind=kind,
                                         message=f"{output.ename}: {output.evalue}"[:200]))
    return problems


def pass_rates(scores):
    """dict (assignment, notebook, grade_id) -> (fraction of students with full marks, mean score fraction)."""
    groups = defaultdict(list)
    for r in scores:
        groups[(r.assignment, r.notebook, r.grade_id)].append(r)
    rates = {}
    for key, rows in groups.items():
        full = sum(r.score >= r.max_score for r in rows)
        mean = sum(r.score / r.max_score for r in rows if r.max_score) / len(rows)
        rates[key] = (full / len(rows), mean)
    return rates


def _plot_distribution(path, percents):
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(percents, bins=[i * 5 for i in range(21)], color="#4477aa", edgecolor="white")
    ax.set_xlabel("score (% of the assignment's points)")
    ax.set_ylabel("students")
    ax.set_title("Score distribution")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_pass_rates(path, ordered):
    labels = [grade_id for (_, _, grade_id), _ in ordered]
    values = [100 * rate for _, (rate, _) in ordered]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.22 * len(labels))))
    ax.barh(range(len(labels)), values, color="#cc6677")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students with full marks (%)")
    ax.set_title("Pass rate per test, hardest first")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(course=None):
    """Write reports/report.md and its plots; return the report's path."""
    course = course or Course()
    course.reports_dir.mkdir(parents=True, exist_ok=True)
    scores = test_scores(course)
    student_totals = totals(scores)
    rates = pass_rates(scores)
    ordered = sorted(rates.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))
    problems = notebook_problems(course)
    status = load_status(course)
    failed = [row for row in status.values() if not row["success"]]
    noted = [row for row in status.values() if row.get("messages")]

    percents = [100 * s / m for s, m in student_totals.values() if m]
    _plot_distribution(course.reports_dir / "score_distribution.png", percents)
    _plot_pass_rates(course.reports_dir / "pass_rates.png", ordered)

    lines = ["# Class report", ""]
    lines += [f"Submissions graded: {len(student_totals)}. "
              + (f"Mean score: {sum(percents) / len(percents):.1f}%, median: {sorted(percents)[len(percents) // 2]:.1f}%."
                 if percents else "No grades yet."), ""]
    lines += ["## Scores", "", "![score distribution](score_distribution.png)", "",
              "| student | assignment | score | max |", "|---|---|---:|---:|"]
    for (student, assignment), (score, max_score) in sorted(student_totals.items(), key=lambda kv: (kv[0][1], -kv[1][0], kv[0][0])):
        lines.append(f"| {student} | {assignment} | {score:.2f} | {max_score:g} |")
    lines += ["", "## Tests, hardest first", "", "![pass rates](pass_rates.png)", "",
              "| test (grade_id) | notebook | full marks | mean score |", "|---|---|---:|---:|"]
    for (assignment, notebook, grade_id), (rate, mean) in ordered:
        lines.append(f"| {grade_id} | {assignment}/{notebook} | {100 * rate:.0f}% | {100 * mean:.0f}% |")
    lines += ["", "## Students with errors or time-outs", ""]
    if not problems and not failed and not noted:
        lines.append("None.")
    else:
        lines += ["| student | assignment | notebook | cell | kind | message |", "|---|---|---|---|---|---|"]
        for row in failed:
            lines.append(f"| {row['student_id']} | {row['assignment']} | - | - | not graded | {_cell_text(row['error'])} |")
        for row in noted:
            for message in row["messages"]:
                lines.append(f"| {row['student_id']} | {row['assignment']} | - | - | submission | {_cell_text(message)} |")
        for p in problems:
            lines.append(f"| {p['student_id']} | {p['assignment']} | {p['notebook']} | {p['cell']} | {p['kind']} | {_cell_text(p['message'])} |")
    path = course.reports_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cell_text(text):
    return text.replace("|", "\\|").replace("\n", " ")
