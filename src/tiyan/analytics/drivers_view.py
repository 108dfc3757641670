"""Key drivers: relative importance of the rated items for an outcome, with the importance ×
performance quadrant (no web imports).

The correlation matrix comes from item-pair sums (store/driver_aggregates): whole months are read
from `driver_agg`, leftover days, users who see only their own responses and views sliced by
customer segment or staff from the same SELECT run on the responses (that path is also the
reference the tests compare the aggregate with). Each correlation is pairwise: over the
responses that answered both items. Johnson's relative weights (domain/drivers) split the R² of
the outcome regressed on the items; performance is the share of an item's answers in its top
box.

Comment aspects (`aspects=True`): the pairs that involve an aspect follow from the parts kept in
`driver_aspect_agg` (store/driver_aspect_aggregates; whole months, the rest from the same
SELECTs on the responses, as for the item pairs). The repurchase outcome needs per-respondent
values no aggregate holds; every pair is read from the responses whose customer is known and
old enough to tell (analytics/driver_values), aspects too when asked for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from threadpoolctl import threadpool_limits

from tiyan.analytics import driver_cache, driver_values
from tiyan.analytics.cube import (
    Filters,
    raw_where,
    scope_units,
    split_range,
    touchpoint_family,
)
from tiyan.analytics.dashboard import Scope
from tiyan.domain import drivers
from tiyan.domain.drivers import Correlations, johnson_weights
from tiyan.domain.metrics import MetricsError
from tiyan.store import driver_aggregates, driver_aspect_aggregates
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE
from tiyan.store.driver_aggregates import pair_select

OUTCOMES = ("nps", "csat", driver_values.REPURCHASE)  # outcomes, never drivers
NOT_DRIVERS = frozenset({*OUTCOMES, "comment"})
D, G = t.driver_agg, t.driver_aspect_agg


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


def _cell_where(table: sa.Table, months: tuple[dt.date, dt.date], units: Iterable[int],
                touchpoints: Sequence[int] | None, channel: str | None
                ) -> list[sa.ColumnElement[bool]]:
    """The month rows of a per-month aggregate (driver_agg, driver_aspect_agg) in the filters."""
    where: list[sa.ColumnElement[bool]] = [table.c.bucket.between(*months),
                                           table.c.unit_id.in_(sorted(units))]
    if touchpoints is not None:
        where.append(table.c.touchpoint_id.in_(touchpoints))
    if channel:
        where.append(table.c.channel == channel)
    return where


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
        _read(conn, _summed(D, _cell_where(D, months, units, touchpoints, filters.channel)), out)
    for first, last in day_ranges:
        _raw(conn, scope, dataclasses.replace(filters.between(first, last), touchpoint_id=None),
             touchpoints, tz, out)
    return out


def _raw_where(conn: Connection, scope: Scope, filters: Filters, touchpoints: list[int] | None,
               tz: str) -> sa.ColumnElement[bool]:
    where = raw_where(scope.vis, scope.parent_of, filters, tz)
    if touchpoints is not None:
        where = sa.and_(where, t.response.c.touchpoint_id.in_(touchpoints))
    return where


def _raw(conn: Connection, scope: Scope, filters: Filters, touchpoints: list[int] | None,
         tz: str, out: Pairs) -> None:
    where = _raw_where(conn, scope, filters, touchpoints, tz)
    names = [*("bucket", "unit_id", "survey_id", "touchpoint_id", "channel", "item_a",
               "item_b", "n", "sum_a", "sum_b", "sum_aa", "sum_bb", "sum_ab", "top_a")]
    inner = pair_select(conn.dialect.name, where, tz, grain="d").subquery()
    source = sa.select(*[c.label(n) for c, n in zip(inner.c, names, strict=True)]).subquery()
    _read(conn, _summed(source, []), out)


def value_pair_sums(conn: Connection, scope: Scope, filters: Filters, *, aspects: bool,
                    repurchase: driver_values.RepurchaseBase | None, days: int,
                    tz: str = BUSINESS_TIMEZONE) -> Pairs:
    """Pair sums read from the responses: the pairs that involve an aspect (with `aspects`);
    for repurchase every pair over the responses that can tell (`repurchase` holds the cut-off).
    """
    touchpoints = (touchpoint_family(conn, filters.touchpoint_id)
                   if filters.touchpoint_id is not None else None)
    r = t.response
    where = sa.and_(_raw_where(conn, scope, filters, touchpoints, tz), r.c.status == "complete",
                    r.c.submitted_at.is_not(None))
    if repurchase is not None:
        if repurchase.cutoff is None:
            return {}
        where = sa.and_(where, driver_values.eligible(repurchase.cutoff))
    only_analysed = sa.and_(where, r.c.id.in_(sa.select(t.text_analysis.c.response_id)))
    parts = [driver_values.item_values(where if repurchase is not None else only_analysed)]
    if repurchase is not None:
        parts.append(driver_values.repurchase_values(conn.dialect.name, where, days))
    if aspects:
        parts.append(driver_values.aspect_values(where))
    rows = conn.execute(sa.union_all(*parts))
    pairs = driver_values.value_pairs(rows, aspects_only=repurchase is None)
    return {key: PairSums(*sums) for key, sums in pairs.items()}


# --- pairs with comment aspects, from their parts ------------------------------------------

Part = tuple[float, ...]  # n, Σa, Σb, Σa², Σb², Σab, top_a, top_b (store/driver_aspect_aggregates)
Parts = dict[tuple[str, str], Part]
PART_SUMS = driver_aspect_aggregates.SUMS


def aspect_pair_sums(conn: Connection, scope: Scope, filters: Filters, *,
                     tz: str = BUSINESS_TIMEZONE) -> Pairs:
    """The pairs that involve an aspect, equal to `value_pair_sums(aspects=True)`: whole months
    from driver_aspect_agg; the days around them, frontline users, sliced views and a stale
    aggregate from the same parts read on the responses."""
    touchpoints = (touchpoint_family(conn, filters.touchpoint_id)
                   if filters.touchpoint_id is not None else None)
    parts: Parts = {}
    if scope.vis.staff_rows or filters.sliced or driver_aspect_aggregates.is_stale(conn):
        _raw_parts(conn, _raw_where(conn, scope, filters, touchpoints, tz), tz, parts)
        return aspect_pairs(parts)
    units = scope_units(scope.vis, scope.parent_of, filters.unit_id)
    if not units:
        return {}
    months, day_ranges = split_range(filters.date_from, filters.date_to)
    if months:
        where = _cell_where(G, months, units, touchpoints, filters.channel)
        _read_parts(conn, _summed_parts(G, where), parts)
    for first, last in day_ranges:
        days = dataclasses.replace(filters.between(first, last), touchpoint_id=None)
        _raw_parts(conn, _raw_where(conn, scope, days, touchpoints, tz), tz, parts)
    return aspect_pairs(parts)


def _summed_parts(source: sa.FromClause, where: Sequence[sa.ColumnElement[bool]]) -> sa.Select:
    c = source.c
    return (sa.select(c.item_a, c.item_b, *(sa.func.sum(c[name]) for name in PART_SUMS))
            .where(*where).group_by(c.item_a, c.item_b))


def _read_parts(conn: Connection, query: sa.Select, out: Parts) -> None:
    for row in conn.execute(query):
        key, part = (str(row[0]), str(row[1])), tuple(float(v or 0) for v in row[2:])
        out[key] = tuple(x + y for x, y in zip(out[key], part, strict=True)) \
            if key in out else part


def _raw_parts(conn: Connection, where: sa.ColumnElement[bool], tz: str, out: Parts) -> None:
    names = [*driver_aspect_aggregates.KEY, *PART_SUMS]
    for select in driver_aspect_aggregates.part_selects(conn.dialect.name, where, tz=tz):
        inner = select.subquery()
        source = sa.select(*[c.label(n) for c, n in zip(inner.c, names, strict=True)]
                           ).subquery()
        _read_parts(conn, _summed_parts(source, []), out)


def _joint(parts: Mapping[tuple[str, str], Part], a: str, b: str) -> Part:
    """The part of (a, b) with a's sums first, whatever the stored order; zeros without one."""
    if (a, b) in parts:
        return parts[(a, b)]
    p = parts.get((b, a))
    if p is None:
        return (0.0,) * len(PART_SUMS)
    return (p[0], p[2], p[1], p[4], p[3], p[5], p[7], p[6])


