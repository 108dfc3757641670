"""Key drivers: relative importance of the rated items for an outcome, with the importance ×
performance quadrant (no web imports).

The correlation matrix comes from item-pair sums (store/driver_aggregates): whole months are read
from `driver_agg`, leftover days, users who see only their own responses and views sliced by
customer segment or staff from the same SELECT run on the responses (that path is also the
reference the tests compare the aggregate with). Each correlation is pairwise: over the
responses that answered both items. Johnson's relative weights (domain/drivers) split the R² of
the outcome regressed on the items; performance is the share of an item's answers in its top
box.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import (
    Filters,
    raw_where,
    scope_units,
    split_range,
    touchpoint_family,
)
from tiyan.analytics.dashboard import Scope
from tiyan.domain.drivers import Correlations, importance_performance, johnson_weights
from tiyan.domain.metrics import MetricsError
from tiyan.store import driver_aggregates
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE
from tiyan.store.driver_aggregates import pair_select

OUTCOMES = ("nps", "csat")  # overall measures: outcomes, never drivers
NOT_DRIVERS = frozenset({*OUTCOMES, "comment"})
D = t.driver_agg


@dataclass(frozen=True)
class PairSums:
    n: int = 0
    sum_a: float = 0.0
    sum_b: float = 0.0
    sum_aa: float = 0.0
    sum_bb: float = 0.0
    sum_ab: float = 0.0
    top_a: int = 0

    def __add__(self, o: PairSums) -> PairSums:
        return PairSums(self.n + o.n, self.sum_a + o.sum_a, self.sum_b + o.sum_b,
                        self.sum_aa + o.sum_aa, self.sum_bb + o.sum_bb, self.sum_ab + o.sum_ab,
                        self.top_a + o.top_a)

    def correlation(self) -> float | None:
        """Pearson r of the pair; None without variation in either item."""
        n = self.n
        var_a = n * self.sum_aa - self.sum_a**2
        var_b = n * self.sum_bb - self.sum_b**2
        if n < 2 or var_a <= 1e-9 * max(1.0, n * self.sum_aa) \
                or var_b <= 1e-9 * max(1.0, n * self.sum_bb):
            return None
        return float((n * self.sum_ab - self.sum_a * self.sum_b) / np.sqrt(var_a * var_b))


Pairs = dict[tuple[str, str], PairSums]


def _add(out: Pairs, a: str, b: str, value: PairSums) -> None:
    out[(a, b)] = out[(a, b)] + value if (a, b) in out else value


def _read(conn: Connection, query: sa.Select, out: Pairs) -> None:
    for row in conn.execute(query):
        _add(out, str(row[0]), str(row[1]), PairSums(
            int(row[2] or 0), float(row[3] or 0), float(row[4] or 0), float(row[5] or 0),
            float(row[6] or 0), float(row[7] or 0), int(row[8] or 0)))


def _summed(source: sa.FromClause, where: Sequence[sa.ColumnElement[bool]]) -> sa.Select:
    c = source.c
    return (sa.select(c.item_a, c.item_b, sa.func.sum(c.n), sa.func.sum(c.sum_a),
                      sa.func.sum(c.sum_b), sa.func.sum(c.sum_aa), sa.func.sum(c.sum_bb),
                      sa.func.sum(c.sum_ab), sa.func.sum(c.top_a))
            .where(*where).group_by(c.item_a, c.item_b))


def pair_sums(conn: Connection, scope: Scope, filters: Filters, *,
              tz: str = BUSINESS_TIMEZONE, raw: bool = False) -> Pairs:
    """Item-pair sums for the scope and filters (the touchpoint filter is the response's)."""
    touchpoints = (touchpoint_family(conn, filters.touchpoint_id)
                   if filters.touchpoint_id is not None else None)
    out: Pairs = {}
    if raw or scope.vis.staff_rows or filters.sliced or driver_aggregates.is_stale(conn):
        _raw(conn, scope, filters, touchpoints, tz, out)
        return out
    units = scope_units(scope.vis, scope.parent_of, filters.unit_id)
    if not units:
        return out
    months, day_ranges = split_range(filters.date_from, filters.date_to)
    if months:
        where: list[sa.ColumnElement[bool]] = [D.c.bucket.between(*months),
                                               D.c.unit_id.in_(sorted(units))]
        if touchpoints is not None:
            where.append(D.c.touchpoint_id.in_(touchpoints))
        if filters.channel:
            where.append(D.c.channel == filters.channel)
        _read(conn, _summed(D, where), out)
    for first, last in day_ranges:
        _raw(conn, scope, dataclasses.replace(filters.between(first, last), touchpoint_id=None),
             touchpoints, tz, out)
    return out


def _raw(conn: Connection, scope: Scope, filters: Filters, touchpoints: list[int] | None,
         tz: str, out: Pairs) -> None:
    where = raw_where(scope.vis, scope.parent_of, filters, tz)
    if touchpoints is not None:
        where = sa.and_(where, t.response.c.touchpoint_id.in_(touchpoints))
    names = [*("bucket", "unit_id", "survey_id", "touchpoint_id", "channel", "item_a",
               "item_b", "n", "sum_a", "sum_b", "sum_aa", "sum_bb", "sum_ab", "top_a")]
    inner = pair_select(conn.dialect.name, where, tz, grain="d").subquery()
    source = sa.select(*[c.label(n) for c, n in zip(inner.c, names, strict=True)]).subquery()
    _read(conn, _summed(source, []), out)


# --- the analysis -------------------------------------------------------------------------

@dataclass(frozen=True)
class Driver:
    item: str
    weight: float  # Johnson's relative weight (part of R²)
    share: float  # percent of R²
    performance: float  # percent of answers in the top box
    mean: float
    n: int  # answers to the item together with the outcome
    quadrant: str


@dataclass(frozen=True)
class DriverAnalysis:
    outcome: str
    outcomes: list[str]  # outcomes with data, for the chooser
    n: int  # the smallest pairwise base among the items used
    too_few: bool
    r_squared: float | None
    drivers: list[Driver]
    left_out: list[tuple[str, int]] = field(default_factory=list)  # (item, n) under min n
    importance_split: float | None = None
    performance_split: float | None = None


def _pair(pairs: Mapping[tuple[str, str], PairSums], a: str, b: str) -> PairSums:
    """Sums of (a, b) with a's sums as sum_a, whatever the stored order."""
    if (a, b) in pairs:
        return pairs[(a, b)]
    s = pairs.get((b, a))
    if s is None:
        return PairSums()
    return PairSums(s.n, s.sum_b, s.sum_a, s.sum_bb, s.sum_aa, s.sum_ab, 0)


def nearest_correlation(matrix: np.ndarray) -> np.ndarray:
    """Pairwise correlations need not form a valid matrix; clip negative eigenvalues and put
    1 back on the diagonal."""
    values, vectors = np.linalg.eigh(matrix)
    if values.min() >= 1e-10:
        return matrix
    fixed = (vectors * np.clip(values, 1e-10, None)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / np.outer(scale, scale)  # type: ignore[no-any-return]


def analyse(pairs: Mapping[tuple[str, str], PairSums], outcome: str, *,
            min_n: int) -> DriverAnalysis:
    items = sorted({a for a, b in pairs if a == b})
    outcomes = [o for o in OUTCOMES if o in items]
    candidates = [i for i in items if i not in NOT_DRIVERS and i != outcome]
    with_outcome = {i: _pair(pairs, i, outcome) for i in candidates}
    chosen: list[str] = []
    left_out: list[tuple[str, int]] = []
    for item in sorted(candidates, key=lambda i: (-with_outcome[i].n, i)):
        s = with_outcome[item]
        ok = s.n >= min_n and s.correlation() is not None and all(
            _pair(pairs, item, other).n >= min_n and _pair(pairs, item, other).correlation()
            is not None for other in chosen)
        if ok:
            chosen.append(item)
        else:
            left_out.append((item, s.n))
    if outcome not in items or not chosen:
        n = min((with_outcome[i].n for i in candidates), default=0)
        return DriverAnalysis(outcome, outcomes, n, True, None, [], left_out)
    chosen.sort()
    p = len(chosen)
    rxx = np.eye(p)
    for i in range(p):
        for j in range(i + 1, p):
            rxx[i, j] = rxx[j, i] = _pair(pairs, chosen[i], chosen[j]).correlation() or 0.0
    rxy = np.array([with_outcome[i].correlation() or 0.0 for i in chosen])
    full = nearest_correlation(np.block([[rxx, rxy[:, None]], [rxy[None, :], np.ones((1, 1))]]))
    n = min([with_outcome[i].n for i in chosen]
            + [_pair(pairs, a, b).n for a in chosen for b in chosen if a < b])
    importance = johnson_weights(Correlations(tuple(chosen), full[:-1, :-1], full[:-1, -1], n))
    r2 = importance.r_squared
    shares = ({k: 100 * w / r2 for k, w in importance.by_predictor().items()} if r2 > 0
              else {k: 0.0 for k in chosen})
    alone = {i: _pair(pairs, i, i) for i in chosen}
    performance = {i: 100.0 * alone[i].top_a / alone[i].n for i in chosen}
    points = importance_performance(shares, performance)
    drivers = [Driver(pt.item, importance.by_predictor()[pt.item], shares[pt.item],
                      performance[pt.item], alone[pt.item].sum_a / alone[pt.item].n,
                      with_outcome[pt.item].n, pt.quadrant.value) for pt in points]
    drivers.sort(key=lambda d: (-d.share, d.item))
    return DriverAnalysis(outcome, outcomes, n, n < min_n, r2, drivers, left_out,
                          sum(shares.values()) / p, sum(performance.values()) / p)


def key_drivers(conn: Connection, scope: Scope, filters: Filters, outcome: str, *,
                min_n: int, raw: bool = False) -> DriverAnalysis:
    if outcome not in OUTCOMES:
        raise MetricsError(f'"{outcome}" is not an outcome ({", ".join(OUTCOMES)})')
    return analyse(pair_sums(conn, scope, filters, raw=raw), outcome, min_n=min_n)
