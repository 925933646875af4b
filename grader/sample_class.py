"""A sample class built from the notebooks: one honest student, one who hands in the
untouched release, and students with the bugs students really make.

Each student says which graded functions' tests must lose points; every other
test must keep full marks (the tests check this after autograding).
"""
from dataclasses import dataclass, field

from . import catalog
from .submissions import build_submission, function_cell, solution_sources

ASSIGNMENT = "fc_nets"
EVERYTHING = "*"


@dataclass(frozen=True)
class SampleStudent:
    student_id: str
    description: str
    cases: tuple = ()                 # catalog Cases applied to the submission
    edits: dict = field(default_factory=dict)  # function -> callable(instructor source) -> new source
    blank: bool = False
    loses: tuple = ()                 # functions whose tests lose points ("*": all)


def missing_colon(source):
    """A syntax error: the `def` line of the cell loses its colon."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("def ") and line.rstrip().endswith(":"):
            lines[i] = line.rstrip()[:-1]
            return "\n".join(lines)
    raise ValueError("no def line to break")


def failing_import(source):
    """A cell that raises before defining anything: it imports a function that does not exist."""
    return "from numpy import hinge_loss  # does not exist: the cell stops here\n\n" + source


STUDENTS = (
    SampleStudent("full_marks", "hands in the instructor's solutions"),
    SampleStudent("untouched_release", "hands in the release without changes", blank=True, loses=(EVERYTHING,)),
    SampleStudent("cache_in_place", "relu_backward overwrites the cached input",
                  cases=(catalog.RELU_BACKWARD_MODIFIES_CACHE,), loses=("relu_backward",)),
    SampleStudent("drop_vs_keep", "dropout_forward treats p as the keep probability",
                  cases=(catalog.DROPOUT_KEEP_PROBABILITY,), loses=("dropout_forward",)),
    SampleStudent("momentum_sign", "sgd_momentum adds the gradient to the velocity",
                  cases=(catalog.MOMENTUM_SIGN,), loses=("sgd_momentum",)),
    SampleStudent("no_bias_correction", "adam without bias correction",
                  cases=(catalog.ADAM_NO_BIAS_CORRECTION,), loses=("adam",)),
    SampleStudent("relu_on_scores", "TwoLayerNet applies a ReLU to the scores",
                  cases=(catalog.TWO_LAYER_NET_RELU_ON_SCORES,), loses=("TwoLayerNet",)),
    SampleStudent("syntax_error", "the softmax_loss cell has a syntax error",
                  edits={"softmax_loss": missing_colon}, loses=("softmax_loss",)),
    SampleStudent("cell_raises", "the svm_loss cell raises before defining svm_loss",
                  edits={"svm_loss": failing_import}, loses=("svm_loss",)),
    SampleStudent("infinite_loop", "relu_forward never returns",
                  cases=(catalog.RELU_FORWARD_INFINITE_LOOP,), loses=("relu_forward",)),
)


def replacements_for(student, solutions):
    """grade_id -> new source of the solution cells this student changed."""
    out = {function_cell(case.function): case.source for case in student.cases}
    for function, edit in student.edits.items():
        out[function_cell(function)] = edit(solutions[function_cell(function)])
    return out


def build_sample_class(course, students=STUDENTS, assignment=ASSIGNMENT):
    """Write every sample student's submission under submitted/; return their ids."""
    solutions = solution_sources(course, assignment)
    for student in students:
        build_submission(course, assignment, student.student_id,
                         replacements=replacements_for(student, solutions), blank=student.blank)
    return [s.student_id for s in students]
