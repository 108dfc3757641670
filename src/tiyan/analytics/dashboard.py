"""The data behind the dashboards: overview, unit league table, journey view (no web imports).

Every figure carries its n and 95% interval (domain/metrics) and is "too few" under min n; a
change is marked only when significant (domain/statistics) after the Benjamini-Hochberg control
across the page's tests. A trend bucket the range or today cuts short is marked partial and is
left out of the bucket-on-bucket markers (unless asked). Targets are measured against the figure
of their own period (analytics/targets). All reads go through analytics/cube,
so they honour the actor's unit scope and read the aggregates, not the responses; the response
rate, on the overview and in the league, reads the invitations (analytics/response_rate).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics import response_rate as rr
from tiyan.analytics.cube import (
    Filters,
    Sums,
    month_start,
    rollup,
    scope_units,
    sums,
    total_by_item,
)
from tiyan.analytics.targets import TargetGap, target_gaps
from tiyan.domain.access import Actor, Permission, Visibility
from tiyan.domain.indices import IndexDefinition
from tiyan.domain.metrics import (
    Estimate,
    MeanSums,
)
from tiyan.domain.statistics import (
    Change,
    compare,
    compare_to_parent,
    control_false_discoveries,
)
from tiyan.store import indices as index_store
from tiyan.store import tables as t
from tiyan.store.aggregates import RESPONSES
from tiyan.store.scoped import parent_map

KPIS = ("nps", "csat", "csat_top2", "ces")
ITEMS = (RESPONSES, "nps", "csat", "ces")


def estimate(kpi: str, s: Sums | None, min_n: int) -> Estimate:
    s = s or Sums()
    if kpi == "nps":
        return s.nps(min_n)
    if kpi == "csat_top2":
        return s.top_share(min_n)
    return s.mean(min_n)


def item_of(kpi: str) -> str:
    return "csat" if kpi == "csat_top2" else kpi


INDEX_KPI = "index:"  # an index's figures are keyed "index:CODE" beside the KPIs


def index_kpi(definition: IndexDefinition) -> str:
    return INDEX_KPI + definition.code


def index_value(definition: IndexDefinition, totals: Mapping[str, Sums], min_n: int) -> Estimate:
    """The composite index from its items' summed scores (metrics.CompositeIndex)."""
    item_sums = {code: _mean_sums(totals.get(code)) for code in definition.item_codes()}
    return definition.index().from_item_sums(item_sums, min_n=min_n)


def _mean_sums(s: Sums | None) -> MeanSums:
    s = s or Sums()
    return MeanSums(s.n, s.total, s.total_sq)


def with_index_items(definitions: Sequence[IndexDefinition]) -> list[str]:
    return sorted({*ITEMS, *(c for d in definitions for c in d.item_codes())})


@dataclass(frozen=True)
class Scope:
    """An actor's dashboard visibility with the org tree, read once per request."""

    vis: Visibility
    parent_of: Mapping[int, int | None]

    def roots(self) -> list[int]:
        """The topmost visible units (their parents are not visible)."""
        units = self.vis.all_units
        return sorted(u for u in units if self.parent_of.get(u) not in units)


def dashboard_scope(conn: Connection, actor: Actor) -> Scope:
    actor.require(Permission.VIEW_DASHBOARD)
    return Scope(actor.scope.visibility(Permission.VIEW_DASHBOARD), parent_map(conn))


# --- overview -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kpi:
    kpi: str
    value: Estimate
    previous: Estimate
    change: Change
    targets: tuple[TargetGap, ...] = ()  # each with the figure of its own period


@dataclass(frozen=True)
class TrendPoint:
    start: dt.date  # first day of the bucket (a day, ISO week, month or quarter)
    label: str  # 2026-11-20, 2026-W47, 2026-11, 2026-Q4
    responses: int
    values: dict[str, Estimate]
    changes: dict[str, Change]  # against the bucket before (none for a partial bucket)
    first_day: dt.date | None = None  # the days counted: the range and today cut them
    last_day: dt.date | None = None
    partial: bool = False  # fewer days counted than the bucket has


