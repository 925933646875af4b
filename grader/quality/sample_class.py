"""Sample students of an assignment, and the sample class built from them.

An assignment's catalog (`catalog/<assignment>.py`) lists its SAMPLE_STUDENTS: one honest
student, one who hands in the untouched release, and students with the bugs students really
make. Each says which graded functions' tests must lose points; every other test must keep full
marks (the tests check this after autograding).

Sample students look like real ones: built from the release with their answers filled in (code
without the solution markers, and written answers: the honest student's is the model answer
without its rubric, the others' its first paragraph; the untouched release leaves them as
"YOUR ANSWER HERE"), a submission time (timestamp.txt), and a name and email address in the
gradebook's roster, as `nbgrader db student import` would put them there.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from ..conventions import function_cell, nbgrader_meta
from .catalog import Case, load_catalog
from .submissions import as_answer, build_submission, solution_sources

#: the line of a written answer's source (in source/) where its rubric starts: not part of an answer
RUBRIC = "Rubric:"
#: the sample students' email addresses
EMAIL_DOMAIN = "example.edu"

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
    - first_name, last_name: the student's name in the roster (email: <student_id>@example.edu)
    """

    student_id: str
    description: str
    cases: tuple[Case, ...] = ()
    edits: Mapping[str, Edit] = field(default_factory=dict)
    blank: bool = False
    loses: tuple[str, ...] = ()
    kind: str = "buggy"
    first_name: str = ""
    last_name: str = ""

    @property
    def email(self) -> str:
        return f"{self.student_id}@{EMAIL_DOMAIN}"

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
    dest = build_submission(course, assignment, student.student_id,
                            submission_replacements(course, assignment, student), blank=student.blank)
    if not student.blank:
        write_answers(dest, written_answers(course, assignment), full=student.kind == "honest")


def written_answers(course: Course, assignment: str) -> dict[str, str]:
    """grade_id -> model answer (without its rubric) of every written answer cell in the source notebooks."""
    answers = {}
    for path in course.source_notebooks(assignment):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
                answers[meta["grade_id"]] = cell.source.split(RUBRIC)[0].strip()
    return answers


def write_answers(folder: Path, answers: dict[str, str], full: bool) -> None:
    """Fill the written answer cells of the notebooks in folder: the whole model answer, or its first paragraph."""
    for path in sorted(Path(folder).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell in nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type == "markdown" and grade_id in answers:
                cell.source = answers[grade_id] if full else answers[grade_id].split("\n\n")[0]
                changed = True
        if changed:
            nbformat.write(nb, path)


def import_roster(course: Course, students: list[SampleStudent]) -> None:
    """Put the students' names and email addresses into the gradebook (nbgrader's roster)."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gb:
        for student in students:
            gb.update_or_create_student(student.student_id, first_name=student.first_name or None,
                                        last_name=student.last_name or None, email=student.email)


def build_sample_class(course: Course, assignments: list[str] | None = None) -> dict[str, list[str]]:
    """Write every assignment's sample students (its catalog's SAMPLE_STUDENTS) under submitted/, and
    import them into the gradebook's roster.

    Returns assignment -> student ids.
    """
    built = {}
    roster: dict[str, SampleStudent] = {}
    for assignment in assignments or course.assignments():
        students = load_catalog(course.root, assignment).SAMPLE_STUDENTS
        for student in students:
            build_student(course, assignment, student)
            roster.setdefault(student.student_id, student)
        built[assignment] = [s.student_id for s in students]
    import_roster(course, list(roster.values()))
    return built
