"""Staff scorecards: NPS or overall satisfaction per staff member with n, 95% interval, minimum n,
and the score shrunk towards their unit's mean (domain/staff), plus the period's service star.

Read from the responses that name a staff member, within the user's scope and filters (the
aggregates hold no staff). A frontline user sees only their own responses, so their shrinkage
has only themselves to lean on and their score is shown as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, raw_where, touchpoint_family
from tiyan.analytics.dashboard import Scope
from tiyan.domain.metrics import Estimate, MetricsError, mean_estimate, nps_from_counts
from tiyan.domain.staff import PriorSource, StaffScore, StaffSums, staff_scorecard, star_rank
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE

KPIS = ("nps", "csat")


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
    unit_mean: float
    prior_strength: float
    prior_source: PriorSource
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


def _per_staff(conn: Connection, scope: Scope, filters: Filters, kpi: str,
               tz: str) -> Sequence[sa.Row]:  # type: ignore[type-arg]
    r, a, s, u = t.response, t.answer, t.staff, t.org_unit
    where = raw_where(scope.vis, scope.parent_of, filters, tz)
    if filters.touchpoint_id is not None:
        where = sa.and_(where, r.c.touchpoint_id.in_(touchpoint_family(
            conn, filters.touchpoint_id)))
    x = a.c.value_num
    # NPS: each answer as -100 / 0 / 100, so that their mean is the NPS
    score = sa.case((x >= 9, 100.0), (x <= 6, -100.0), else_=0.0) if kpi == "nps" else x
    return conn.execute(
        sa.select(s.c.id, s.c.code, s.c.name, s.c.unit_id, u.c.code.label("unit_code"),
                  u.c.name_zh, u.c.name_en, sa.func.count().label("n"),
                  sa.func.sum(score).label("total"), sa.func.sum(score * score).label("sq"),
                  sa.func.sum(sa.case((x >= 9, 1), else_=0)).label("top"),
                  sa.func.sum(sa.case((x <= 6, 1), else_=0)).label("bottom"))
        .select_from(r.join(a, a.c.response_id == r.c.id).join(s, s.c.id == r.c.staff_id)
                     .join(u, u.c.id == s.c.unit_id))
        .where(where, r.c.status == "complete", a.c.item_code == kpi, x.is_not(None))
        .group_by(s.c.id, s.c.code, s.c.name, s.c.unit_id, u.c.code, u.c.name_zh,
                  u.c.name_en)).all()


def scorecards(conn: Connection, scope: Scope, filters: Filters, kpi: str, *, min_n: int,
               tz: str = BUSINESS_TIMEZONE) -> Scorecards:
    if kpi not in KPIS:
        raise MetricsError(f'"{kpi}" is not a staff KPI ({", ".join(KPIS)})')
    found = _per_staff(conn, scope, filters, kpi, tz)
    by_unit: dict[int, list[sa.Row]] = {}  # type: ignore[type-arg]
    for row in found:
        by_unit.setdefault(row.unit_id, []).append(row)
    rows: list[StaffRow] = []
    scored: dict[int, StaffScore] = {}
    for group in by_unit.values():
        card = staff_scorecard([StaffSums(str(x.id), int(x.n), float(x.total or 0),
                                          float(x.sq or 0)) for x in group], min_n=min_n)
        for x, score in zip(group, card.scores, strict=True):
            scored[x.id] = score
            n = int(x.n)
            value = (nps_from_counts(int(x.top), n - int(x.top) - int(x.bottom),
                                     int(x.bottom), min_n=min_n) if kpi == "nps"
                     else mean_estimate(n, float(x.total or 0), float(x.sq or 0), min_n=min_n))
            rows.append(StaffRow(x.id, x.code, x.name, x.unit_id, x.unit_code, x.name_zh,
                                 x.name_en, value, score.shrunk, card.unit_mean,
                                 card.prior_strength, card.prior_source))
    eligible = [scored[r.staff_id] for r in rows if not scored[r.staff_id].too_few]
    star_id = int(min(eligible, key=star_rank).staff_id) if eligible else None
    rows = [r if r.staff_id != star_id else StaffRow(**{**r.__dict__, "star": True})
            for r in rows]
    rows.sort(key=lambda r: (r.shrunk is None, -(r.shrunk or 0.0), -r.value.n, r.code))
    star = next((r for r in rows if r.star), None)
    return Scorecards(kpi, min_n, rows, star)