@dataclass(frozen=True)
class IndexKpi:
    definition: IndexDefinition
    kpi: Kpi
    item_n: tuple[int, int] = (0, 0)  # the fewest and most answers of an item behind the value


@dataclass(frozen=True)
class Overview:
    responses: int
    previous_responses: int
    kpis: list[Kpi]
    trend: list[TrendPoint]
    indices: list[IndexKpi]
    response_rate: Kpi | None = None  # None when `rate_unavailable` names the filter
    rate_unavailable: str | None = None
    tests: int = 0  # period-on-period tests on the page, controlled together (BH)


def _on_page(pairs: list[tuple[object, Change]]) -> dict[object, Change]:
    """The page's changes under one Benjamini-Hochberg control (keyed as given)."""
    return control_false_discoveries(dict(pairs))


def overview(conn: Connection, scope: Scope, filters: Filters, *, min_n: int,
             grain: str = "month", today: dt.date | None = None,
             compare_partial: bool = False) -> Overview:
    """The tiles (range against the period before it), each with the targets of periods that
    overlap the range, and the trend. `today` (the business day now; default the range's last
    day) marks the buckets not over yet as partial."""
    definitions = index_store.load(conn)
    items = with_index_items(definitions)
    now_totals = total_by_item(sums(conn, scope.vis, scope.parent_of, filters, [], items))
    before = filters.previous()
    then_totals = total_by_item(sums(conn, scope.vis, scope.parent_of, before, [], items))
    targets = target_gaps(conn, scope, filters, target_unit(scope, filters),
                          today=today or filters.date_to, min_n=min_n, definitions=definitions)
    kpis = []
    for kpi in KPIS:
        item = item_of(kpi)
        if item not in now_totals and item not in then_totals:
            continue
        kpis.append(_kpi(kpi, estimate(kpi, now_totals.get(item), min_n),
                         estimate(kpi, then_totals.get(item), min_n), targets.get(kpi, ())))
    indices = [IndexKpi(d, _kpi(index_kpi(d), index_value(d, now_totals, min_n),
                                index_value(d, then_totals, min_n),
                                targets.get(index_kpi(d), ()))) for d in definitions]
    rate = response_rate_kpi(conn, scope, filters, min_n)
    points = trend(conn, scope, filters, min_n=min_n, grain=grain, definitions=definitions,
                   today=today, compare_partial=compare_partial, controlled=False)
    tiles = [*kpis, *(i.kpi for i in indices), *([rate] if rate else [])]
    pairs: list[tuple[object, Change]] = [(("tile", k.kpi), k.change) for k in tiles]
    pairs += [((p.start, kpi), c) for p in points for kpi, c in p.changes.items()]
    marked = _on_page(pairs)
    tiles = [dataclasses.replace(k, change=marked["tile", k.kpi]) for k in tiles]
    points = [dataclasses.replace(p, changes={k: marked[p.start, k] for k in p.changes})
              for p in points]
    return Overview(
        responses=now_totals.get(RESPONSES, Sums()).n,
        previous_responses=then_totals.get(RESPONSES, Sums()).n,
        kpis=tiles[:len(kpis)], trend=points,
        indices=[IndexKpi(i.definition, k, _item_n(i.definition, now_totals)) for i, k in
                 zip(indices, tiles[len(kpis):len(kpis) + len(indices)], strict=True)],
        response_rate=tiles[-1] if rate else None,
        rate_unavailable=rr.unavailable(filters),
        tests=sum(1 for _, c in pairs if c.p_value is not None))


def _item_n(definition: IndexDefinition, totals: Mapping[str, Sums]) -> tuple[int, int]:
    """The index's value is made of each item's mean over that item's own answers: the n
    behind it is each item's n (the smallest decides "too few")."""
    ns = [(totals.get(code) or Sums()).n for code in definition.item_codes()]
    return (min(ns), max(ns)) if ns else (0, 0)


