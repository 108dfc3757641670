"""Difference-in-differences for action plans, against hand-computed examples."""

import math

import pytest

from tiyan.domain.did import DidMethod, UnitKpi, did_from_estimates, did_from_units
from tiyan.domain.metrics import MetricsError, nps_from_counts, proportion

TREATED = [UnitKpi("store-1", 10, 20), UnitKpi("store-2", 12, 18), UnitKpi("store-3", 8, 16)]
CONTROL = [UnitKpi("store-4", 10, 12), UnitKpi("store-5", 11, 11), UnitKpi("store-6", 9, 13)]


def test_unit_level_did_by_hand():
    # treated changes 10, 6, 8 (mean 8, variance 4); control changes 2, 0, 4 (mean 2, variance 4)
    # effect 6; SE = √(4/3 + 4/3) = 1.63299; Welch df = 4; t(4, 0.975) = 2.776445
    result = did_from_units(TREATED, CONTROL)
    assert result.effect == pytest.approx(6.0)
    assert result.standard_error == pytest.approx(math.sqrt(8 / 3))
    assert result.low == pytest.approx(6 - 2.776445 * 1.632993, abs=1e-5)
    assert result.high == pytest.approx(6 + 2.776445 * 1.632993, abs=1e-5)
    assert result.p_value == pytest.approx(0.021312, abs=1e-5)  # t = 3.6742 on 4 df
    assert result.significant
    assert (result.n_treated, result.n_control) == (3, 3)
    assert result.method is DidMethod.UNIT_LEVEL


def test_a_common_trend_gives_no_effect():
    treated = [UnitKpi("a", 10, 15), UnitKpi("b", 20, 24)]
    control = [UnitKpi("c", 10, 16), UnitKpi("d", 30, 33)]
    result = did_from_units(treated, control)
    assert result.effect == pytest.approx(0.0)
    assert not result.significant


def test_unit_level_did_needs_two_units_per_group_and_no_overlap():
    with pytest.raises(MetricsError, match="got 1 and 3"):
        did_from_units(TREATED[:1], CONTROL)
    with pytest.raises(MetricsError, match="both treated and control"):
        did_from_units(TREATED, [*CONTROL, TREATED[0]])


def test_response_level_did_from_four_nps_figures_by_hand():
    treated_before = nps_from_counts(40, 30, 30)  # NPS 10, Var = 0.0069
    treated_after = nps_from_counts(55, 30, 15)  # NPS 40, Var = (0.70 - 0.16)/100 = 0.0054
    control_before = nps_from_counts(45, 30, 25)  # NPS 20, Var = (0.70 - 0.04)/100 = 0.0066
    control_after = nps_from_counts(50, 25, 25)  # NPS 25, Var = (0.75 - 0.0625)/100 = 0.006875
    result = did_from_estimates(treated_before, treated_after, control_before, control_after)
    se = 100 * math.sqrt(0.0069 + 0.0054 + 0.0066 + 0.006875)
    assert result.effect == pytest.approx(25.0)
    assert result.standard_error == pytest.approx(se)
    assert (result.low, result.high) == pytest.approx((25 - 1.959964 * se, 25 + 1.959964 * se))
    assert result.p_value == pytest.approx(0.11943, abs=1e-5)  # z = 25/16.0546 = 1.5572
    assert not result.significant
    assert result.method is DidMethod.RESPONSE_LEVEL


def test_response_level_did_refuses_a_cell_with_too_few_responses():
    thin = proportion(5, 10)
    enough = proportion(50, 100)
    with pytest.raises(MetricsError, match="control after has too few responses"):
        did_from_estimates(enough, enough, enough, thin)


def test_response_level_did_refuses_mixed_kinds():
    with pytest.raises(MetricsError, match="same kind"):
        did_from_estimates(
            proportion(50, 100),
            proportion(60, 100),
            proportion(50, 100),
            nps_from_counts(50, 30, 20),
        )
