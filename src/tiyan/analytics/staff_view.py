"""Staff scorecards: NPS or overall satisfaction per staff member with n, 95% interval, minimum n,
and the score shrunk towards their unit's mean (domain/staff), plus the period's service star.

The sums per staff member come from the staff aggregate (`staff_agg`, store/staff_aggregates:
whole months from its month rows, the days around them from its day rows) for the user's units
and the date, unit, touchpoint, channel and staff filters. A frontline user, a slice the
aggregate does not hold (segment, answer, aspect, customer attribute) and a database whose staff
aggregate is still being filled read the responses that name a staff member instead; that path
is also the reference the tests compare the aggregate with. A frontline user sees only their own
responses, so their shrinkage has only themselves to lean on and their score is shown as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, raw_where, scope_units, split_range, touchpoint_family
from tiyan.analytics.dashboard import Scope
from tiyan.domain.metrics import Estimate, MetricsError, mean_estimate, nps_from_counts
from tiyan.domain.staff import PriorSource, StaffScore, StaffSums, staff_scorecard, star_rank
from tiyan.store import staff_aggregates
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE

KPIS = staff_aggregates.ITEMS


@dataclass(frozen=True)
class StaffRow:
    staff_id: int
    code: str
    name: str
    unit_id: int
    unit_code: str
    unit_zh: str
    unit_en: str
    value: Estimate  # the raw figure with its interval ("too few" under min n)
    shrunk: float | None  # None when too few
    unit_mean: float | None  # None when the unit's responses are under the minimum n
    prior_strength: float
    prior_source: PriorSource
    unit_n: int = 0  # the unit's responses behind its mean
    star: bool = False


@dataclass(frozen=True)
class Scorecards:
    kpi: str
    min_n: int
    rows: list[StaffRow]
    star: StaffRow | None

    @property
    def responses(self) -> int:
        return sum(r.value.n for r in self.rows)


@dataclass(frozen=True)
class _StaffSums:
    """One staff member's sums as the scorecard reads them (NPS answers as -100 / 0 / 100)."""

    id: int
    code: str
    name: str
    unit_id: int
    unit_code: str
    name_zh: str
    name_en: str
    n: int
    total: float
    sq: float
    top: int
    bottom: int


def _per_staff(conn: Connection, scope: Scope, filters: Filters, kpi: str,
               tz: str) -> Sequence[_StaffSums]:
    if from_aggregates(conn, scope, filters):
        return _per_staff_from_aggregates(conn, scope, filters, kpi)
    return _per_staff_from_responses(conn, scope, filters, kpi, tz)


def from_aggregates(conn: Connection, scope: Scope, filters: Filters) -> bool:
    """Whether the staff aggregate answers this view (see the module's docstring)."""
    return not (scope.vis.staff_rows or filters.segment is not None or filters.answer is not None
                or filters.aspect is not None or filters.attr is not None
                or staff_aggregates.is_stale(conn))


def _per_staff_from_aggregates(conn: Connection, scope: Scope, filters: Filters,
                               kpi: str) -> list[_StaffSums]:
    g = t.staff_agg
    units = scope_units(scope.vis, scope.parent_of, filters.unit_id)
    if not units:
        return []
    months, day_ranges = split_range(filters.date_from, filters.date_to)
    parts = ([("m", *months)] if months else []) + [("d", a, b) for a, b in day_ranges]
    common = [g.c.item_code == kpi, g.c.unit_id.in_(sorted(units))]
    if filters.touchpoint_id is not None:
        common.append(g.c.touchpoint_id.in_(touchpoint_family(conn, filters.touchpoint_id)))
    if filters.channel:
        common.append(g.c.channel == filters.channel)
    if filters.staff_id is not None:
        common.append(g.c.staff_id == filters.staff_id)
    found: dict[int, tuple[int, float, float, int, int]] = {}
    for grain, first, last in parts:
        for staff_id, n, total, sq, top, bottom in conn.execute(
                sa.select(g.c.staff_id, sa.func.sum(g.c.n), sa.func.sum(g.c.total),
                          sa.func.sum(g.c.total_sq), sa.func.sum(g.c.top),
                          sa.func.sum(g.c.bottom))
                .where(g.c.grain == grain, g.c.bucket.between(first, last), *common)
                .group_by(g.c.staff_id)):
            before = found.get(staff_id, (0, 0.0, 0.0, 0, 0))
            found[staff_id] = (before[0] + int(n), before[1] + float(total or 0),
                               before[2] + float(sq or 0), before[3] + int(top or 0),
                               before[4] + int(bottom or 0))
    s, u = t.staff, t.org_unit
    out = []
    for sid, code, name, unit_id, unit_code, name_zh, name_en in conn.execute(
            sa.select(s.c.id, s.c.code, s.c.name, s.c.unit_id, u.c.code, u.c.name_zh, u.c.name_en)
            .join(u, u.c.id == s.c.unit_id).where(s.c.id.in_(sorted(found)))):
        n, total, sq, top, bottom = found[sid]
        if kpi == "nps":  # each answer as -100 / 0 / 100
            total, sq = 100.0 * (top - bottom), 10_000.0 * (top + bottom)
        out.append(_StaffSums(sid, code, name, unit_id, unit_code, name_zh, name_en, n, total,
                              sq, top, bottom))
    return out


