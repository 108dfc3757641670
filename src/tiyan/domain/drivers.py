"""Key drivers: how much of an outcome's variance (R²) each item accounts for.

Two methods, both splitting the R² of the linear regression of the outcome on all items:

- Johnson's relative weights (2000): the items are replaced by their closest orthogonal
  counterparts Z = X·R^(-1/2); the outcome is regressed on Z (betas b = R^(-1/2)·r_xy) and each
  item's weight is sum_k (R^(1/2))_jk² · b_k².
- Shapley decomposition (LMG): each item's average gain in R² over all orders in which items can
  enter the regression, computed exactly from the R² of all 2^p subsets (p <= 15).

Both work from a correlation matrix, which `correlations_from_rows` builds from raw rows
(rows with a missing value are dropped as a whole). `importance_performance` places each item in
the importance × performance quadrant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from tiyan.domain.metrics import MetricsError

MAX_SHAPLEY_PREDICTORS = 15
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Correlations:
    """Correlations among the predictors (rxx) and between each predictor and the outcome (rxy)."""

    predictors: tuple[str, ...]
    rxx: FloatArray
    rxy: FloatArray
    n: int | None = None  # rows behind the correlations, when known


@dataclass(frozen=True)
class Importance:
    """Relative importance of each predictor; the weights add up to `r_squared`."""

    method: str
    predictors: tuple[str, ...]
    weights: tuple[float, ...]
    r_squared: float

    def by_predictor(self) -> dict[str, float]:
        return dict(zip(self.predictors, self.weights, strict=True))

    def shares(self) -> dict[str, float]:
        """Each weight as a percent of R² (the "rescaled" relative weights)."""
        if self.r_squared <= 0:
            raise MetricsError(f"{self.method}: R² is {self.r_squared}, no shares to give")
        return {name: 100 * w / self.r_squared for name, w in self.by_predictor().items()}


# --- correlations ------------------------------------------------------------------------------


def correlations_from_rows(
    rows: Sequence[Sequence[float]], outcome: Sequence[float], predictors: Sequence[str]
) -> Correlations:
    """Pearson correlations from raw rows (one list of predictor values per respondent)."""
    x = np.asarray(rows, dtype=float)
    y = np.asarray(outcome, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(predictors) or x.shape[0] != y.shape[0]:
        raise MetricsError(
            f"drivers: rows are {x.shape}, outcome has {y.shape[0]} values, "
            f"{len(predictors)} predictors named"
        )
    complete = ~(np.isnan(x).any(axis=1) | np.isnan(y))
    data = np.column_stack([x[complete], y[complete]])
    n = data.shape[0]
    if n < len(predictors) + 2:
        raise MetricsError(f"drivers: {n} complete rows for {len(predictors)} predictors")
    constant = [
        name for name, sd in zip([*predictors, "outcome"], data.std(axis=0), strict=True) if sd == 0
    ]
    if constant:
        raise MetricsError(f"drivers: no variation in {constant}")
    matrix = np.corrcoef(data, rowvar=False)
    return Correlations(tuple(predictors), matrix[:-1, :-1], matrix[:-1, -1], n)


def correlations_from_matrix(
    matrix: Sequence[Sequence[float]], names: Sequence[str], outcome: str
) -> Correlations:
    """Split a full correlation matrix (predictors and outcome, in `names` order)."""
    r = np.asarray(matrix, dtype=float)
    if r.shape != (len(names), len(names)) or outcome not in names:
        raise MetricsError(f"drivers: matrix {r.shape} does not match names {list(names)}")
    if not np.allclose(r, r.T) or not np.allclose(np.diag(r), 1.0):
        raise MetricsError("drivers: a correlation matrix must be symmetric with 1 on the diagonal")
    if np.linalg.eigvalsh(r).min() < -1e-8:
        raise MetricsError("drivers: the matrix is not a valid correlation matrix")
    keep = [i for i, name in enumerate(names) if name != outcome]
    out = names.index(outcome)
    predictors = tuple(names[i] for i in keep)
    return Correlations(predictors, r[np.ix_(keep, keep)], r[keep, out])


# --- R² and the two decompositions -------------------------------------------------------------


def r_squared(corr: Correlations, subset: Sequence[int] | None = None) -> float:
    """R² of the outcome regressed on the predictors in `subset` (all by default)."""
    index = list(range(len(corr.predictors))) if subset is None else list(subset)
    if not index:
        return 0.0
    rxx = corr.rxx[np.ix_(index, index)]
    rxy = corr.rxy[index]
    beta = np.linalg.lstsq(rxx, rxy, rcond=None)[0]
    return float(rxy @ beta)


def symmetric_square_root(matrix: FloatArray) -> FloatArray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def johnson_weights(corr: Correlations) -> Importance:
    """Johnson's relative weights; they add up to the full model's R²."""
    root = symmetric_square_root(corr.rxx)
    betas = np.linalg.lstsq(root, corr.rxy, rcond=None)[0]
    weights = (root**2) @ (betas**2)
    return Importance("johnson", corr.predictors, tuple(map(float, weights)), r_squared(corr))


def subset_r_squared(corr: Correlations) -> list[float]:
    """R² of every subset of predictors, indexed by the subset's bit mask."""
    p = len(corr.predictors)
    return [r_squared(corr, [j for j in range(p) if mask >> j & 1]) for mask in range(1 << p)]