def aspect_pairs(parts: Mapping[tuple[str, str], Part]) -> Pairs:
    """Pair sums (keyed in name order) of every aspect mentioned with each other and with every
    item answered on the analysed responses: an aspect's zeros count in n only."""
    analysed = int(parts.get(("", ""), (0.0,))[0])
    codes = sorted(a for (a, b), p in parts.items()
                   if a == b and a.startswith(driver_values.ASPECT) and p[0] > 0)
    items = {a: p for (a, b), p in parts.items() if b == "" and a != "" and p[0] > 0}
    out: Pairs = {}
    if not analysed or not codes:
        return out
    for x in codes:
        ax = parts[(x, x)]
        for y in (y for y in codes if y >= x):
            ay = parts[(y, y)]
            both = ax[3] if x == y else _joint(parts, x, y)[5]
            out[(x, y)] = PairSums(analysed, ax[1], ay[1], ax[3], ay[3], both, round(ax[6]))
        for item, p in items.items():
            j = _joint(parts, item, x)  # sums of the item's answers that meet a mention
            if item < x:
                out[(item, x)] = PairSums(round(p[0]), p[1], j[2], p[3], j[4], j[5], round(p[6]))
            else:
                out[(x, item)] = PairSums(round(p[0]), j[2], p[1], j[4], p[3], j[5], round(j[7]))
    return out


