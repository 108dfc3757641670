"""Staff scorecards: min n, shrinkage towards the unit mean, service star."""

from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from tiyan.domain.metrics import MetricsError
from tiyan.domain.staff import (
    DEFAULT_PRIOR_STRENGTH,
    PriorSource,
    StaffSums,
    shrink,
    staff_scorecard,
    variance_components,
)


def sums(staff_id: str, scores) -> StaffSums:
    array = np.asarray(scores, dtype=float)
    return StaffSums(staff_id, array.size, float(array.sum()), float((array**2).sum()))


def test_shrink_is_the_credibility_weighted_mean():
    # (10·5.0 + 20·4.5) / 30 = 4.6667
    assert shrink(10, 5.0, 4.5, 20.0) == pytest.approx(140 / 30)
    assert shrink(10, 5.0, 4.5, 0.0) == pytest.approx(5.0)


def test_a_small_perfect_sample_cannot_crown_anyone():
    staff = [
        StaffSums("lucky", 10, 50.0, 250.0),  # ten 5s
        StaffSums("steady", 200, 960.0, 4620.0),  # mean 4.8
        StaffSums("others", 300, 1200.0, 5000.0),  # mean 4.0
    ]
    card = staff_scorecard(staff, min_n=10, prior=20.0, unit_mean=4.5)
    shrunk = {s.staff_id: s.shrunk for s in card.scores}
    assert shrunk["lucky"] == pytest.approx((10 * 5.0 + 20 * 4.5) / 30)
    assert shrunk["steady"] == pytest.approx((960 + 20 * 4.5) / 220)
    assert card.service_star().staff_id == "steady"


def test_a_small_bad_sample_is_pulled_up_towards_the_unit_mean():
    card = staff_scorecard([StaffSums("new", 12, 24.0, 48.0)], min_n=10, prior=20.0, unit_mean=4.2)
    (score,) = card.scores
    assert score.raw_mean == pytest.approx(2.0)
    assert score.shrunk == pytest.approx((24 + 20 * 4.2) / 32)


def test_staff_under_min_n_show_too_few_but_count_for_the_unit_mean():
    card = staff_scorecard([sums("a", [5] * 5), sums("b", [3] * 15)], min_n=10, prior=5.0)
    a, b = card.scores
    assert a.too_few and a.raw_mean is None and a.shrunk is None and a.n == 5
    assert card.unit_mean == pytest.approx((25 + 45) / 20)
    assert card.service_star() == b


def test_prior_strength_is_estimated_from_between_and_within_staff_variance():
    rng = np.random.default_rng(21)
    groups = [rng.normal(loc, 1.0, 40) for loc in (3.5, 4.0, 4.2, 4.6, 3.9)]
    staff = [sums(f"s{i}", g) for i, g in enumerate(groups)]
    components = variance_components(staff)
    # balanced data: F = MSB/MSW from scipy's one-way ANOVA and τ² = (MSB - MSW)/n
    f = stats.f_oneway(*groups).statistic
    ms_within = np.mean([g.var(ddof=1) for g in groups])
    assert components.within == pytest.approx(ms_within)
    assert components.between == pytest.approx((f - 1) * ms_within / 40)
    card = staff_scorecard(staff)
    assert card.prior_source is PriorSource.ESTIMATED
    assert card.prior_strength == pytest.approx(components.within / components.between)


def test_unbalanced_variance_components_by_hand():
    # a: [1, 3] (mean 2), b: [4, 4, 5, 7] (mean 5); grand mean 4, N = 6
    # MSW = (2 + 6)/4 = 2, MSB = (2·4 + 4·1)/1 = 12, n0 = 6 - 20/6 = 8/3, τ² = 10/(8/3) = 3.75
    components = variance_components([sums("a", [1, 3]), sums("b", [4, 4, 5, 7])])
    assert components.within == pytest.approx(2.0)
    assert components.between == pytest.approx(3.75)


def test_without_real_differences_between_staff_the_default_prior_is_used():
    staff = [sums("a", [4, 5] * 10), sums("b", [5, 4] * 10)]
    card = staff_scorecard(staff)
    assert card.prior_source is PriorSource.DEFAULT
    assert card.prior_strength == DEFAULT_PRIOR_STRENGTH


def test_service_star_ties_go_to_more_responses_then_to_the_smaller_id():
    staff = [sums("c", [5, 4] * 10), sums("b", [5, 4] * 10), sums("a", [5, 4] * 5)]
    card = staff_scorecard(staff, min_n=10, prior=0.0)
    assert card.service_star().staff_id == "b"


def test_no_service_star_when_nobody_has_enough_responses():
    card = staff_scorecard([sums("a", [5] * 3)], min_n=10)
    assert card.service_star() is None


def test_scorecard_refuses_a_repeated_staff_id_and_an_empty_unit():
    with pytest.raises(MetricsError, match="appears twice"):
        staff_scorecard([sums("a", [5]), sums("a", [4])])
    with pytest.raises(MetricsError, match="no responses"):
        staff_scorecard([StaffSums("a", 0, 0.0, 0.0)])
    with pytest.raises(MetricsError, match="prior strength must be 0 or more"):
        staff_scorecard([sums("a", [5])], prior=-1.0)


def test_staff_sums_accept_decimal_from_the_database():
    card = staff_scorecard(
        [StaffSums("a", 20, Decimal("90"), Decimal("410")), sums("b", [4] * 20)], prior=10.0,
        min_n=10)
    assert card.unit_mean == pytest.approx(170 / 40)
    assert card.scores[0].shrunk == pytest.approx((90 + 10 * 170 / 40) / 30)


def test_the_staff_minimum_n_is_the_one_every_figure_uses():
    from tiyan.domain.metrics import DEFAULT_MIN_N
    from tiyan.settings import Settings

    card = staff_scorecard([sums("a", [5] * 29), sums("b", [4] * 30)], prior=10.0)
    assert card.min_n == DEFAULT_MIN_N == Settings.model_fields["min_n"].default == 30
    assert [s.too_few for s in card.scores] == [True, False]
