"""What a driver sample can tell: the sample a ranking needs, adjusted R² and its chance
baseline, bootstrap intervals and rank ranges, near-constant items, quadrants per scale. Each
figure is recomputed here another way (least squares on the raw rows, a resampling loop over
the rows with pairwise-complete correlations)."""

import numpy as np
import pytest

from tiyan.domain.drivers import (
    FLAT_SHARE,
    RESAMPLES,
    SEED,
    Bootstrap,
    Quadrant,
    RespondentValues,
    adjusted_r_squared,
    bootstrap_shares,
    chance_r_squared,
    importance_performance_by_scale,
    modal_share,
    needed_n,
    rank_ranges,
)
from tiyan.domain.metrics import MetricsError


def ols_r_squared(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), x])
    residuals = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(1 - residuals @ residuals / ((y - y.mean()) @ (y - y.mean())))


def test_a_ranking_needs_ten_responses_per_item_and_never_fewer_than_min_n():
    assert needed_n(16, 30) == 160
    assert needed_n(2, 30) == 30
    assert needed_n(16, 30, per_item=5) == 80


def test_pure_noise_at_n_38_with_16_items_explains_about_16_of_37_and_adjusts_to_zero():
    """The issue's case: 16 items unrelated to the outcome in 38 responses."""
    rng = np.random.default_rng(4)
    draws = [ols_r_squared(rng.normal(size=(38, 16)), rng.normal(size=38)) for _ in range(2000)]
    assert np.mean(draws) == pytest.approx(chance_r_squared(38, 16), abs=0.01)
    assert chance_r_squared(38, 16) == pytest.approx(16 / 37)
    adjusted = [adjusted_r_squared(r2, 38, 16) for r2 in draws]
    assert np.mean(adjusted) == pytest.approx(0.0, abs=0.02)  # unbiased under the null
    assert needed_n(16, 30) > 38  # and the page does not rank them


def test_adjusted_r_squared_is_the_textbook_formula():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 4))
    y = x @ [1.0, 0.5, 0.0, 0.0] + rng.normal(size=120)
    r2 = ols_r_squared(x, y)
    want = 1 - (1 - r2) * (120 - 1) / (120 - 4 - 1)
    assert adjusted_r_squared(r2, 120, 4) == pytest.approx(want)
    assert adjusted_r_squared(0.9, 5, 4) is None  # no degrees of freedom left


def test_modal_share_is_the_share_of_the_most_common_answer():
    assert modal_share([1] * 37 + [0]) == pytest.approx(37 / 38)
    assert modal_share([1, 2, 3, 3]) == 0.5
    assert modal_share([]) == 0.0
    assert 37 / 38 >= FLAT_SHARE > 0.9


def values_of(frame: np.ndarray, codes: list[str]) -> RespondentValues:
    """Respondent values from a respondents × codes array with NaN for an unanswered code."""
    present = ~np.isnan(frame)
    total = np.where(present, frame, 0.0)
    return RespondentValues(tuple(codes), total, present.astype(float), total**2)


def pairwise_corr(frame: np.ndarray) -> np.ndarray:
    """Pearson correlations, each over the rows that hold both columns (0 without variation)."""
    k = frame.shape[1]
    out = np.eye(k)
    for a in range(k):
        for b in range(a + 1, k):
            both = ~np.isnan(frame[:, a]) & ~np.isnan(frame[:, b])
            xa, xb = frame[both, a], frame[both, b]
            if both.sum() < 2 or xa.std() == 0 or xb.std() == 0:
                continue
            out[a, b] = out[b, a] = np.corrcoef(xa, xb)[0, 1]
    return out


def shares_by_svd(corr: np.ndarray) -> np.ndarray:
    """Johnson's shares from a correlation matrix (outcome last) via the SVD of Rxx."""
    rxx, rxy = corr[:-1, :-1], corr[:-1, -1]
    u, s, vt = np.linalg.svd(rxx)
    root = u @ np.diag(np.sqrt(s)) @ vt
    betas = np.linalg.solve(root, rxy)
    weights = (root**2) @ (betas**2)
    return 100 * weights / weights.sum()


