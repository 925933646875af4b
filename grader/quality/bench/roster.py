"""The benchmark class: students who each hand in every assignment, made from the catalogs.

Each assignment's submissions are its sample class (full marks, the untouched release, typical
bugs), its hostile submissions (BENCH_ATTACKS) and its catalog's mutants and variants, spread
over the graded functions; student k hands in the k-th submission of every assignment. A class
larger than the catalogs repeats their cases under new student ids.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...course import Course
from ..catalog import Case, load_catalog
from ..sample_class import SampleStudent, build_student


@dataclass(frozen=True)
class BenchStudent:
    """A student of the benchmark class: an id, and their submission of each assignment."""

    student_id: str
    submissions: dict[str, SampleStudent]

    @property
    def adversarial(self) -> bool:
        return any(s.kind == "adversarial" for s in self.submissions.values())

    @property
    def kind(self) -> str:
        kinds = sorted({s.kind for s in self.submissions.values()})
        return "adversarial" if "adversarial" in kinds else "/".join(kinds)


def _spread(cases: list[Case]) -> list[Case]:
    """Cases alternating over the graded functions."""
    by_function: dict[str, list[Case]] = {}
    for case in cases:
        by_function.setdefault(case.function, []).append(case)
    out, queues = [], list(by_function.values())
    while any(queues):
        for queue in queues:
            if queue:
                out.append(queue.pop(0))
    return out


def _case_student(case: Case) -> SampleStudent:
    kind = "variant" if case.correct else "mutant"
    return SampleStudent(re.sub(r"[^A-Za-z0-9_-]", "_", f"{kind}-{case.name.replace('/', '-')}"), case.description,
                         cases=(case,), kind=kind)


def assignment_roster(course: Course, assignment: str, size: int) -> list[SampleStudent]:
    """`size` submissions of one assignment: every kind in a small class, then the sample class, the
    attacks, and mutants and variants alternating (repeated when the class is larger)."""
    catalog = load_catalog(course.root, assignment)
    sample = list(catalog.SAMPLE_STUDENTS)
    first = [s for s in sample if s.kind in ("honest", "blank")]
    buggy = [s for s in sample if s not in first]
    used = {c.name for s in sample for c in s.cases}
    mutants = [_case_student(c) for c in _spread([c for c in catalog.MUTANTS if c.name not in used])]
    variants = [_case_student(c) for c in _spread(list(catalog.VARIANTS))]
    attacks = list(catalog.BENCH_ATTACKS)
    mixed: list[SampleStudent] = []
    while mutants or variants:
        mixed += mutants[:2]
        mutants = mutants[2:]
        if variants:
            mixed.append(variants.pop(0))
    roster = first + [group[0] for group in (buggy, mixed, attacks) if group]
    rest = [s for s in buggy + attacks + mixed if s not in roster]
    pool = roster + rest
    while len(roster) < size:
        roster.append(pool[len(roster) % len(pool)])
    return roster[:size]


def bench_roster(course: Course, assignments: list[str], size: int) -> list[BenchStudent]:
    """`size` submissions in all: size // len(assignments) students, each handing in every assignment."""
    students = max(1, size // len(assignments))
    rosters = {a: assignment_roster(course, a, students) for a in assignments}
    out = []
    for k in range(students):
        submissions = {a: rosters[a][k] for a in assignments}
        label = "+".join(dict.fromkeys(s.student_id for s in submissions.values()))
        out.append(BenchStudent(f"s{k + 1:03d}-{label}"[:80], submissions))
    return out


def build_class(course: Course, roster: list[BenchStudent]) -> None:
    """Write every roster student's submissions under the course's submitted/."""
    for student in roster:
        for assignment, submission in student.submissions.items():
            build_student(course, assignment, SampleStudent(student.student_id, submission.description,
                                                            submission.cases, submission.edits, submission.blank,
                                                            submission.loses, submission.kind))
