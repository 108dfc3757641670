"""Relative weights with comment aspects as extra predictors (+1 positive, -1 negative, 0 not
mentioned) next to rated items: Johnson's weights and the Shapley decomposition add up to the R²
of a least-squares fit, Shapley equals a brute-force computation with numpy's lstsq over every
subset, and the page's analysis from pair sums equals the complete-case computation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tiyan.analytics import drivers_view as dv
from tiyan.domain.drivers import correlations_from_rows, johnson_weights, shapley_weights

NAMES = ["sat_quality", "sat_speed", "aspect:advisor_attitude", "aspect:price"]


def dataset(n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    quality = rng.integers(1, 6, n).astype(float)
    speed = rng.integers(1, 6, n).astype(float)
    attitude = np.sign(quality - 3 + rng.normal(0, 1.5, n)) * (rng.random(n) < 0.6)
    price = -1.0 * (rng.random(n) < 0.3)  # only ever blamed, at random
    y = 0.8 * quality + 0.3 * speed + 1.2 * attitude + 0.1 * price + rng.normal(0, 1, n)
    return np.column_stack([quality, speed, attitude, price]), y


def lstsq_r2(x: np.ndarray, y: np.ndarray, columns: tuple[int, ...]) -> float:
    if not columns:
        return 0.0
    design = np.column_stack([np.ones(len(y)), x[:, list(columns)]])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def brute_shapley(x: np.ndarray, y: np.ndarray) -> list[float]:
    p = x.shape[1]
    out = []
    for j in range(p):
        others = [k for k in range(p) if k != j]
        value = 0.0
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                value += weight * (lstsq_r2(x, y, (*subset, j)) - lstsq_r2(x, y, subset))
        out.append(value)
    return out


def test_shapley_with_aspect_predictors_equals_brute_force_lstsq():
    x, y = dataset()
    corr = correlations_from_rows(x.tolist(), y.tolist(), NAMES)
    shapley = shapley_weights(corr)
    assert list(shapley.weights) == pytest.approx(brute_shapley(x, y), abs=1e-9)
    assert shapley.r_squared == pytest.approx(lstsq_r2(x, y, (0, 1, 2, 3)), abs=1e-9)
    johnson = johnson_weights(corr)
    assert sum(johnson.weights) == pytest.approx(shapley.r_squared, abs=1e-9)
    # the aspect that moves the outcome outweighs the one blamed at random, by both methods
    for result in (shapley, johnson):
        weights = result.by_predictor()
        assert weights["aspect:advisor_attitude"] > weights["aspect:price"]
        assert weights["sat_quality"] > weights["sat_speed"]


def pairs_of(x: np.ndarray, y: np.ndarray) -> dv.Pairs:
    columns = {name: x[:, j] for j, name in enumerate(NAMES)} | {"nps": y}
    out: dv.Pairs = {}
    for a, b in itertools.combinations_with_replacement(sorted(columns), 2):
        va, vb = columns[a], columns[b]
        top = int((va > 0).sum()) if a.startswith("aspect:") else int((va >= 4).sum())
        out[(a, b)] = dv.PairSums(len(va), float(va.sum()), float(vb.sum()), float(va @ va),
                                  float(vb @ vb), float(va @ vb), top)
    return out


def test_the_page_analysis_from_pair_sums_equals_the_complete_case_weights():
    x, y = dataset()
    analysis = dv.analyse(pairs_of(x, y), "nps", min_n=30)
    want = johnson_weights(correlations_from_rows(x.tolist(), y.tolist(), NAMES))
    assert {d.item: d.weight for d in analysis.drivers} == pytest.approx(want.by_predictor())
    assert analysis.r_squared == pytest.approx(want.r_squared)
    attitude = next(d for d in analysis.drivers if d.item == "aspect:advisor_attitude")
    assert attitude.from_comments and attitude.code == "advisor_attitude"
    mentioned = x[:, 2] != 0
    assert attitude.performance == pytest.approx(100 * (x[:, 2] > 0).sum() / mentioned.sum())
    price = next(d for d in analysis.drivers if d.item == "aspect:price")
    assert price.performance == 0.0  # never praised
    assert not next(d for d in analysis.drivers if d.item == "sat_quality").from_comments


def test_an_aspect_with_fewer_mentions_than_min_n_is_named_with_its_mentions():
    x, y = dataset()
    x[:, 3] = 0.0
    x[:5, 3] = -1.0  # five comments blame the price
    analysis = dv.analyse(pairs_of(x, y), "nps", min_n=30)
    assert dict(analysis.left_out) == {"aspect:price": 5}
    assert "aspect:price" not in {d.item for d in analysis.drivers}