# --- the analysis -------------------------------------------------------------------------

@dataclass(frozen=True)
class Driver:
    item: str
    weight: float  # Johnson's relative weight (part of R²)
    share: float  # percent of R²
    performance: float  # percent of answers in the top box (of an aspect: positive mentions)
    mean: float  # of an aspect: the net balance, -1 to +1, over the analysed comments
    n: int  # answers to the item together with the outcome
    quadrant: str | None  # None: alone on its scale, nothing to compare its performance with
    scale: str = ""  # "yesno", "1-5", "0-10", ... or "aspect" (the items it is compared with)
    relative: float = 0.0  # performance less the mean performance of the items on its scale
    low: float | None = None  # the share's 95% bootstrap interval
    high: float | None = None
    rank: int = 0  # by share, 1 = the largest
    rank_low: int | None = None  # the ranks the resamples give it (middle 95%)
    rank_high: int | None = None

    @property
    def from_comments(self) -> bool:
        return self.item.startswith(driver_values.ASPECT)

    @property
    def code(self) -> str:
        """The item code, or the aspect code of an aspect."""
        return self.item.removeprefix(driver_values.ASPECT)


@dataclass(frozen=True)
class DriverAnalysis:
    outcome: str
    outcomes: list[str]  # outcomes with data, for the chooser
    n: int  # the smallest pairwise base among the items used
    too_few: bool  # n under `needed`: nothing is ranked
    r_squared: float | None
    drivers: list[Driver]
    left_out: list[tuple[str, int]] = field(default_factory=list)  # (item, n) under min n
    importance_split: float | None = None
    performance_split: float | None = None  # 0: relative performance splits at its scale's mean
    aspects: bool = False  # comment aspects asked for
    reads_raw: bool = False  # read from the responses, not the aggregate
    repurchase: driver_values.RepurchaseBase | None = None  # the base of a repurchase outcome
    window_days: int | None = None  # the repurchase window
    items: int = 0  # the items the ranking would use
    needed: int = 0  # the n that ranking them needs (domain/drivers.needed_n)
    adjusted_r_squared: float | None = None
    chance_r_squared: float | None = None  # what `items` unrelated items give at n, on average
    flat: list[tuple[str, float]] = field(default_factory=list)  # (item, its modal share)
    resamples: int = 0  # bootstrap resamples behind the intervals
    resampled: int = 0  # respondents resampled (every k-th above `sample_cap`)
    respondents: int = 0  # answers to the outcome in scope
    tied: list[tuple[int, int]] = field(default_factory=list)  # rank groups not told apart

    @property
    def alone(self) -> list[Driver]:
        return [x for x in self.drivers if x.quadrant is None]