def test_bootstrap_shares_match_a_plain_resampling_loop_with_the_same_seed():
    rng = np.random.default_rng(9)
    n = 160
    x = rng.integers(1, 6, size=(n, 3)).astype(float)
    yes = (rng.random(n) < 0.7).astype(float)
    y = x @ [0.6, 0.3, 0.1] + 0.8 * yes + rng.normal(0, 0.6, n)
    frame = np.column_stack([x, yes, y])
    frame[::7, 2] = np.nan  # some skip an item: pairwise bases differ
    codes = ["quality", "speed", "price", "on_time", "nps"]
    boot = bootstrap_shares(values_of(frame, codes), codes[:-1], "nps")
    draw = np.random.default_rng(SEED)
    want = np.array([shares_by_svd(pairwise_corr(frame[draw.integers(0, n, n)]))
                     for _ in range(RESAMPLES)])
    assert boot.shares == pytest.approx(want, abs=1e-9)
    low, high = np.percentile(want, [2.5, 97.5], axis=0)
    intervals = boot.interval()
    for j, code in enumerate(codes[:-1]):
        assert intervals[code] == pytest.approx((low[j], high[j]))
    # the same data give the same intervals, whatever ran before
    again = bootstrap_shares(values_of(frame, codes), codes[:-1], "nps")
    assert np.array_equal(again.shares, boot.shares)


def test_an_item_constant_in_a_resample_gets_no_share_there():
    rng = np.random.default_rng(2)
    n = 40
    rare = np.zeros(n)
    rare[0] = 1.0  # answered "yes" once: most resamples miss it
    x = rng.integers(1, 6, size=n).astype(float)
    y = x + rng.normal(size=n)
    codes = ["x", "rare", "y"]
    boot = bootstrap_shares(values_of(np.column_stack([x, rare, y]), codes), codes[:-1], "y")
    missed = np.random.default_rng(SEED)
    drawn = [0 in missed.integers(0, n, n) for _ in range(RESAMPLES)]
    assert np.all(boot.shares[~np.array(drawn), 1] == 0.0)
    assert np.all(boot.shares[~np.array(drawn), 0] == pytest.approx(100.0))


def test_rank_ranges_and_narrowing():
    shares = np.array([[50.0, 30.0, 20.0], [30.0, 50.0, 20.0], [55.0, 25.0, 20.0],
                       [52.0, 28.0, 20.0]])
    boot = Bootstrap(("a", "b", "c"), shares)
    ranks = rank_ranges(boot)
    assert ranks["c"] == (3, 3)
    assert ranks["a"][0] == 1 and ranks["a"][1] == 2 and ranks["b"] == (1, 2)
    narrow = boot.narrowed([50.0, 30.0, 20.0], 0.5)
    assert narrow.shares[1] == pytest.approx([40.0, 40.0, 20.0])


def test_quadrants_compare_performance_within_each_scale():
    """The issue's case: yes/no items (% yes, high) and 1–5 items (top-2-box, lower) on one
    axis made every 1–5 item "fix first"; within each scale, each has items above and below."""
    importance = {"advisor": 30.0, "quality": 25.0, "lounge": 5.0, "on_time": 20.0,
                  "refreshments": 5.0, "follow_up": 20.0}
    performance = {"advisor": 47.0, "quality": 69.0, "lounge": 68.0, "on_time": 83.0,
                   "refreshments": 91.0, "follow_up": 69.0}
    scale = {"advisor": "1-5", "quality": "1-5", "lounge": "1-5", "on_time": "yesno",
             "refreshments": "yesno", "follow_up": "yesno"}
    relative, quadrants = importance_performance_by_scale(importance, performance, scale)
    ratings = (47.0 + 69.0 + 68.0) / 3
    assert relative["advisor"] == pytest.approx(47.0 - ratings)
    assert relative["refreshments"] == pytest.approx(91.0 - (83.0 + 91.0 + 69.0) / 3)
    assert quadrants == {"advisor": Quadrant.FIX_FIRST, "quality": Quadrant.KEEP_UP,
                         "lounge": Quadrant.OVER_INVESTED, "on_time": Quadrant.KEEP_UP,
                         "refreshments": Quadrant.OVER_INVESTED,
                         "follow_up": Quadrant.FIX_FIRST}
    alone, placed = importance_performance_by_scale({"a": 1.0, "b": 2.0}, {"a": 50.0, "b": 60.0},
                                                    {"a": "1-5", "b": "yesno"})
    assert placed == {"a": None, "b": None} and alone == {"a": 0.0, "b": 0.0}
    with pytest.raises(MetricsError):
        importance_performance_by_scale({"a": 1.0}, {"a": 2.0}, {})