def response_rate_kpi(conn: Connection, scope: Scope, filters: Filters,
                      min_n: int) -> Kpi | None:
    """The response rate with the previous period's (None where the filters rule it out)."""
    if rr.unavailable(filters) is not None:
        return None
    now = rr.invited(conn, scope.vis, scope.parent_of, filters).rate(min_n)
    before = rr.invited(conn, scope.vis, scope.parent_of, filters.previous()).rate(min_n)
    return _kpi(rr.RESPONSE_RATE, now, before)


def _kpi(kpi: str, value: Estimate, previous: Estimate,
         targets: Sequence[TargetGap] = ()) -> Kpi:
    return Kpi(kpi, value, previous, compare(value, previous), tuple(targets))


GRAINS = ("day", "week", "month", "quarter")
TREND_POINTS = {"day": 31, "week": 13, "month": 12, "quarter": 4}  # at least, up to the end
MAX_TREND_DAYS = {"day": 366, "week": 3 * 366}  # day rows are read for these grains


def bucket_start(day: dt.date, grain: str) -> dt.date:
    """First day of the day, ISO week (Monday), month or quarter holding `day`."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return month_start(day)
    if grain == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def bucket_after(start: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    months = 3 if grain == "quarter" else 1
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def bucket_label(start: dt.date, grain: str) -> str:
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return start.strftime("%Y-%m")
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.isoformat()


def trend_window(filters: Filters, grain: str) -> tuple[dt.date, dt.date]:
    """First day of the first bucket and the last day shown: the range's buckets, at least the
    last TREND_POINTS[grain] of them up to the end of the range (which may end mid-bucket)."""
    end = filters.date_to
    first = bucket_start(end, grain)
    for _ in range(TREND_POINTS[grain] - 1):
        first = bucket_start(first - dt.timedelta(days=1), grain)
    return min(first, bucket_start(filters.date_from, grain)), end


def trend(conn: Connection, scope: Scope, filters: Filters, *, min_n: int,
          grain: str = "month", definitions: Sequence[IndexDefinition] = (),
          today: dt.date | None = None, compare_partial: bool = False,
          controlled: bool = True) -> list[TrendPoint]:
    """Bucket by bucket over the range: days and ISO weeks (Monday to Sunday, business time
    zone) from the day rows, months from the month rows (days of a partial month from the day
    rows), quarters as three months. The indices' figures are keyed index_kpi(definition).

    A bucket whose days the range's end or `today` cut short is partial (its first and last
    counted day say which); it is compared with the bucket before only with `compare_partial`.
    `controlled`: the changes under Benjamini-Hochberg across the trend's tests (the overview
    controls them together with its tiles instead)."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    first, end = trend_window(filters, grain)
    window = filters.between(first, end)
    by = "day" if grain in ("day", "week") else "month"
    values: dict[tuple[object, ...], Sums] = {}
    items = with_index_items(definitions)
    for (day, item), s in sums(conn, scope.vis, scope.parent_of, window, [by], items).items():
        key = (bucket_start(_day(day), grain), item)
        values[key] = values[key] + s if key in values else s
    by_bucket: dict[object, dict[str, Sums]] = {}
    for (day, item), s in values.items():
        by_bucket.setdefault(day, {})[str(item)] = s
    points: list[TrendPoint] = []
    start = first
    last_counted = min(end, today or end)
    while start <= end:
        estimates = {kpi: estimate(kpi, values.get((start, item_of(kpi))), min_n)
                     for kpi in KPIS}
        bucket = by_bucket.get(start, {})
        estimates.update({index_kpi(d): index_value(d, bucket, min_n) for d in definitions})
        bucket_end = bucket_after(start, grain) - dt.timedelta(days=1)
        last_day = min(bucket_end, last_counted)
        partial = last_day < bucket_end
        comparable = points and (compare_partial or not (partial or points[-1].partial))
        changes = ({kpi: compare(estimates[kpi], points[-1].values[kpi]) for kpi in estimates}
                   if comparable else {})
        points.append(TrendPoint(start, bucket_label(start, grain),
                                 values.get((start, RESPONSES), Sums()).n, estimates, changes,
                                 start, last_day if last_day >= start else None, partial))
        start = bucket_after(start, grain)
    if not controlled:
        return points
    marked = _on_page([((p.start, k), c) for p in points for k, c in p.changes.items()])
    return [dataclasses.replace(p, changes={k: marked[p.start, k] for k in p.changes})
            for p in points]


