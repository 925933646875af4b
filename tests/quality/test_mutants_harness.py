"""The whole-submission harness on real shapes of student code: one bug costs its points once."""
import pytest

from conftest import REPO, catalog, needs_sandbox
from grader.course import Course
from grader.quality.mutants import CHARGED_TWICE, KILLED, OK, run_mutants

pytestmark = needs_sandbox


def case(name, assignment="fc_nets"):
    module = catalog(assignment)
    return next(c for c in list(module.MUTANTS) + list(module.VARIANTS) if c.name == name)


@pytest.fixture(scope="module")
def run():
    cases = {"fc_nets": [case("dropout_forward/two_d_only"),
                         case("batchnorm_forward/running_averages_swapped_wide_cache"),
                         case("dropout_forward/left_blank"), case("batchnorm_backward/missing_mean_term"),
                         case("affine_relu_forward/dict_cache")]}
    return {r.case.name: r for r in run_mutants(Course(REPO), cases, jobs=2).results}


def test_a_dropout_forward_for_2d_input_only_costs_only_the_forwards_points(run):
    result = run["dropout_forward/two_d_only"]
    assert result.verdict == KILLED and result.lost > 0, result
    assert result.lost_elsewhere == 0 and result.charged_in == ()


def test_wrong_running_averages_beside_a_correct_backward_with_its_own_cache_cost_only_the_forward(run):
    result = run["batchnorm_forward/running_averages_swapped_wide_cache"]
    assert result.verdict == KILLED and result.lost_elsewhere == 0, result


def test_a_blank_forward_costs_nothing_in_the_backward_whose_cache_spec_fixes(run):
    result = run["dropout_forward/left_blank"]
    assert result.verdict == KILLED and result.lost == result.max_points and result.lost_elsewhere == 0, result


def test_a_backward_bug_is_still_caught_and_a_correct_variant_spared(run):
    assert run["batchnorm_backward/missing_mean_term"].verdict == KILLED
    assert run["affine_relu_forward/dict_cache"].verdict == OK
    assert CHARGED_TWICE not in {r.verdict for r in run.values()}
