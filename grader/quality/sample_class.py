"""Sample students of an assignment, and the sample class built from them.

An assignment's catalog (`catalog/<assignment>.py`) lists its SAMPLE_STUDENTS: one honest
student, one who hands in the untouched release, and students with the bugs students really
make. Each says which graded functions' tests must lose points; every other test must keep full
marks (the tests check this after autograding).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..conventions import function_cell
from .catalog import Case, load_catalog
from .submissions import as_answer, build_submission, solution_sources

if TYPE_CHECKING:
    from ..course import Course

EVERYTHING = "*"

#: an edit of a solution cell: callable(the instructor's source) -> the student's source
Edit = Callable[[str], str]


@dataclass(frozen=True)
class SampleStudent:
    """One submission of the sample class (or of the benchmark class).

    - student_id: the submission's folder name
    - description: what the student did
    - cases: catalog Cases applied to the submission
    - edits: function -> Edit of its solution cell
    - blank: hand in the release untouched
    - loses: functions whose tests must lose points ("*": all)
    - kind: honest, blank, buggy or adversarial
    - timestamp: when the student handed in (ISO 8601, nbgrader's timestamp.txt)
    """

    student_id: str
    description: str
    cases: tuple[Case, ...] = ()
    edits: Mapping[str, Edit] = field(default_factory=dict)
    blank: bool = False
    loses: tuple[str, ...] = ()
    kind: str = "buggy"

    def replacements(self, solutions: Mapping[str, str]) -> dict[str, str]:
        """function -> new source of every solution cell this student changed.

        solutions: function -> the instructor's source of its solution cell
        """
        out: dict[str, str] = {}
        for case in self.cases:
            out.update(case.replacements())
        for function, edit in self.edits.items():
            out[function] = edit(solutions[function])
        return out


def missing_colon(source: str) -> str:
    """A syntax error: the first `def` line of the cell loses its colon."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("def ") and line.rstrip().endswith(":"):
            lines[i] = line.rstrip()[:-1]
            return "\n".join(lines)
    raise ValueError("no def line to break")


def failing_import(source: str) -> str:
    """A cell that raises before defining anything: it imports a function that does not exist."""
    return "from numpy import hinge_loss  # does not exist: the cell stops here\n\n" + source


def prefixed(code: str) -> Edit:
    """An edit: attack code first, then the instructor's solution, in the same cell."""
    return lambda source: code.strip() + "\n\n" + source


def suffixed(code: str) -> Edit:
    """An edit: the instructor's solution, then code that runs after it, in the same cell."""
    return lambda source: source.rstrip() + "\n\n" + code.strip() + "\n"


def submission_replacements(course: Course, assignment: str, student: SampleStudent) -> dict[str, str]:
    """grade_id -> new source of the solution cells `student` changed in `assignment`."""
    solutions = {grade_id[: -len("_solution")]: as_answer(source)
                 for grade_id, source in solution_sources(course, assignment).items()
                 if grade_id.endswith("_solution")}
    return {function_cell(f): source for f, source in student.replacements(solutions).items()}


def build_student(course: Course, assignment: str, student: SampleStudent) -> None:
    build_submission(course, assignment, student.student_id, submission_replacements(course, assignment, student),
                     blank=student.blank)


def build_sample_class(course: Course, assignments: list[str] | None = None) -> dict[str, list[str]]:
    """Write every assignment's sample students (its catalog's SAMPLE_STUDENTS) under submitted/.

    Returns assignment -> student ids.
    """
    built = {}
    for assignment in assignments or course.assignments():
        students = load_catalog(course.root, assignment).SAMPLE_STUDENTS
        for student in students:
            build_student(course, assignment, student)
        built[assignment] = [s.student_id for s in students]
    return built
