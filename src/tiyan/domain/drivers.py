"""Key drivers: how much of an outcome's variance (R²) each item accounts for.

Two methods, both splitting the R² of the linear regression of the outcome on all items:

- Johnson's relative weights (2000): the items are replaced by their closest orthogonal
  counterparts Z = X·R^(-1/2); the outcome is regressed on Z (betas b = R^(-1/2)·r_xy) and each
  item's weight is sum_k (R^(1/2))_jk² · b_k².
- Shapley decomposition (LMG): each item's average gain in R² over all orders in which items can
  enter the regression, computed exactly from the R² of all 2^p subsets (p <= 15).

Both work from a correlation matrix, which `correlations_from_rows` builds from raw rows
(rows with a missing value are dropped as a whole). `importance_performance` places each item in
the importance × performance quadrant; `importance_performance_by_scale` does it with each item's
performance measured against the items on the same scale.

Knowing the limits (docs/metrics.md, "Key drivers"): `needed_n` is the sample a ranking needs
(10 responses per item, never fewer than the minimum n); `adjusted_r_squared` takes off what
p items explain by chance in n responses (`chance_r_squared`, p/(n − 1) on average);
`bootstrap_shares` resamples the respondents to give every share a percentile interval and
every rank a range (`rank_ranges`).
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
PER_ITEM = 10  # responses per item a ranking needs (never fewer than the minimum n)
FLAT_SHARE = 0.95  # an item whose most common answer is this share of its answers is left out
RESAMPLES = 200  # bootstrap resamples of the respondents
SEED = 17  # the bootstrap's fixed seed: the same data give the same intervals on every page
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
            raise MetricsError("drivers.r_no_shares", method=self.method, r_squared=self.r_squared)
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
            "drivers.drivers_rows_outcome_values", shape=x.shape, shape2=y.shape[0],
            n_predictors=len(predictors)
        )
    complete = ~(np.isnan(x).any(axis=1) | np.isnan(y))
    data = np.column_stack([x[complete], y[complete]])
    n = data.shape[0]
    if n < len(predictors) + 2:
        raise MetricsError("drivers.drivers_complete_rows_predictors", n=n,
                           n_predictors=len(predictors))
    constant = [
        name for name, sd in zip([*predictors, "outcome"], data.std(axis=0), strict=True) if sd == 0
    ]
    if constant:
        raise MetricsError("drivers.drivers_no_variation", constant=constant)
    matrix = np.corrcoef(data, rowvar=False)
    return Correlations(tuple(predictors), matrix[:-1, :-1], matrix[:-1, -1], n)


def correlations_from_matrix(
    matrix: Sequence[Sequence[float]], names: Sequence[str], outcome: str
) -> Correlations:
    """Split a full correlation matrix (predictors and outcome, in `names` order)."""
    r = np.asarray(matrix, dtype=float)
    if r.shape != (len(names), len(names)) or outcome not in names:
        raise MetricsError("drivers.drivers_matrix_does_not", shape=r.shape, names=list(names))
    if not np.allclose(r, r.T) or not np.allclose(np.diag(r), 1.0):
        raise MetricsError("drivers.drivers_correlation_matrix_must")
    if np.linalg.eigvalsh(r).min() < -1e-8:
        raise MetricsError("drivers.drivers_matrix_not_valid")
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
            "drivers.shapley_weights_predictors_allowed", p=p,
            max_shapley_predictors=MAX_SHAPLEY_PREDICTORS
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
            "drivers.quadrant_importance_items_differ", importance=sorted(importance),
            performance=sorted(performance)
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


def importance_performance_by_scale(
    importance: Mapping[str, float], performance: Mapping[str, float], scale: Mapping[str, str]
) -> tuple[dict[str, float], dict[str, Quadrant | None]]:
    """Quadrants with performance measured against the items on the same scale.

    An item's relative performance is its performance minus the mean performance of the items
    of its scale (yes/no items against yes/no items, 1–5 items against 1–5 items), in points;
    the performance axis splits at 0 and the importance axis at its mean. An item alone on its
    scale has nothing to be compared with: relative performance 0 and no quadrant (None).
    """
    if set(importance) != set(performance) or set(importance) - set(scale) or not importance:
        raise MetricsError(
            "drivers.quadrant_importance_items_differ_2", importance=sorted(importance),
            performance=sorted(performance)
        )
    groups: dict[str, list[str]] = {}
    for item in importance:
        groups.setdefault(scale[item], []).append(item)
    relative = {
        item: performance[item] - mean_of(performance[i] for i in members)
        for members in groups.values()
        for item in members
    }
    split = mean_of(importance.values())
    quadrants = {
        item: None
        if len(groups[scale[item]]) < 2
        else quadrant_of(importance[item] >= split, relative[item] >= 0)
        for item in importance
    }
    return relative, quadrants


# --- what a sample can tell --------------------------------------------------------------------


def needed_n(items: int, min_n: int, per_item: int = PER_ITEM) -> int:
    """Responses a ranking of `items` items needs: `per_item` per item, never below min n."""
    return max(min_n, per_item * items)


def chance_r_squared(n: int, items: int) -> float:
    """The R² that `items` items unrelated to the outcome give on average in n responses."""
    return min(1.0, items / (n - 1)) if n > 1 else 1.0


def adjusted_r_squared(r2: float, n: int, items: int) -> float | None:
    """R² less what chance gives: 1 − (1 − R²)(n − 1)/(n − p − 1); None when n <= p + 1."""
    if n <= items + 1:
        return None
    return 1 - (1 - r2) * (n - 1) / (n - items - 1)


def modal_share(values: Sequence[float] | FloatArray) -> float:
    """The share of the most common value among `values` (0 without values)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return 0.0
    _, counts = np.unique(array, return_counts=True)
    return float(counts.max() / array.size)


