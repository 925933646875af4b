"""Blocks proven in an earlier assignment: used as the student wrote them, only when the same code passed."""
import pytest

from conftest import REPO, catalog, copy_course, needs_sandbox, run_grader
from grader.conventions import function_cell
from grader.course import Course
from grader.pipeline.autograde import assignments_in_order, grade_one, waits_for
from grader.pipeline.prerequisites import passed_everything, prerequisites, proven_blocks
from grader.reports.grades import test_scores
from grader.quality.submissions import as_answer, build_submission, solution_sources


def test_conv_nets_builds_on_fc_nets_and_is_graded_after_it():
    course = Course(REPO)
    assert prerequisites(course, "conv_nets") == ["fc_nets"] and prerequisites(course, "fc_nets") == []
    assert assignments_in_order(course, ["conv_nets", "fc_nets"]) == ["fc_nets", "conv_nets"]
    work = [("conv_nets", "ada"), ("fc_nets", "ada"), ("conv_nets", "bob")]
    assert waits_for(course, work) == {("conv_nets", "ada"): {("fc_nets", "ada")}, ("fc_nets", "ada"): set(),
                                       ("conv_nets", "bob"): set()}


def test_a_function_is_proven_only_when_every_one_of_its_tests_got_full_marks():
    rows = [("relu_forward", 2.0, 2.0), ("relu_forward_properties", 1.0, 1.0), ("relu_backward", 1.5, 2.0),
            ("affine_forward", None, 2.0), ("svm_loss", 0.0, 0.0), ("not_a_function", 1.0, 1.0)]
    functions = ["relu_forward", "relu_backward", "affine_forward", "svm_loss"]
    assert passed_everything(rows, functions) == {"relu_forward"}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("course"))
    with open(root / "nbgrader_config.py", "a") as f:
        f.write("\nc.GraderSettings.cell_timeout = 600\n")
    run_grader(root, "release")
    course = Course(root)
    bug = next(c for c in catalog("fc_nets").MUTANTS if c.function == "batchnorm_forward")
    # cy's affine_forward cell defines a correct affine_forward, then raises: importing the notebook stops there
    stops = {"affine_forward": as_answer(solution_sources(course, "fc_nets")[function_cell("affine_forward")])
             + "\nraise KeyboardInterrupt"}
    for student, replacements in (("ada", {}), ("bob", bug.replacements()), ("cy", stops)):
        build_submission(course, "fc_nets", student,
                         replacements={function_cell(f): s for f, s in replacements.items()})
        build_submission(course, "conv_nets", student)
    for student in ("ada", "bob", "cy"):
        assert grade_one(course, "fc_nets", student).success
    return course


@needs_sandbox
def test_blocks_that_passed_in_the_earlier_assignment_are_proven(course):
    ada, bob = proven_blocks(course, "conv_nets", "ada"), proven_blocks(course, "conv_nets", "bob")
    assert {"affine_forward", "batchnorm_forward", "batchnorm_backward", "softmax_loss"} <= ada
    assert "batchnorm_forward" not in bob and "affine_forward" in bob
    assert not ada & set(course.graded_functions("conv_nets"))


@needs_sandbox
def test_a_resubmission_since_the_grading_proves_nothing(course, tmp_path):
    notebook = course.submitted_dir / "ada" / "fc_nets" / "01_layers.ipynb"
    original = notebook.read_bytes()
    try:
        notebook.write_bytes(original.replace(b"def relu_forward(x):", b"def relu_forward(x):\\n    x = x + 0", 1))
        assert notebook.read_bytes() != original
        assert proven_blocks(course, "conv_nets", "ada") == set()
        notebook.unlink()
        notebook.symlink_to(course.autograded_dir / "ada" / "fc_nets" / "01_layers.ipynb")
        assert proven_blocks(course, "conv_nets", "ada") == set()   # a link is never followed
    finally:
        notebook.unlink(missing_ok=True)
        notebook.write_bytes(original)
    assert proven_blocks(course, "conv_nets", "ada")


@needs_sandbox
def test_a_proven_block_that_a_later_import_does_not_define_is_swapped(course):
    """cy's affine_forward passed its tests, but importing 01_layers in conv_nets stops at its cell: the
    network's tests use the known-good blocks instead of failing on names the import never defined."""
    assert "affine_forward" in proven_blocks(course, "conv_nets", "cy")
    assert grade_one(course, "conv_nets", "cy").success and grade_one(course, "conv_nets", "ada").success
    scores = {(r.student_id, r.grade_id): (r.score, r.max_score) for r in test_scores(course)
              if r.assignment == "conv_nets" and r.grade_id.startswith("ThreeLayerConvNet")}
    assert scores and all(scores[("cy", g)] == scores[("ada", g)] == (top, top)
                          for (student, g), (_, top) in scores.items() if student == "ada")