def _pair(pairs: Mapping[tuple[str, str], PairSums], a: str, b: str) -> PairSums:
    """Sums of (a, b) with a's sums as sum_a, whatever the stored order."""
    if (a, b) in pairs:
        return pairs[(a, b)]
    s = pairs.get((b, a))
    if s is None:
        return PairSums()
    return PairSums(s.n, s.sum_b, s.sum_a, s.sum_bb, s.sum_aa, s.sum_ab, 0)


def _mentions(pairs: Mapping[tuple[str, str], PairSums], item: str) -> int | None:
    """Comments that speak of an aspect positively or negatively (Σv² of a ±1/0 predictor);
    None for an item."""
    if not item.startswith(driver_values.ASPECT):
        return None
    return round(_pair(pairs, item, item).sum_aa)


def _choose(pairs: Mapping[tuple[str, str], PairSums], candidates: Sequence[str],
            outcome: str, min_n: int) -> tuple[list[str], list[tuple[str, int]]]:
    """The items with at least min n answers together with the outcome and with every item
    chosen before them (most answered first), and some variation; the rest left out."""
    with_outcome = {i: _pair(pairs, i, outcome) for i in candidates}
    chosen: list[str] = []
    left_out: list[tuple[str, int]] = []
    for item in sorted(candidates, key=lambda i: (-with_outcome[i].n, i)):
        s = with_outcome[item]
        mentions = _mentions(pairs, item)
        ok = s.n >= min_n and s.correlation() is not None and all(
            _pair(pairs, item, other).n >= min_n and _pair(pairs, item, other).correlation()
            is not None for other in chosen) and (mentions is None or mentions >= min_n)
        if ok:
            chosen.append(item)
        else:
            left_out.append((item, s.n if mentions is None else mentions))
    return sorted(chosen), left_out


def scale_of(item: str, scales: Mapping[str, str]) -> str:
    return "aspect" if item.startswith(driver_values.ASPECT) else scales.get(item, "other")


def analyse(pairs: Mapping[tuple[str, str], PairSums], outcome: str, *, min_n: int,
            per_item: int = drivers.PER_ITEM, flat: Mapping[str, float] | None = None,
            scales: Mapping[str, str] | None = None) -> DriverAnalysis:
    """Rank the items by Johnson's relative weights, if the sample can tell: `flat` holds the
    modal share of each rated item (an item at FLAT_SHARE or more is left out), `scales` each
    item's scale (performance is compared within a scale)."""
    items = sorted({a for a, b in pairs if a == b})
    outcomes = [o for o in OUTCOMES if o in items]
    candidates = [i for i in items if i not in NOT_DRIVERS and i != outcome]
    flats = sorted(((i, (flat or {})[i]) for i in candidates
                    if (flat or {}).get(i, 0.0) >= drivers.FLAT_SHARE), key=lambda f: -f[1])
    candidates = [i for i in candidates if i not in dict(flats)]
    chosen, left_out = _choose(pairs, candidates, outcome, min_n)
    with_outcome = {i: _pair(pairs, i, outcome) for i in candidates}
    if outcome not in items or not chosen:
        n = min((with_outcome[i].n for i in candidates), default=0)
        return DriverAnalysis(outcome, outcomes, n, True, None, [], left_out, flat=flats)
    p = len(chosen)
    n = min([with_outcome[i].n for i in chosen]
            + [_pair(pairs, a, b).n for a in chosen for b in chosen if a < b])
    base = DriverAnalysis(outcome, outcomes, n, True, None, [], left_out, flat=flats, items=p,
                          needed=drivers.needed_n(p, min_n, per_item))
    if n < base.needed:
        return base
    importance = johnson_weights(_correlations(pairs, chosen, outcome, n))
    r2 = importance.r_squared
    shares = ({k: 100 * w / r2 for k, w in importance.by_predictor().items()} if r2 > 0
              else {k: 0.0 for k in chosen})
    alone = {i: _pair(pairs, i, i) for i in chosen}
    performance = {i: 100.0 * alone[i].top_a / (_mentions(pairs, i) or alone[i].n)
                   for i in chosen}
    scale = {i: scale_of(i, scales or {}) for i in chosen}
    relative, quadrants = drivers.importance_performance_by_scale(shares, performance, scale)
    found = sorted((Driver(i, importance.by_predictor()[i], shares[i], performance[i],
                           alone[i].sum_a / alone[i].n, with_outcome[i].n,
                           _value(quadrants[i]), scale[i],
                           relative[i]) for i in chosen), key=lambda d: (-d.share, d.item))
    ranked = [dataclasses.replace(x, rank=rank) for rank, x in enumerate(found, start=1)]
    return dataclasses.replace(
        base, too_few=False, r_squared=r2, drivers=ranked,
        importance_split=sum(shares.values()) / p, performance_split=0.0,
        adjusted_r_squared=drivers.adjusted_r_squared(r2, n, p),
        chance_r_squared=drivers.chance_r_squared(n, p))