# --- bootstrap ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RespondentValues:
    """Per respondent (rows) × code (columns): the sum of the respondent's answers to the code,
    how many answers it is (0 where unanswered) and the sum of their squares. Pair sums over the
    respondents who answered both codes follow by products of columns, as in the aggregates."""

    codes: tuple[str, ...]
    total: FloatArray
    count: FloatArray
    squares: FloatArray

    def column(self, code: str) -> int:
        return self.codes.index(code)

    def answers(self, code: str) -> FloatArray:
        """The answers to `code` of the respondents who answered it once (the usual case)."""
        j = self.column(code)
        return self.total[self.count[:, j] == 1, j]  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class Bootstrap:
    """Shares (% of R²) of the predictors in each resample (rows), in `predictors` order."""

    predictors: tuple[str, ...]
    shares: FloatArray

    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Percentile interval of each predictor's share."""
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(self.shares, [tail, 100 - tail], axis=0)
        return {
            name: (float(lo), float(hi))
            for name, lo, hi in zip(self.predictors, low, high, strict=True)
        }


    def narrowed(self, shares: Sequence[float], factor: float) -> Bootstrap:
        """The resamples pulled towards `shares` (the full sample's) by `factor`: each
        resample's distance from the share times `factor`."""
        centre = np.asarray(shares, dtype=float)[None, :]
        return Bootstrap(self.predictors, centre + factor * (self.shares - centre))


