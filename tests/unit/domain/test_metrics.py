"""Metrics: values, n, 95% CIs and the min-n rule, against hand and scipy reference computations."""

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from tiyan.domain.metrics import (
    CompositeIndex,
    EstimateKind,
    IndexItem,
    MeanSums,
    MetricsError,
    ces,
    csat,
    mean_estimate,
    nps,
    nps_from_counts,
    proportion,
    rating_mean,
    response_rate,
    top2box,
    wilson_interval,
)


def test_wilson_interval_matches_hand_computation():
    # p = 0.3, z² = 3.8416: centre = 0.319208 / 1.038416, half = 1.96·√0.00219604 / 1.038416
    low, high = wilson_interval(30, 100)
    assert low == pytest.approx(0.218948, abs=1e-6)
    assert high == pytest.approx(0.395850, abs=1e-6)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (457, 1000), (1, 31)])
def test_wilson_interval_matches_scipy(k, n):
    z = stats.norm.ppf(0.975)
    reference = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(k, n, z=z) == pytest.approx((reference.low, reference.high), abs=1e-12)


@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    )
)
def test_wilson_interval_contains_the_observed_proportion(k_n):
    k, n = k_n
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_proportion_is_in_percent_with_its_n():
    estimate = proportion(30, 100)
    assert estimate.value == pytest.approx(30.0)
    assert (estimate.low, estimate.high) == pytest.approx((21.8948, 39.5850), abs=1e-4)
    assert estimate.n == 100
    assert estimate.kind is EstimateKind.PROPORTION
    assert not estimate.too_few


def test_proportion_under_min_n_is_too_few_responses_not_a_number():
    estimate = proportion(5, 29, min_n=30)
    assert estimate.too_few
    assert (estimate.value, estimate.low, estimate.high) == (None, None, None)
    assert estimate.n == 29


def test_min_n_is_configurable():
    assert not proportion(5, 10, min_n=10).too_few
    assert proportion(5, 10, min_n=11).too_few


def test_proportion_rejects_more_successes_than_trials():
    with pytest.raises(MetricsError, match="k=5 is more than n=4"):
        proportion(5, 4)


def test_nps_from_counts_matches_hand_computed_adjusted_wald():
    # 50 promoters, 30 passives, 20 detractors: NPS = 30.
    # Adjusted: n' = 103, p' = 50.75/103, d' = 20.75/103, centre = 0.291262,
    # var = (p' + d' - centre²)/n' = 0.0059159, half = 1.96 · 0.076915 = 0.150753.
    estimate = nps_from_counts(50, 30, 20)
    assert estimate.value == pytest.approx(30.0)
    assert estimate.low == pytest.approx(14.0509, abs=1e-3)
    assert estimate.high == pytest.approx(44.2016, abs=1e-3)
    assert estimate.n == 100
    assert estimate.kind is EstimateKind.NPS


def test_nps_standard_error_is_the_trinomial_one():
    # Var(p - d) = (p + d - (p - d)²)/n = (0.5 + 0.2 - 0.09)/100 = 0.0061
    assert nps_from_counts(50, 30, 20).standard_error == pytest.approx(100 * math.sqrt(0.0061))


def test_nps_standard_error_equals_that_of_the_mean_of_plus_minus_one_scores():
    scores = np.array([1] * 37 + [0] * 41 + [-1] * 22)
    reference = 100 * scores.std(ddof=0) / math.sqrt(scores.size)
    assert nps_from_counts(37, 41, 22).standard_error == pytest.approx(reference)


def test_nps_interval_never_collapses_when_everyone_is_a_promoter():
    estimate = nps_from_counts(40, 0, 0)
    assert estimate.value == 100.0
    assert estimate.low is not None and estimate.low < 95.0
    assert estimate.high == pytest.approx(100.0)


def test_nps_sorts_scores_into_promoters_passives_and_detractors():
    scores = [10, 9, 8, 7, 6, 0] * 10  # 20 promoters, 20 passives, 20 detractors
    assert nps(scores).value == pytest.approx(0.0)
    assert nps([9] * 30 + [6] * 10).value == pytest.approx(50.0)


def test_nps_under_min_n_is_too_few():
    estimate = nps([10] * 29)
    assert estimate.too_few and estimate.value is None and estimate.n == 29


def test_nps_rejects_a_score_off_the_scale_and_says_where():
    with pytest.raises(MetricsError, match="score 11 at position 2 is outside 0..10"):
        nps([10, 9, 11])


def test_mean_estimate_matches_scipy_t_interval():
    rng = np.random.default_rng(7)
    scores = rng.integers(1, 6, size=57).astype(float)
    estimate = mean_estimate(scores.size, scores.sum(), (scores**2).sum())
    low, high = stats.t.interval(0.95, scores.size - 1, loc=scores.mean(), scale=stats.sem(scores))
    assert estimate.value == pytest.approx(scores.mean())
    assert (estimate.low, estimate.high) == pytest.approx((low, high))
    assert estimate.standard_error == pytest.approx(stats.sem(scores))


def test_mean_estimate_by_hand():
    # n = 40, sum = 160, sum of squares = 700: mean 4, s² = (700 - 640)/39, se = √(60/39/40)
    estimate = mean_estimate(40, 160, 700)
    se = math.sqrt(60 / 39 / 40)
    assert estimate.standard_error == pytest.approx(se)
    assert estimate.high == pytest.approx(4 + 2.022691 * se, abs=1e-6)


def test_mean_of_identical_scores_has_a_zero_width_interval():
    estimate = mean_estimate(30, 150, 750)
    assert (estimate.low, estimate.value, estimate.high) == pytest.approx((5, 5, 5))