def _value(quadrant: drivers.Quadrant | None) -> str | None:
    return None if quadrant is None else quadrant.value


def _correlations(pairs: Mapping[tuple[str, str], PairSums], chosen: Sequence[str],
                  outcome: str, n: int) -> Correlations:
    p = len(chosen)
    rxx = np.eye(p)
    for i in range(p):
        for j in range(i + 1, p):
            rxx[i, j] = rxx[j, i] = _pair(pairs, chosen[i], chosen[j]).correlation() or 0.0
    rxy = np.array([_pair(pairs, i, outcome).correlation() or 0.0 for i in chosen])
    full = drivers.nearest_correlation(
        np.block([[rxx, rxy[:, None]], [rxy[None, :], np.ones((1, 1))]]))
    return Correlations(tuple(chosen), full[:-1, :-1], full[:-1, -1], n)


# --- intervals: the respondents resampled ------------------------------------------------------

SAMPLE_CAP = 20_000  # respondents resampled at most; above, every k-th response, widths scaled


def with_intervals(analysis: DriverAnalysis, values: drivers.RespondentValues,
                   everyone: int, step: int) -> DriverAnalysis:
    """Bootstrap intervals on each share and rank ranges, from `values`: all the respondents
    in scope, or (`step` > 1) every step-th response, when the resamples' spread around the
    shares is narrowed by √(sampled / everyone) answers to the outcome, as a sample that many
    times larger would give."""
    if not analysis.drivers or analysis.too_few:
        return analysis
    names = [x.item for x in analysis.drivers]
    with threadpool_limits(limits=1):  # small products: threads only contend on a busy server
        boot = drivers.bootstrap_shares(values, names, analysis.outcome)
    sampled = values.total.shape[0]
    if step > 1:
        answered = int((values.count[:, values.column(analysis.outcome)] > 0).sum())
        boot = boot.narrowed([x.share for x in analysis.drivers],
                             math.sqrt(answered / max(everyone, 1)))
    bounds, ranks = boot.interval(), drivers.rank_ranges(boot)
    found = [dataclasses.replace(x, low=bounds[x.item][0], high=bounds[x.item][1],
                                 rank_low=ranks[x.item][0], rank_high=ranks[x.item][1])
             for x in analysis.drivers]
    return dataclasses.replace(analysis, drivers=found, resamples=boot.shares.shape[0],
                               resampled=sampled, respondents=everyone, tied=tied_ranks(found))


def tied_ranks(found: Sequence[Driver]) -> list[tuple[int, int]]:
    """Runs of neighbours in rank order whose rank ranges overlap (the next one can take this
    one's rank): (first rank, last rank) of each run of two or more."""
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(found) + 1):
        joined = i < len(found) and (found[i - 1].rank_high or 0) >= (found[i].rank_low or 0)
        if not joined:
            if i - start >= 2:
                runs.append((found[start].rank, found[i - 1].rank))
            start = i
    return runs


def _value_parts(conn: Connection, scope: Scope, filters: Filters, *, aspects: bool,
                 repurchase: driver_values.RepurchaseBase | None, days: int,
                 step: int) -> list[sa.Select]:
    """The value rows of every respondent in scope (every `step`-th response id), for the
    intervals: items, aspects when asked, repurchase when it is the outcome."""
    touchpoints = (touchpoint_family(conn, filters.touchpoint_id)
                   if filters.touchpoint_id is not None else None)
    r = t.response
    where = sa.and_(_raw_where(conn, scope, filters, touchpoints, BUSINESS_TIMEZONE),
                    r.c.status == "complete", r.c.submitted_at.is_not(None))
    if repurchase is not None:
        where = sa.and_(where, driver_values.eligible(repurchase.cutoff))
    if step > 1:
        where = sa.and_(where, r.c.id % step == 0)
    parts = [driver_values.answer_values(where)]
    if repurchase is not None:
        parts.append(driver_values.repurchase_values(conn.dialect.name, where, days))
    if aspects:
        parts.append(driver_values.aspect_values(where))
    return parts