def _day(value: object) -> dt.date:
    assert isinstance(value, dt.date)
    return value


def target_unit(scope: Scope, filters: Filters) -> int | None:
    if filters.unit_id is not None:
        return filters.unit_id
    roots = scope.roots()
    return roots[0] if len(roots) == 1 else None


# --- unit league table ----------------------------------------------------------------------

@dataclass(frozen=True)
class LeagueRow:
    unit_id: int
    code: str
    name_zh: str
    name_en: str
    has_children: bool
    own_only: bool  # the parent's own responses, not its subtree
    responses: int
    values: dict[str, Estimate]
    changes: dict[str, Change]  # against the previous period
    vs_parent: dict[str, Change]


@dataclass(frozen=True)
class League:
    parent: LeagueRow | None
    rows: list[LeagueRow]  # values and changes also hold index_kpi(d) of `indices`
    indices: tuple[IndexDefinition, ...] = ()
    rate_unavailable: str | None = None  # else values also hold rr.RESPONSE_RATE
    tests: int = 0  # period and parent tests on the page, controlled together (BH)


def league(conn: Connection, scope: Scope, filters: Filters, *, min_n: int) -> League:
    """The children of the chosen unit (or the user's top units), each with its subtree."""
    units = scope.vis.all_units
    children_of: dict[int, list[int]] = {}
    for uid, parent in scope.parent_of.items():
        if parent is not None:
            children_of.setdefault(parent, []).append(uid)
    if filters.unit_id is not None:
        parent_id: int | None = filters.unit_id
        heads = sorted(c for c in children_of.get(filters.unit_id, []) if c in units
                       or _subtree_touches(c, children_of, units))
    else:
        roots = scope.roots()
        parent_id = roots[0] if len(roots) == 1 else None
        heads = (sorted(c for c in children_of.get(roots[0], [])) if parent_id is not None
                 else roots)
    group_of: dict[object, object] = {}
    for head in heads:
        for uid in descendants(head, children_of):
            group_of[uid] = head
    if parent_id is not None:
        group_of[parent_id] = -parent_id  # its own responses
    definitions = index_store.load(conn)
    items = with_index_items(definitions)
    now_values = sums(conn, scope.vis, scope.parent_of, filters, ["unit_id"], items)
    then_values = sums(conn, scope.vis, scope.parent_of, filters.previous(), ["unit_id"], items)
    now_by = _by_group(rollup(now_values, 0, group_of))
    then_by = _by_group(rollup(then_values, 0, group_of))
    names = _unit_names(conn, [*heads, *([parent_id] if parent_id else [])])
    parent_totals = total_by_item(now_values)
    parent_est = _estimates(parent_totals, definitions, min_n)
    why_no_rate = rr.unavailable(filters)
    rates = None if why_no_rate else rr.group_rates(conn, scope.vis, scope.parent_of, filters,
                                                     group_of)
    tested: tuple[str, ...] = KPIS
    if rates is not None:
        parent_est[rr.RESPONSE_RATE] = rates.total.rate(min_n)
        tested = (*KPIS, rr.RESPONSE_RATE)  # its n is the invitations, a part of the parent's

    def row(key: int, unit_id: int, own_only: bool) -> LeagueRow:
        values = _estimates(now_by.get(key, {}), definitions, min_n)
        before = _estimates(then_by.get(key, {}), definitions, min_n)
        if rates is not None:
            values[rr.RESPONSE_RATE], before[rr.RESPONSE_RATE] = rates.estimates(key, min_n)
        code, zh, en = names.get(unit_id, (str(unit_id), str(unit_id), str(unit_id)))
        return LeagueRow(
            unit_id, code, zh, en, bool(children_of.get(unit_id)) and not own_only, own_only,
            now_by.get(key, {}).get(RESPONSES, Sums()).n, values,
            {kpi: compare(values[kpi], before[kpi]) for kpi in values},
            # not for the indices: their n is the smallest item n, so the unit's share of the
            # parent's responses (the overlap the test corrects for) is not known
            {kpi: compare_to_parent(values[kpi], parent_est[kpi]) for kpi in tested})

    rows = [row(h, h, False) for h in heads]
    if parent_id is not None and now_by.get(-parent_id, {}).get(RESPONSES):
        rows.append(row(-parent_id, parent_id, True))
    rows, tests = _controlled(rows)
    rows.sort(key=lambda r: (r.values["nps"].too_few, -(r.values["nps"].value or 0.0), r.code))
    parent_row = None
    if parent_id is not None:
        code, zh, en = names.get(parent_id, ("", "", ""))
        parent_row = LeagueRow(parent_id, code, zh, en, True, False,
                               parent_totals.get(RESPONSES, Sums()).n, parent_est, {}, {})
    return League(parent_row, rows, tuple(definitions), why_no_rate, tests)