def test_mean_under_min_n_is_too_few():
    assert mean_estimate(12, 48, 200, min_n=30).too_few


def test_rating_mean_checks_the_scale():
    assert rating_mean([1, 2, 3] * 10, scale_min=1, scale_max=3).value == pytest.approx(2.0)
    with pytest.raises(MetricsError, match="position 1"):
        rating_mean([1, 0], scale_min=1, scale_max=3)


def test_top2box_counts_the_two_top_boxes():
    scores = [5] * 10 + [4] * 14 + [3] * 6 + [1] * 10  # 24 of 40 in 4-5
    estimate = top2box(scores, 5)
    assert estimate.value == pytest.approx(60.0)
    assert estimate.n == 40


def test_csat_gives_mean_and_top2box():
    result = csat([5, 4, 3, 5, 4] * 10)
    assert result.mean.value == pytest.approx(4.2)
    assert result.top2box.value == pytest.approx(80.0)
    assert result.mean.n == result.top2box.n == 50


def test_ces_is_a_mean_on_a_one_to_seven_scale():
    assert ces([7, 6, 2] * 10).value == pytest.approx(5.0)
    with pytest.raises(MetricsError, match="outside 1..7"):
        ces([8] * 30)


def test_response_rate_is_responses_per_invitation():
    estimate = response_rate(120, 400)
    assert estimate.value == pytest.approx(30.0)
    assert estimate.n == 400
    with pytest.raises(MetricsError, match="more than 10 invitations"):
        response_rate(11, 10)


def test_bool_is_not_a_score():
    with pytest.raises(MetricsError, match="not a number"):
        nps([True] * 30)


CSI = CompositeIndex(
    "csi",
    (IndexItem("waiting", 2.0, 1, 5), IndexItem("quality", 1.0, 0, 10)),
)


def sums(values):
    array = np.asarray(values, dtype=float)
    return MeanSums(array.size, float(array.sum()), float((array**2).sum()))


def test_composite_index_rescales_and_weights_by_hand():
    # waiting mean 4 on 1-5 → 75; quality mean 8 on 0-10 → 80; (2·75 + 1·80)/3 = 76.667
    waiting = [4] * 40
    quality = [8] * 40
    estimate = CSI.from_item_sums({"waiting": sums(waiting), "quality": sums(quality)})
    assert estimate.value == pytest.approx(230 / 3)
    assert estimate.kind is EstimateKind.INDEX


def test_composite_index_from_rows_is_the_t_interval_of_respondent_indices():
    rng = np.random.default_rng(3)
    waiting = rng.integers(1, 6, 60)
    quality = np.clip(waiting * 2 + rng.integers(-2, 3, 60), 0, 10)
    rows = [
        {"waiting": float(w), "quality": float(q)} for w, q in zip(waiting, quality, strict=True)
    ]
    per_respondent = (2 * 25 * (waiting - 1) + 10 * quality) / 3
    estimate = CSI.from_rows(rows)
    low, high = stats.t.interval(
        0.95, 59, loc=per_respondent.mean(), scale=stats.sem(per_respondent)
    )
    assert estimate.value == pytest.approx(per_respondent.mean())
    assert (estimate.low, estimate.high) == pytest.approx((low, high))


def test_composite_index_from_item_sums_is_conservative():
    rng = np.random.default_rng(4)
    waiting = rng.integers(1, 6, 80)
    quality = rng.integers(0, 11, 80)  # unrelated items: the exact CI is narrower
    rows = [
        {"waiting": float(w), "quality": float(q)} for w, q in zip(waiting, quality, strict=True)
    ]
    exact = CSI.from_rows(rows)
    bound = CSI.from_item_sums({"waiting": sums(waiting), "quality": sums(quality)})
    assert bound.value == pytest.approx(exact.value)
    assert bound.standard_error >= exact.standard_error


def test_composite_index_with_a_thin_item_is_too_few():
    estimate = CSI.from_item_sums({"waiting": sums([4] * 40), "quality": sums([8] * 10)})
    assert estimate.too_few and estimate.value is None and estimate.n == 10


def test_composite_index_names_a_missing_item():
    with pytest.raises(MetricsError, match="no scores given for item 'quality'"):
        CSI.from_item_sums({"waiting": sums([4] * 40)})
    with pytest.raises(MetricsError, match="row 0: item 'quality' is not answered"):
        CSI.from_rows([{"waiting": 4.0}])


def test_composite_index_rejects_bad_definitions():
    with pytest.raises(MetricsError, match="weight must be positive"):
        IndexItem("x", 0.0, 1, 5)
    with pytest.raises(MetricsError, match="is empty"):
        IndexItem("x", 1.0, 5, 5)
    with pytest.raises(MetricsError, match="twice"):
        CompositeIndex("csi", (IndexItem("x", 1, 1, 5), IndexItem("x", 1, 1, 5)))


@given(
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=0, max_value=300),
)
def test_nps_interval_always_holds_the_observed_nps(promoters, passives, detractors):
    if promoters + passives + detractors == 0:
        return
    estimate = nps_from_counts(promoters, passives, detractors, min_n=1)
    assert -100.0 <= estimate.low <= estimate.value <= estimate.high <= 100.0


def test_estimate_as_text_never_shows_a_number_for_too_few():
    assert proportion(30, 100).as_text() == "30.0 (95% CI 21.9 to 39.6, n=100)"
    assert proportion(3, 10).as_text() == "too few responses (n=10)"


def test_mean_estimate_accepts_decimal_sums_from_the_database():
    estimate = mean_estimate(40, Decimal("160"), Decimal("700"))
    assert estimate.value == pytest.approx(4.0)
    assert estimate.standard_error == pytest.approx(math.sqrt(60 / 39 / 40))