def key_drivers(conn: Connection, scope: Scope, filters: Filters, outcome: str, *,
                min_n: int, raw: bool = False, aspects: bool = False,
                now: dt.datetime | None = None, window_days: int = 90,
                per_item: int = drivers.PER_ITEM, sample_cap: int = SAMPLE_CAP
                ) -> DriverAnalysis:
    """Drivers of `outcome`; comment aspects as drivers with `aspects`; repurchase within
    `window_days` of the response, known up to the latest transaction (never after `now`).
    Weights from the pair sums; the modal shares of the items and the intervals from the
    respondents (every k-th above `sample_cap` answers to the outcome). Kept per process while
    the data stay the same (analytics/driver_cache)."""
    if outcome not in OUTCOMES:
        raise MetricsError("drivers_view.not_outcome", outcome=outcome,
                           outcomes=", ".join(OUTCOMES))
    cutoff = None
    if outcome == driver_values.REPURCHASE:
        cutoff = driver_values.repurchase_cutoff(conn, now or dt.datetime.now(dt.UTC),
                                                 window_days)
    key = ("drivers", str(conn.engine.url), scope.vis, tuple(sorted(scope.parent_of.items())),
           filters, outcome, min_n, raw, aspects, window_days, per_item, sample_cap, cutoff,
           driver_cache.stamp(conn, aspects=aspects, purchases=cutoff is not None))
    return driver_cache.cached(key, lambda: _key_drivers(
        conn, scope, filters, outcome, min_n=min_n, raw=raw, aspects=aspects, cutoff=cutoff,
        window_days=window_days, per_item=per_item, sample_cap=sample_cap))


def _key_drivers(conn: Connection, scope: Scope, filters: Filters, outcome: str, *,
                 min_n: int, raw: bool, aspects: bool, cutoff: dt.datetime | None,
                 window_days: int, per_item: int, sample_cap: int) -> DriverAnalysis:
    base = None
    if outcome == driver_values.REPURCHASE:
        where = _raw_where(conn, scope, filters, None if filters.touchpoint_id is None
                           else touchpoint_family(conn, filters.touchpoint_id),
                           BUSINESS_TIMEZONE)
        base = driver_values.repurchase_base(conn, sa.and_(
            where, t.response.c.status == "complete"), cutoff)
        pairs = value_pair_sums(conn, scope, filters, aspects=aspects, repurchase=base,
                                days=window_days)
    else:
        pairs = pair_sums(conn, scope, filters, raw=raw)
        if aspects:
            with_aspects = (value_pair_sums(conn, scope, filters, aspects=True,
                                            repurchase=None, days=window_days) if raw
                            else aspect_pair_sums(conn, scope, filters))
            for key, sums in with_aspects.items():
                _add(pairs, *key, sums)
    codes = sorted({a for a, b in pairs if a == b} - {"comment"})
    everyone = _pair(pairs, outcome, outcome).n
    step = max(1, math.ceil(everyone / sample_cap))
    values = driver_values.respondent_values(conn, _value_parts(
        conn, scope, filters, aspects=aspects, repurchase=base, days=window_days, step=step),
        codes) if codes else None
    flat = {} if values is None else {
        c: drivers.modal_share(values.answers(c)) for c in codes
        if c not in NOT_DRIVERS and not c.startswith(driver_values.ASPECT)}
    analysis = analyse(pairs, outcome, min_n=min_n, per_item=per_item, flat=flat,
                       scales=driver_values.item_scales(conn))
    if values is not None:
        analysis = with_intervals(analysis, values, everyone, step)
    return dataclasses.replace(analysis, aspects=aspects, repurchase=base,
                               reads_raw=base is not None,
                               window_days=window_days if base is not None else None)
