"""Significance tests and `compare`: hand computations and scipy references."""

import math

import numpy as np
import pytest
from scipy import stats

from tiyan.domain.metrics import (
    MetricsError,
    mean_estimate,
    nps_from_counts,
    proportion,
)
from tiyan.domain.statistics import (
    Direction,
    compare,
    compare_to_parent,
    nps_difference_test,
    two_proportion_z_test,
    welch_t_test,
    z_test,
)


def test_two_proportion_z_test_by_hand():
    # pooled p = 105/200 = 0.525; se = √(0.525·0.475·(1/100 + 1/100)) = 0.0706222
    result = two_proportion_z_test(60, 100, 45, 100)
    assert result.delta == pytest.approx(0.15)
    assert result.statistic == pytest.approx(0.15 / 0.0706222, rel=1e-6)
    assert result.p_value == pytest.approx(0.033671, abs=1e-5)
    assert result.significant


def test_two_proportion_z_test_equals_the_uncorrected_chi_square_test():
    table = [[130, 370], [95, 405]]
    chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    result = two_proportion_z_test(130, 500, 95, 500)
    assert result.statistic**2 == pytest.approx(chi2)
    assert result.p_value == pytest.approx(p_value)


def test_welch_t_test_matches_scipy():
    reference = stats.ttest_ind_from_stats(4.1, 0.9, 45, 3.7, 1.3, 60, equal_var=False)
    result = welch_t_test(4.1, 0.9, 45, 3.7, 1.3, 60)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert reference.pvalue > 0.05 and not result.significant


def test_welch_t_test_needs_two_responses_per_sample():
    with pytest.raises(MetricsError, match="n >= 2"):
        welch_t_test(4.0, 1.0, 1, 3.0, 1.0, 10)


def test_nps_difference_test_by_hand():
    # Var1 = (0.5 + 0.2 - 0.3²)/100 = 0.0061, Var2 = (0.4 + 0.3 - 0.1²)/100 = 0.0069
    # z = 0.2 / √0.013 = 1.75412, two-sided p = 0.07941: not significant
    result = nps_difference_test((50, 30, 20), (40, 30, 30))
    assert result.delta == pytest.approx(20.0)
    assert result.statistic == pytest.approx(1.754116, abs=1e-6)
    assert result.p_value == pytest.approx(0.079411, abs=1e-5)
    assert not result.significant


def test_nps_difference_test_agrees_with_a_z_test_on_scored_responses():
    first = np.array([1] * 180 + [0] * 120 + [-1] * 100)
    second = np.array([1] * 150 + [0] * 130 + [-1] * 120)
    se = math.sqrt(first.var() / first.size + second.var() / second.size)
    z = (first.mean() - second.mean()) / se
    result = nps_difference_test((180, 120, 100), (150, 130, 120))
    assert result.statistic == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_z_test_with_no_variance():
    assert z_test(0.0, 0.0).p_value == 1.0
    assert z_test(1.0, 0.0).significant


def test_compare_marks_a_significant_rise_as_up():
    change = compare(proportion(60, 100), proportion(45, 100))
    assert change.direction is Direction.UP
    assert change.significant
    assert change.delta == pytest.approx(15.0)
    assert change.p_value == pytest.approx(two_proportion_z_test(60, 100, 45, 100).p_value)


def test_compare_marks_a_significant_fall_as_down():
    change = compare(nps_from_counts(100, 200, 200), nps_from_counts(200, 200, 100))
    assert change.direction is Direction.DOWN
    assert change.delta == pytest.approx(-40.0)


def test_compare_does_not_mark_a_change_that_is_not_significant():
    change = compare(nps_from_counts(50, 30, 20), nps_from_counts(40, 30, 30))
    assert change.direction is Direction.STEADY
    assert not change.significant
    assert change.p_value == pytest.approx(0.079411, abs=1e-5)


def test_compare_of_means_is_welch():
    rng = np.random.default_rng(11)
    current = rng.integers(1, 6, 50).astype(float)
    previous = rng.integers(2, 6, 70).astype(float)
    change = compare(
        mean_estimate(50, current.sum(), (current**2).sum()),
        mean_estimate(70, previous.sum(), (previous**2).sum()),
    )
    reference = stats.ttest_ind(current, previous, equal_var=False)
    assert change.p_value == pytest.approx(reference.pvalue)


def test_compare_with_too_few_responses_is_not_comparable():
    change = compare(proportion(10, 20), proportion(45, 100))
    assert change.direction is Direction.NOT_COMPARABLE
    assert change.delta is None and change.p_value is None and not change.significant


def test_compare_refuses_figures_of_different_kinds():
    with pytest.raises(MetricsError, match="cannot compare a proportion figure with a nps figure"):
        compare(proportion(60, 100), nps_from_counts(50, 30, 20))


def test_compare_to_parent_accounts_for_the_unit_inside_the_parent():
    unit = nps_from_counts(60, 25, 15)
    rest = nps_from_counts(300, 250, 250)
    parent = nps_from_counts(360, 275, 265)
    # Var(unit - parent) = (1 - 2w)·Var(unit) + Var(parent), w = 100/900
    w = 100 / 900
    se = math.sqrt((1 - 2 * w) * unit.standard_error**2 + parent.standard_error**2)
    change = compare_to_parent(unit, parent)
    assert change.delta == pytest.approx(45 - 100 * (360 - 265) / 900)
    assert change.p_value == pytest.approx(2 * stats.norm.sf(change.delta / se))
    # the same question asked as unit vs the rest of the parent gives nearly the same answer
    versus_rest = compare(unit, rest)
    assert math.log(change.p_value) == pytest.approx(math.log(versus_rest.p_value), rel=0.05)
    assert change.direction is Direction.UP


def test_compare_to_parent_when_the_unit_is_the_whole_parent():
    estimate = proportion(40, 100)
    change = compare_to_parent(estimate, estimate)
    assert change.delta == 0.0 and change.direction is Direction.STEADY


def test_compare_to_parent_rejects_a_unit_larger_than_its_parent():
    with pytest.raises(MetricsError, match="more than its parent"):
        compare_to_parent(proportion(40, 100), proportion(20, 50))


def test_benjamini_hochberg_across_a_page_matches_the_step_up_rule_by_hand():
    from tiyan.domain.statistics import Change, Direction, control_false_discoveries

    p_values = [0.001, 0.008, 0.039, 0.041, 0.042, 0.060, 0.074, 0.205, 0.212, 0.216]
    changes = {i: Change(1.0 if i % 2 else -1.0, p, p < 0.05,
                         Direction.STEADY if p >= 0.05 else
                         Direction.UP if i % 2 else Direction.DOWN)
               for i, p in enumerate(p_values)}
    changes["untested"] = Change(None, None, False, Direction.NOT_COMPARABLE)
    got = control_false_discoveries(changes)
    m = len(p_values)  # the untested change is not part of the family
    # the step-up rule: q_(i) = min over j >= i of p_(j) * m / j
    expected = [min(p_values[j] * m / (j + 1) for j in range(i, m)) for i in range(m)]
    assert [got[i].q_value for i in range(m)] == pytest.approx(expected)
    assert [i for i in range(m) if got[i].significant] == [0, 1]  # 5 raw, 2 after control
    assert got[0].direction == Direction.DOWN and got[1].direction == Direction.UP
    assert got[2].direction == Direction.STEADY and got["untested"] == changes["untested"]