def shapley_weights(corr: Correlations) -> Importance:
    """Exact Shapley values of R² over all subsets (p <= 15); they add up to the full R²."""
    p = len(corr.predictors)
    if not 1 <= p <= MAX_SHAPLEY_PREDICTORS:
        raise MetricsError(
            f"shapley_weights: {p} predictors, 1 to {MAX_SHAPLEY_PREDICTORS} allowed"
        )
    gains = subset_r_squared(corr)
    order_weight = [
        math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p) for size in range(p)
    ]
    weights = [0.0] * p
    for mask in range(1 << p):
        size = mask.bit_count()
        for j in range(p):
            if not mask >> j & 1:
                weights[j] += order_weight[size] * (gains[mask | 1 << j] - gains[mask])
    return Importance("shapley", corr.predictors, tuple(weights), gains[-1])


# --- importance × performance ------------------------------------------------------------------


class Quadrant(StrEnum):
    FIX_FIRST = "fix_first"  # high importance, low performance
    KEEP_UP = "keep_up"  # high importance, high performance
    OVER_INVESTED = "over_invested"  # low importance, high performance
    LOW_PRIORITY = "low_priority"  # low importance, low performance


@dataclass(frozen=True)
class DriverPoint:
    item: str
    importance: float
    performance: float
    quadrant: Quadrant


def quadrant_of(high_importance: bool, high_performance: bool) -> Quadrant:
    if high_importance:
        return Quadrant.KEEP_UP if high_performance else Quadrant.FIX_FIRST
    return Quadrant.OVER_INVESTED if high_performance else Quadrant.LOW_PRIORITY


def importance_performance(
    importance: Mapping[str, float],
    performance: Mapping[str, float],
    *,
    importance_split: float | None = None,
    performance_split: float | None = None,
) -> list[DriverPoint]:
    """Place each item in a quadrant; an axis splits at its mean unless a split is given.

    A value equal to the split counts as high.
    """
    if set(importance) != set(performance) or not importance:
        raise MetricsError(
            f"quadrant: importance items {sorted(importance)} differ from "
            f"performance items {sorted(performance)}"
        )
    items = list(importance)
    i_split = mean_of(importance.values()) if importance_split is None else importance_split
    p_split = mean_of(performance.values()) if performance_split is None else performance_split
    return [
        DriverPoint(
            item,
            importance[item],
            performance[item],
            quadrant_of(importance[item] >= i_split, performance[item] >= p_split),
        )
        for item in items
    ]


def mean_of(values: Iterable[float]) -> float:
    numbers = list(values)
    return sum(numbers) / len(numbers)
