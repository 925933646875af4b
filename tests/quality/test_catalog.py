"""Every assignment's catalog (catalog/<assignment>.py) is what the mutation harness needs."""
import ast
from collections import Counter

import pytest

from conftest import REPO, catalog
from e2e_spec import SPEC_GRADED
from grader.course import Course, copy_course, scratch_course
from grader.quality.catalog import edited
from grader.quality.mutants import (BASELINE, CHARGED_TWICE, FALSE_ALARM, KILLED, OK, SURVIVED, CaseResult,
                                    MutantsRun, dependent_assignments, format_table, select_cases, student_id)

COURSE = Course(REPO)
ASSIGNMENTS = COURSE.assignments()
CASES = [(a, c) for a in ASSIGNMENTS for c in list(catalog(a).MUTANTS) + list(catalog(a).VARIANTS)]
SAMPLE = [(a, c) for a in ASSIGNMENTS for s in catalog(a).SAMPLE_STUDENTS + catalog(a).BENCH_ATTACKS for c in s.cases]


def defined_names(source):
    tree = ast.parse(source)
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalog_size(assignment):
    module = catalog(assignment)
    assert len(module.MUTANTS) >= 30 and len(module.VARIANTS) >= 8
    assert all(not c.correct for c in module.MUTANTS) and all(c.correct for c in module.VARIANTS)
    assert len(module.SAMPLE_STUDENTS) >= 5 and module.BENCH_ATTACKS


def test_the_course_has_at_least_100_mutants():
    assert sum(len(catalog(a).MUTANTS) for a in ASSIGNMENTS) >= 100


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_at_least_two_mutants_for_every_graded_function(assignment):
    counts = Counter(case.function for case in catalog(assignment).MUTANTS)
    assert {f: counts[f] for f in SPEC_GRADED[assignment] if counts[f] < 2} == {}
    assert set(counts) <= set(SPEC_GRADED[assignment])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_replaced_function_is_in_the_notebooks(assignment):
    functions = COURSE.graded_functions(assignment)
    used = {f for a, case in CASES + SAMPLE if a == assignment for f in case.replacements()}
    assert used <= set(functions)


def test_names_and_submission_ids_are_unique_and_safe():
    names = [(a, case.name) for a, case in CASES]
    assert len(names) == len(set(names))
    ids = [student_id(a, case) for a, case in CASES]
    assert len(ids) == len(set(ids))
    assert all(i.replace("-", "").replace("_", "").isalnum() for i in ids)
    assert not any(i.startswith(BASELINE) for i in ids)
    assert student_id("fc_nets", catalog().MOMENTUM_SIGN) == "fc_nets-mutant-sgd_momentum-velocity_sign"


@pytest.mark.parametrize("assignment, case", CASES + SAMPLE, ids=lambda v: getattr(v, "name", v))
def test_each_source_defines_exactly_its_function(assignment, case):
    assert case.name.startswith(case.function + "/")
    assert case.description
    for function, source in case.replacements().items():
        assert defined_names(source) == [function], (function, defined_names(source))
        compile(source, case.name, "exec")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_companions_only_replace_functions_of_the_same_notebook(assignment):
    notebook_of = COURSE.notebook_of_functions(assignment)
    for a, case in CASES:
        if a == assignment:
            assert {notebook_of[f] for f in case.replacements()} == {notebook_of[case.function]}, case.name


def test_edited_replaces_exactly_one_occurrence():
    source = "def f(x):\n    y = x + 1\n    return y\n"
    assert "x + 2" in edited(source, ("y = x + 1", "y = x + 2"))
    with pytest.raises(ValueError):
        edited(source, ("z = 1", "z = 2"))


def test_select_cases_by_name_or_function():
    cases = list(catalog().MUTANTS) + list(catalog().VARIANTS)
    assert select_cases(cases, ["adam"]) == [c for c in cases if c.function == "adam"]
    assert [c.name for c in select_cases(cases, ["sgd/ascends"])] == ["sgd/ascends"]
    assert len(select_cases(cases, [])) == len(cases)


def test_later_assignments_that_import_a_notebook_are_graded_with_its_mutants():
    assert dependent_assignments(COURSE, "fc_nets", "05_networks") == []
    if "conv_nets" in ASSIGNMENTS:
        assert dependent_assignments(COURSE, "fc_nets", "02_batchnorm") == ["conv_nets"]
        assert dependent_assignments(COURSE, "conv_nets", COURSE.source_notebooks("conv_nets")[0].stem) == []


def test_table_verdicts_and_exit_status():
    mutant, variant = catalog().MUTANTS[0], catalog().VARIANTS[0]

    def result(case, lost, verdict, **kwargs):
        return CaseResult(case, "fc_nets", student_id("fc_nets", case), "01_layers", lost=lost, max_points=6.0,
                          verdict=verdict, **kwargs)

    good = MutantsRun([result(mutant, 2.0, KILLED), result(variant, 0.0, OK)], [], 12.0)
    assert good.ok and good.kill_rate == 1.0
    text = format_table(good)
    assert mutant.name in text and "kill rate 100.0%" in text and "PASS" in text
    bad = MutantsRun([result(mutant, 0.0, SURVIVED), result(variant, 1.0, FALSE_ALARM)], [], 12.0)
    assert not bad.ok and bad.kill_rate == 0.0
    assert "FAIL" in format_table(bad)
    twice = MutantsRun([result(mutant, 2.0, CHARGED_TWICE, lost_elsewhere=1.5,
                               charged_in=("fc_nets/affine_relu_forward",))], [], 12.0)
    assert not twice.ok and twice.kill_rate == 0.0 and "charged in fc_nets/affine_relu_forward" in format_table(twice)
    broken = MutantsRun(good.results, [("fc_nets/01_layers", "relu_forward", 1.0, 3.0)], 12.0)
    assert not broken.ok and "BASELINE BROKEN" in format_table(broken)


def test_scratch_course_is_a_separate_course(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_DB_URL", raising=False)
    with scratch_course() as scratch:
        assert scratch.root != Course().root
        assert (scratch.root / "nbgrader_config.py").exists()
        assert scratch.source_notebooks("fc_nets") and (scratch.root / "catalog" / "fc_nets.py").exists()
        assert scratch.db_url.startswith("sqlite:///" + str(scratch.root))
        root = scratch.root
    assert not root.exists()
    copy = copy_course(tmp_path / "copy")
    assert (copy / "source" / "fc_nets").is_dir()
