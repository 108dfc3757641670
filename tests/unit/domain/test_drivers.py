"""Key drivers: Johnson's relative weights, exact Shapley R² decomposition, quadrant."""

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from tiyan.domain.drivers import (
    Quadrant,
    correlations_from_matrix,
    correlations_from_rows,
    importance_performance,
    johnson_weights,
    r_squared,
    shapley_weights,
)
from tiyan.domain.metrics import MetricsError

TELCO = Path("/work/shared/data/telco_churn/telco_churn.csv")


def correlated_data(seed: int, n: int = 400, p: int = 4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    x[:, 1] += 0.8 * x[:, 0]
    if p > 2:
        x[:, 2] += 0.5 * x[:, 1]
    y = x @ np.linspace(1.0, 0.2, p) + rng.normal(size=n)
    return x, y, [f"item{j}" for j in range(p)]


def regression_r_squared(x: np.ndarray, y: np.ndarray, columns) -> float:
    """R² of an ordinary least-squares fit with intercept on raw data (independent of drivers)."""
    design = np.column_stack([np.ones(len(y)), x[:, list(columns)]])
    residuals = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return 1 - residuals @ residuals / ((y - y.mean()) @ (y - y.mean()))


def johnson_by_svd(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson's weights written differently: the SVD of the standardised data."""
    n = len(y)
    xs = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    u, s, vt = np.linalg.svd(xs, full_matrices=False)
    z = math.sqrt(n - 1) * u @ vt  # the orthogonal variables closest to xs
    loadings = vt.T @ np.diag(s) @ vt / math.sqrt(n - 1)  # xs = z @ loadings
    betas = z.T @ ys / (n - 1)
    return (loadings**2) @ (betas**2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weights_of_both_methods_add_up_to_r_squared(seed):
    x, y, names = correlated_data(seed)
    corr = correlations_from_rows(x.tolist(), y.tolist(), names)
    full = regression_r_squared(x, y, range(x.shape[1]))
    for importance in (johnson_weights(corr), shapley_weights(corr)):
        assert importance.r_squared == pytest.approx(full)
        assert sum(importance.weights) == pytest.approx(full)
        assert sum(importance.shares().values()) == pytest.approx(100.0)


def test_uncorrelated_items_get_their_squared_standardised_betas():
    rng = np.random.default_rng(5)
    raw = rng.normal(size=(200, 3))
    x, _ = np.linalg.qr(raw - raw.mean(axis=0))  # exactly uncorrelated, centred columns
    y = x @ [3.0, -2.0, 0.5] + 0.05 * rng.normal(size=200)
    corr = correlations_from_rows(x.tolist(), y.tolist(), ["a", "b", "c"])
    xs = x / x.std(axis=0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    betas = np.linalg.lstsq(xs, ys, rcond=None)[0]
    assert johnson_weights(corr).weights == pytest.approx(tuple(betas**2), abs=1e-9)
    assert shapley_weights(corr).weights == pytest.approx(tuple(betas**2), abs=1e-9)


def test_shapley_matches_a_brute_force_over_all_orders_for_three_items():
    x, y, names = correlated_data(8, p=3)
    brute = np.zeros(3)
    orders = list(itertools.permutations(range(3)))
    for order in orders:
        for position, item in enumerate(order):
            before = regression_r_squared(x, y, order[:position]) if position else 0.0
            brute[item] += regression_r_squared(x, y, order[: position + 1]) - before
    brute /= len(orders)
    corr = correlations_from_rows(x.tolist(), y.tolist(), names)
    assert shapley_weights(corr).weights == pytest.approx(tuple(brute), abs=1e-10)


def test_johnson_and_shapley_agree_closely_on_correlated_data():
    x, y, names = correlated_data(9, n=1000, p=6)
    corr = correlations_from_rows(x.tolist(), y.tolist(), names)
    johnson, shapley = johnson_weights(corr), shapley_weights(corr)
    for name, share in johnson.shares().items():  # within 2.5 percentage points of R²
        assert shapley.shares()[name] == pytest.approx(share, abs=2.5)
    assert np.argsort(johnson.weights).tolist() == np.argsort(shapley.weights).tolist()


def telco_rows():
    rows, churn = [], []
    with TELCO.open(encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            total = record["TotalCharges"].strip()
            rows.append(
                [
                    float(record["tenure"]),
                    float(record["MonthlyCharges"]),
                    float(total) if total else math.nan,
                ]
            )
            churn.append(1.0 if record["Churn"] == "Yes" else 0.0)
    return np.array(rows), np.array(churn)


@pytest.mark.skipif(not TELCO.exists(), reason="shared telco_churn data not present")
def test_johnson_weights_on_telco_churn_match_an_svd_implementation():
    # outcome: churned (1/0); predictors tenure, MonthlyCharges, TotalCharges (11 blanks dropped)
    x, y = telco_rows()
    corr = correlations_from_rows(
        x.tolist(), y.tolist(), ["tenure", "MonthlyCharges", "TotalCharges"]
    )
    complete = ~np.isnan(x).any(axis=1)
    assert corr.n == complete.sum() == 7032
    reference = johnson_by_svd(x[complete], y[complete])
    johnson = johnson_weights(corr)
    assert johnson.weights == pytest.approx(tuple(reference), abs=1e-12)
    assert johnson.r_squared == pytest.approx(
        regression_r_squared(x[complete], y[complete], range(3))
    )
    # TotalCharges ≈ tenure × MonthlyCharges is highly collinear: the methods split R² = 0.2247
    # differently (Johnson 35.9/37.2/26.9 %, Shapley 40.3/35.8/23.8 %) but stay within 5 points
    shapley = shapley_weights(corr)
    for name, share in johnson.shares().items():
        assert shapley.shares()[name] == pytest.approx(share, abs=5.0)


def test_correlation_matrix_input_gives_the_same_weights_as_rows():
    x, y, names = correlated_data(12)
    from_rows = correlations_from_rows(x.tolist(), y.tolist(), names)
    matrix = np.corrcoef(np.column_stack([y, x]), rowvar=False)
    from_matrix = correlations_from_matrix(matrix.tolist(), ["nps", *names], outcome="nps")
    assert from_matrix.predictors == tuple(names)
    assert johnson_weights(from_matrix).weights == pytest.approx(johnson_weights(from_rows).weights)
    assert shapley_weights(from_matrix).weights == pytest.approx(shapley_weights(from_rows).weights)


def test_rows_with_a_missing_value_are_dropped():
    x, y, names = correlated_data(13, n=100, p=2)
    x[0, 1] = math.nan
    corr = correlations_from_rows(x.tolist(), y.tolist(), names)
    assert corr.n == 99
    assert r_squared(corr) == pytest.approx(regression_r_squared(x[1:], y[1:], [0, 1]))


def test_invalid_inputs_are_refused_with_a_reason():
    with pytest.raises(MetricsError, match="no variation in \\['b'\\]"):
        correlations_from_rows([[1, 2], [2, 2], [3, 2], [4, 2]], [1, 2, 3, 5], ["a", "b"])
    with pytest.raises(MetricsError, match="symmetric"):
        correlations_from_matrix([[1, 0.5], [0.2, 1]], ["a", "y"], outcome="y")
    with pytest.raises(MetricsError, match="not a valid correlation matrix"):
        correlations_from_matrix(
            [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]], ["a", "b", "y"], outcome="y"
        )


def test_shapley_refuses_more_than_fifteen_items():
    x, y, names = correlated_data(14, n=100, p=16)
    corr = correlations_from_rows(x.tolist(), y.tolist(), names)
    with pytest.raises(MetricsError, match="16 predictors, 1 to 15 allowed"):
        shapley_weights(corr)


def test_quadrant_splits_at_the_mean_of_each_axis():
    importance = {"waiting": 0.30, "charges": 0.25, "lounge": 0.05, "clean": 0.00}
    performance = {"waiting": 70.0, "charges": 90.0, "lounge": 95.0, "clean": 60.0}
    points = {p.item: p.quadrant for p in importance_performance(importance, performance)}
    # importance mean 0.15, performance mean 78.75
    assert points == {
        "waiting": Quadrant.FIX_FIRST,
        "charges": Quadrant.KEEP_UP,
        "lounge": Quadrant.OVER_INVESTED,
        "clean": Quadrant.LOW_PRIORITY,
    }


def test_quadrant_uses_given_splits_and_counts_the_split_value_as_high():
    points = importance_performance(
        {"a": 0.2, "b": 0.1},
        {"a": 80.0, "b": 79.0},
        importance_split=0.1,
        performance_split=80.0,
    )
    assert [p.quadrant for p in points] == [Quadrant.KEEP_UP, Quadrant.FIX_FIRST]


def test_quadrant_needs_the_same_items_on_both_axes():
    with pytest.raises(MetricsError, match="differ"):
        importance_performance({"a": 0.1}, {"b": 3.0})


def test_none_counts_as_a_missing_value():
    x, y, names = correlated_data(15, n=50, p=2)
    rows = x.tolist()
    rows[3][0] = None
    assert correlations_from_rows(rows, y.tolist(), names).n == 49