def rank_ranges(boot: Bootstrap, level: float = 0.95) -> dict[str, tuple[int, int]]:
    """The range of ranks (1 = largest share) each predictor takes in the middle `level` of
    the resamples: the percentiles of its ranks, widened to whole ranks."""
    order = np.argsort(-boot.shares, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(order.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, order.shape[1] + 1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(ranks, [tail, 100 - tail], axis=0)
    return {
        name: (math.floor(lo), math.ceil(hi))
        for name, lo, hi in zip(boot.predictors, low, high, strict=True)
    }


def resample_weights(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> FloatArray:
    """How often each of n respondents is drawn in each resample (rows): resample b draws
    `rng.integers(0, n, n)` from `numpy.random.default_rng(seed)`, b after b."""
    rng = np.random.default_rng(seed)
    out = np.empty((resamples, n))
    for b in range(resamples):
        out[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return out


def bootstrap_shares(
    values: RespondentValues,
    predictors: Sequence[str],
    outcome: str,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Bootstrap:
    """Johnson's shares of the predictors in `resamples` resamples of the respondents.

    Each resample's pairwise correlations come from its pair sums (a respondent drawn twice
    counts twice; a respondent who answered a code twice counts the mean of the answers once);
    a pair without variation in the resample correlates 0, so an item that is constant in a
    resample gets no share there; the matrix is projected back to a valid one as on the page
    (`nearest_correlation`).
    """
    columns = [values.column(c) for c in (*predictors, outcome)]
    count = values.count[:, columns]
    present = count > 0
    safe = np.where(present, count, 1.0)
    x = np.where(present, values.total[:, columns] / safe, 0.0)
    q = np.where(present, values.squares[:, columns] / safe, 0.0)
    weights = resample_weights(x.shape[0], resamples, seed)
    matrices = nearest_correlations(correlations_of(*weighted_pair_sums(x, q, present, weights)))
    return Bootstrap(tuple(predictors), johnson_shares(matrices))


def johnson_shares(matrices: FloatArray) -> FloatArray:
    """Johnson's shares (% of R²) for a stack of correlation matrices whose last row and column
    are the outcome's (the same algebra as `johnson_weights`, for many matrices at once); 0
    where R² is 0."""
    rxx, rxy = matrices[:, :-1, :-1], matrices[:, :-1, -1]
    values, vectors = np.linalg.eigh(rxx)
    root = (vectors * np.sqrt(np.clip(values, 0.0, None))[:, None, :]) @ vectors.transpose(0, 2, 1)
    inverse = np.where(values > 1e-12, 1 / np.sqrt(np.where(values > 1e-12, values, 1.0)), 0.0)
    rotated = np.einsum("bji,bj->bi", vectors, rxy) * inverse
    betas = np.einsum("bij,bj->bi", vectors, rotated)
    weights = np.einsum("bij,bj->bi", root**2, betas**2)
    r2 = weights.sum(axis=1, keepdims=True)
    return np.where(r2 > 0, 100 * weights / np.where(r2 > 0, r2, 1.0), 0.0)  # type: ignore[no-any-return]


def weighted_pair_sums(
    x: FloatArray, q: FloatArray, present: NDArray[np.bool_], weights: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per weight row b: n[a, c], Σa[a, c], Σa²[a, c] over the respondents who answered both
    a and c, and Σa·c, each weighted by the respondents' weights (resamples × k × k each).

    Respondents are grouped by the codes they answered: within a group every code is present,
    so its weighted moments (Σw, Σw·a, Σw·a·c) are one product with the weights, and each
    pair takes the moments of the groups that hold both codes."""
    resamples, k = weights.shape[0], x.shape[1]
    shape = (resamples, k, k)
    n, sa, saa, sab = (np.zeros(shape) for _ in range(4))
    packed = np.packbits(present, axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, examples, group = np.unique(keys, return_index=True, return_inverse=True)
    for g, row in enumerate(examples):
        cols = np.flatnonzero(present[row])
        if cols.size == 0:
            continue
        members = np.flatnonzero(group.ravel() == g)
        w = weights[:, members]
        z = x[np.ix_(members, cols)]
        upper = np.triu_indices(cols.size)
        products = (z[:, :, None] * z[:, None, :])[:, upper[0], upper[1]]
        moments = w @ np.column_stack([z, q[np.ix_(members, cols)], products])
        total = w.sum(axis=1)
        first, second = moments[:, : cols.size], moments[:, cols.size : 2 * cols.size]
        cross = np.zeros((resamples, cols.size, cols.size))
        cross[:, upper[0], upper[1]] = moments[:, 2 * cols.size :]
        cross = cross + np.triu(cross, 1).transpose(0, 2, 1)
        block = np.ix_(np.arange(resamples), cols, cols)
        n[block] += total[:, None, None]
        sa[block] += first[:, :, None]
        saa[block] += second[:, :, None]
        sab[block] += cross
    return n, sa, saa, sab


def correlations_of(
    n: FloatArray, sa: FloatArray, saa: FloatArray, sab: FloatArray
) -> FloatArray:
    """Pairwise Pearson correlations from stacks of pair sums (a's sums in [a, c], c's in
    [c, a]); a pair without variation (or without two respondents) correlates 0; the diagonal
    is 1."""
    var_a = n * saa - sa**2
    var_c = var_a.transpose(0, 2, 1)
    cov = n * sab - sa * sa.transpose(0, 2, 1)
    ok = (
        (n >= 2)
        & (var_a > 1e-9 * np.maximum(1.0, n * saa))
        & (var_c > 1e-9 * np.maximum(1.0, n * saa.transpose(0, 2, 1)))
    )
    r = np.where(ok, cov / np.sqrt(np.where(ok, var_a * var_c, 1.0)), 0.0)
    diagonal = np.arange(r.shape[1])
    r[:, diagonal, diagonal] = 1.0
    return r  # type: ignore[no-any-return]


def nearest_correlations(matrices: FloatArray) -> FloatArray:
    """`nearest_correlation` of each matrix in a stack (those already valid unchanged)."""
    values, vectors = np.linalg.eigh(matrices)
    fixed = (vectors * np.clip(values, 1e-10, None)[:, None, :]) @ vectors.transpose(0, 2, 1)
    scale = np.sqrt(np.diagonal(fixed, axis1=1, axis2=2))
    fixed = fixed / (scale[:, :, None] * scale[:, None, :])
    valid = values.min(axis=1) >= 1e-10
    return np.where(valid[:, None, None], matrices, fixed)  # type: ignore[no-any-return]


def nearest_correlation(matrix: FloatArray) -> FloatArray:
    """Pairwise correlations need not form a valid matrix; clip negative eigenvalues and put
    1 back on the diagonal."""
    values, vectors = np.linalg.eigh(matrix)
    if values.min() >= 1e-10:
        return matrix
    fixed = (vectors * np.clip(values, 1e-10, None)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / np.outer(scale, scale)  # type: ignore[no-any-return]