def _controlled(rows: list[LeagueRow]) -> tuple[list[LeagueRow], int]:
    """The rows' period and parent markers under one Benjamini-Hochberg control."""
    pairs: list[tuple[object, Change]] = []
    for index, r in enumerate(rows):
        pairs += [((index, "period", k), c) for k, c in r.changes.items()]
        pairs += [((index, "parent", k), c) for k, c in r.vs_parent.items()]
    marked = _on_page(pairs)
    out = [dataclasses.replace(
        r, changes={k: marked[index, "period", k] for k in r.changes},
        vs_parent={k: marked[index, "parent", k] for k in r.vs_parent})
        for index, r in enumerate(rows)]
    return out, sum(1 for _, c in pairs if c.p_value is not None)


def _by_group(values: Mapping[tuple[object, ...], Sums]) -> dict[object, dict[str, Sums]]:
    out: dict[object, dict[str, Sums]] = {}
    for (group, item), s in values.items():
        out.setdefault(group, {})[str(item)] = s
    return out


def _estimates(totals: Mapping[str, Sums], definitions: Sequence[IndexDefinition],
               min_n: int) -> dict[str, Estimate]:
    """The KPIs and the indices (keyed index_kpi(d)) from one group's summed items."""
    out = {kpi: estimate(kpi, totals.get(item_of(kpi)), min_n) for kpi in KPIS}
    out.update({index_kpi(d): index_value(d, totals, min_n) for d in definitions})
    return out


def descendants(root: int, children_of: Mapping[int, list[int]]) -> list[int]:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children_of.get(node, ()))
    return found


def _subtree_touches(root: int, children_of: Mapping[int, list[int]],
                     units: frozenset[int]) -> bool:
    return any(u in units for u in descendants(root, children_of))


def _unit_names(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    u = t.org_unit
    rows = conn.execute(sa.select(u.c.id, u.c.code, u.c.name_zh, u.c.name_en)
                        .where(u.c.id.in_(sorted(set(ids))))).all()
    return {row.id: (row.code, row.name_zh, row.name_en) for row in rows}


def default_filters(today: dt.date, months: int = 12) -> Filters:
    """The last `months` whole calendar months up to and including the current one."""
    first = month_start(today)
    for _ in range(months - 1):
        first = month_start(first - dt.timedelta(days=1))
    last = month_start(today + dt.timedelta(days=32)) - dt.timedelta(days=1)
    return Filters(first, last)


def visible_unit_ids(scope: Scope, unit_id: int | None) -> frozenset[int]:
    return scope_units(scope.vis, scope.parent_of, unit_id)