def _per_staff_from_responses(conn: Connection, scope: Scope, filters: Filters, kpi: str,
                              tz: str) -> list[_StaffSums]:
    r, a, s, u = t.response, t.answer, t.staff, t.org_unit
    where = raw_where(scope.vis, scope.parent_of, filters, tz)
    if filters.touchpoint_id is not None:
        where = sa.and_(where, r.c.touchpoint_id.in_(touchpoint_family(
            conn, filters.touchpoint_id)))
    x = a.c.value_num
    # NPS: each answer as -100 / 0 / 100, so that their mean is the NPS
    score = sa.case((x >= 9, 100.0), (x <= 6, -100.0), else_=0.0) if kpi == "nps" else x
    rows = conn.execute(
        sa.select(s.c.id, s.c.code, s.c.name, s.c.unit_id, u.c.code.label("unit_code"),
                  u.c.name_zh, u.c.name_en, sa.func.count().label("n"),
                  sa.func.sum(score).label("total"), sa.func.sum(score * score).label("sq"),
                  sa.func.sum(sa.case((x >= 9, 1), else_=0)).label("top"),
                  sa.func.sum(sa.case((x <= 6, 1), else_=0)).label("bottom"))
        .select_from(r.join(a, a.c.response_id == r.c.id).join(s, s.c.id == r.c.staff_id)
                     .join(u, u.c.id == s.c.unit_id))
        .where(where, r.c.status == "complete", a.c.item_code == kpi, x.is_not(None))
        .group_by(s.c.id, s.c.code, s.c.name, s.c.unit_id, u.c.code, u.c.name_zh,
                  u.c.name_en))
    return [_StaffSums(x.id, x.code, x.name, x.unit_id, x.unit_code, x.name_zh, x.name_en,
                       int(x.n), float(x.total or 0), float(x.sq or 0), int(x.top or 0),
                       int(x.bottom or 0)) for x in rows]


def scorecards(conn: Connection, scope: Scope, filters: Filters, kpi: str, *, min_n: int,
               tz: str = BUSINESS_TIMEZONE) -> Scorecards:
    if kpi not in KPIS:
        raise MetricsError("staff_view.not_staff_kpi", kpi=kpi, kpis=", ".join(KPIS))
    found = _per_staff(conn, scope, filters, kpi, tz)
    by_unit: dict[int, list[_StaffSums]] = {}
    for row in found:
        by_unit.setdefault(row.unit_id, []).append(row)
    rows: list[StaffRow] = []
    scored: dict[int, StaffScore] = {}
    for group in by_unit.values():
        card = staff_scorecard([StaffSums(str(x.id), x.n, x.total, x.sq) for x in group],
                               min_n=min_n)
        unit_n = sum(x.n for x in group)  # the responses behind the unit mean
        for x, score in zip(group, card.scores, strict=True):
            scored[x.id] = score
            value = (nps_from_counts(x.top, x.n - x.top - x.bottom, x.bottom, min_n=min_n)
                     if kpi == "nps" else mean_estimate(x.n, x.total, x.sq, min_n=min_n))
            rows.append(StaffRow(x.id, x.code, x.name, x.unit_id, x.unit_code, x.name_zh,
                                 x.name_en, value, score.shrunk,
                                 card.unit_mean if unit_n >= max(min_n, 1) else None,
                                 card.prior_strength, card.prior_source, unit_n))
    eligible = [scored[r.staff_id] for r in rows if not scored[r.staff_id].too_few]
    star_id = int(min(eligible, key=star_rank).staff_id) if eligible else None
    rows = [r if r.staff_id != star_id else StaffRow(**{**r.__dict__, "star": True})
            for r in rows]
    rows.sort(key=lambda r: (r.shrunk is None, -(r.shrunk or 0.0), -r.value.n, r.code))
    star = next((r for r in rows if r.star), None)
    return Scorecards(kpi, min_n, rows, star)
