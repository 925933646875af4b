"""The catalog of the mutation harness (grader/catalog.py) and the harness's bookkeeping.

Grading the catalog is `make mutants` (run by `make test` after pytest); these tests
check, without grading anything, that the catalog is what the harness needs.
"""
import ast
from collections import Counter

import pytest

from conftest import ASSIGNMENT
from grader import catalog
from grader.course import Course, copy_course, scratch_course
from grader.mutants import (BASELINE, CHARGED_TWICE, FALSE_ALARM, KILLED, OK, SURVIVED, CaseResult, MutantsRun, format_table,
                            notebook_of_functions, select_cases, student_id)
from grader.submissions import graded_functions
from test_release import SPEC_GRADED


def defined_names(source):
    tree = ast.parse(source)
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def test_catalog_size():
    assert len(catalog.MUTANTS) >= 40
    assert len(catalog.VARIANTS) >= 10
    assert catalog.ALL_CASES == catalog.MUTANTS + catalog.VARIANTS
    assert all(not c.correct for c in catalog.MUTANTS) and all(c.correct for c in catalog.VARIANTS)


def test_at_least_two_mutants_for_every_graded_function():
    counts = Counter(case.function for case in catalog.MUTANTS)
    assert {f: counts[f] for f in SPEC_GRADED if counts[f] < 2} == {}
    assert set(counts) <= set(SPEC_GRADED)


def test_every_graded_function_is_in_the_notebooks():
    functions = graded_functions(Course(), ASSIGNMENT)
    used = {f for case in catalog.ALL_CASES + catalog.SAMPLE_CASES for f in case.replacements()}
    assert used <= set(functions)


def test_names_and_submission_ids_are_unique_and_safe():
    names = [case.name for case in catalog.ALL_CASES]
    assert len(names) == len(set(names))
    ids = [student_id(case) for case in catalog.ALL_CASES]
    assert len(ids) == len(set(ids))
    assert all(i.replace("-", "").replace("_", "").isalnum() for i in ids)
    assert not any(i.startswith(BASELINE) for i in ids)
    assert student_id(catalog.MOMENTUM_SIGN) == "mutant-sgd_momentum-velocity_sign"


@pytest.mark.parametrize("case", catalog.ALL_CASES + catalog.SAMPLE_CASES, ids=lambda c: c.name)
def test_each_source_defines_exactly_its_function(case):
    assert case.name.startswith(case.function + "/")
    assert case.description
    for function, source in case.replacements().items():
        assert defined_names(source) == [function], (function, defined_names(source))
        compile(source, case.name, "exec")


def test_the_sample_cases_are_kept():
    assert catalog.RELU_BACKWARD_MODIFIES_CACHE in catalog.MUTANTS
    assert catalog.TWO_LAYER_NET_RELU_ON_SCORES in catalog.MUTANTS
    assert catalog.RELU_FORWARD_INFINITE_LOOP in catalog.SAMPLE_CASES


def test_companions_only_replace_functions_of_the_same_notebook():
    notebook_of = notebook_of_functions(Course(), ASSIGNMENT)
    for case in catalog.ALL_CASES:
        assert {notebook_of[f] for f in case.replacements()} == {notebook_of[case.function]}, case.name


def test_edited_replaces_exactly_one_occurrence():
    source = "def f(x):\n    y = x + 1\n    return y\n"
    assert "x + 2" in catalog.edited(source, ("y = x + 1", "y = x + 2"))
    with pytest.raises(ValueError):
        catalog.edited(source, ("z = 1", "z = 2"))


def test_select_cases_by_name_or_function():
    assert select_cases(catalog.ALL_CASES, ["adam"]) == [c for c in catalog.ALL_CASES if c.function == "adam"]
    assert [c.name for c in select_cases(catalog.ALL_CASES, ["sgd/ascends"])] == ["sgd/ascends"]
    assert len(select_cases(catalog.ALL_CASES, [])) == len(catalog.ALL_CASES)


def test_table_verdicts_and_exit_status():
    mutant, variant = catalog.MUTANTS[0], catalog.VARIANTS[0]

    def result(case, lost, verdict, **kwargs):
        return CaseResult(case, student_id(case), "01_layers", lost=lost, max_points=6.0, verdict=verdict, **kwargs)

    good = MutantsRun([result(mutant, 2.0, KILLED), result(variant, 0.0, OK)], [], 12.0)
    assert good.ok and good.kill_rate == 1.0
    text = format_table(good)
    assert mutant.name in text and "kill rate 100.0%" in text and "PASS" in text
    bad = MutantsRun([result(mutant, 0.0, SURVIVED), result(variant, 1.0, FALSE_ALARM)], [], 12.0)
    assert not bad.ok and bad.kill_rate == 0.0
    assert "FAIL" in format_table(bad)
    twice = MutantsRun([result(mutant, 2.0, CHARGED_TWICE, lost_other_notebooks=1.5)], [], 12.0)
    assert not twice.ok and twice.kill_rate == 0.0
    broken = MutantsRun(good.results, [("01_layers", "relu_forward", 1.0, 3.0)], 12.0)
    assert not broken.ok and "BASELINE BROKEN" in format_table(broken)


def test_scratch_course_is_a_separate_course(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DB_URL", "postgresql://nowhere/gradebook")
    with scratch_course() as scratch:
        assert scratch.root != Course().root
        assert (scratch.root / "nbgrader_config.py").exists()
        assert scratch.source_notebooks(ASSIGNMENT)
        assert scratch.db_url.startswith("sqlite:///" + str(scratch.root))
        root = scratch.root
    assert not root.exists()
    copy = copy_course(tmp_path / "copy")
    assert (copy / "source" / ASSIGNMENT).is_dir()
