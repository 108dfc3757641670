"""The data behind the behaviour page: the units of the league with their survey KPIs next to
repurchase rate, purchase frequency and average spend, and the cohort retention triangle of
the chosen unit (definitions in domain/behaviour; no web imports).

Transactions carry a unit but no staff member, so they count for the units a user sees in
full (a frontline user, who sees only the responses about themselves, sees no transactions).
Of the dashboard filters, the dates, the unit and the customer segment (the customer's current
one) apply to the transactions; touchpoint, channel and staff apply to the survey figures only.

The database does the work per transaction: it counts and sums each customer's purchases
per group of units, finds a repurchase with LEAD(occurred_at) over the customer's purchases in
the group (a range read through the index on (unit_id, occurred_at)), and counts the cohorts'
customers per month of first purchase; the domain (domain/behaviour) turns those counts and
sums into figures, n and intervals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, month_start, scope_units, utc_bounds
from tiyan.analytics.dashboard import KPIS, League, LeagueRow, Scope, estimate, league
from tiyan.domain import behaviour as b
from tiyan.domain.access import subtree
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE

T = t.customer_transaction


@dataclass(frozen=True)
class UnitBehaviour:
    unit: LeagueRow  # the league's row: code, names, responses, NPS, CSAT
    figures: b.Behaviour


@dataclass(frozen=True)
class BehaviourView:
    parent: UnitBehaviour | None  # the chosen unit (or the user's single top unit)
    rows: list[UnitBehaviour]
    total: b.Behaviour  # every unit shown
    cohorts: list[b.Cohort]  # of the chosen unit's subtree (or everything the user sees)
    imported: bool  # any transaction at all in the user's scope
    window_days: int
    staff_only: bool = False  # the user sees only their own responses, no unit in full


def behaviour_view(conn: Connection, scope: Scope, filters: Filters, *, window_days: int,
                   as_of: dt.datetime, min_n: int, tz: str = BUSINESS_TIMEZONE
                   ) -> BehaviourView:
    window = dt.timedelta(days=window_days)
    units = scope_units(scope.vis, scope.parent_of, filters.unit_id)
    period = b.Period(*utc_bounds(filters.date_from, filters.date_to, tz))
    reach = Reach(units, filters.segment, period, window_days)
    table = league(conn, scope, filters, min_n=min_n)
    unit_rows = _with_own_row(conn, table, reach, min_n)
    groups = {index: _units_of(r, scope) & units for index, r in enumerate(unit_rows)}
    found = behaviour_sums(conn, reach, groups)

    def figures(sums: b.BehaviourSums) -> b.Behaviour:
        return b.figures(sums, period, window, as_of, min_n=min_n)

    total = figures(found.get(WHOLE, b.BehaviourSums()))
    shown = [UnitBehaviour(r, figures(found.get(i, b.BehaviourSums())))
             for i, r in enumerate(unit_rows)]
    parent = UnitBehaviour(table.parent, total) if table.parent is not None else None
    return BehaviourView(parent, shown, total, cohorts(conn, units, filters, tz, min_n=min_n),
                         _any_transaction(conn, scope.vis.unit_ids), window_days,
                         staff_only=not scope.vis.unit_ids and bool(scope.vis.staff_rows))


@dataclass(frozen=True)
class Reach:
    """The purchases the figures read: at these units (and of customers of the segment), in
    the period and the window after it."""

    units: frozenset[int]
    segment: str | None
    period: b.Period
    window_days: int

    @property
    def end(self) -> dt.datetime:
        return self.period.end + dt.timedelta(days=self.window_days)


def _with_own_row(conn: Connection, table: League, reach: Reach, min_n: int
                  ) -> list[LeagueRow]:
    """The league's rows, plus one for the chosen unit's own purchases when it has no
    responses of its own (the league adds that row only for responses)."""
    parent = table.parent
    if parent is None or any(r.own_only for r in table.rows) \
            or not _bought_at(conn, parent.unit_id, reach):
        return table.rows
    nothing = {kpi: estimate(kpi, None, min_n) for kpi in KPIS}
    return [*table.rows, LeagueRow(parent.unit_id, parent.code, parent.name_zh, parent.name_en,
                                   False, True, 0, nothing, {}, {})]


def _units_of(row: LeagueRow, scope: Scope) -> frozenset[int]:
    return frozenset({row.unit_id}) if row.own_only else subtree(scope.parent_of, row.unit_id)


def _purchase_where(units: Iterable[int], segment: str | None) -> list[sa.ColumnElement[bool]]:
    where = [T.c.unit_id.in_(sorted(units)), T.c.kind != b.REFUND]
    if segment is not None:
        where.append(T.c.customer_id.in_(
            sa.select(t.customer.c.id).where(t.customer.c.segment == segment)))
    return where


def _bought_at(conn: Connection, unit_id: int, reach: Reach) -> bool:
    query = sa.select(T.c.id).where(*_purchase_where([unit_id], reach.segment),
                                    T.c.occurred_at >= reach.period.start,
                                    T.c.occurred_at < reach.end).limit(1)
    return conn.execute(query).first() is not None


def behaviour_sums(conn: Connection, reach: Reach, groups: Mapping[int, frozenset[int]]
                   ) -> dict[int, b.BehaviourSums]:
    """The counts and sums of each group of units (disjoint, keyed by numbers >= 0), and of
    all of `reach.units` under WHOLE, in one read; a group without buyers is left out."""
    cases = [(T.c.unit_id.in_(sorted(units)), g) for g, units in groups.items() if units]
    group = sa.case(*cases, else_=WHOLE) if cases else sa.literal(WHOLE)
    rows = (sa.select(
        group.label("grp"), T.c.customer_id, T.c.occurred_at,
        sa.type_coerce(T.c.amount, sa.BigInteger).label("cents"),
        sa.func.lead(T.c.occurred_at).over(partition_by=(group, T.c.customer_id),
                                           order_by=T.c.occurred_at).label("next_here"),
        sa.func.lead(T.c.occurred_at).over(partition_by=T.c.customer_id,
                                           order_by=T.c.occurred_at).label("next_any"))
        .where(*_purchase_where(reach.units, reach.segment),
               T.c.occurred_at >= reach.period.start, T.c.occurred_at < reach.end)
        .subquery("rows"))
    cents = sa.cast(rows.c.cents, sa.Float)
    per = (sa.select(rows.c.grp, rows.c.customer_id, sa.func.count().label("k"),
                     sa.func.sum(rows.c.cents).label("spend"),
                     sa.func.sum(cents * cents).label("sq"),
                     _repurchased(conn, rows.c.occurred_at, rows.c.next_here, reach)
                     .label("again"),
                     _repurchased(conn, rows.c.occurred_at, rows.c.next_any, reach)
                     .label("again_any"))
           .where(rows.c.occurred_at >= reach.period.start,
                  rows.c.occurred_at < reach.period.end)
           .group_by(rows.c.grp, rows.c.customer_id).cte("per_customer"))
    whole = (sa.select(sa.func.sum(per.c.k).label("k"), sa.func.sum(per.c.spend).label("spend"),
                       sa.func.sum(per.c.sq).label("sq"),
                       sa.func.max(per.c.again_any).label("again"))
             .group_by(per.c.customer_id).subquery("whole"))
    query = sa.union_all(_sums_select(per.c, sa.literal(0) + per.c.grp)
                         .where(per.c.grp != WHOLE).group_by(per.c.grp),
                         _sums_select(whole.c, sa.literal(WHOLE)))
    return {int(g): b.BehaviourSums(int(n), int(again), int(k), float(k_sq), float(spend) / 100,
                                    float(spend_sq) / 10_000, float(sq) / 10_000)
            for g, n, again, k, k_sq, spend, spend_sq, sq in conn.execute(query) if n}


WHOLE = -1


def _sums_select(c: Any, key: sa.ColumnElement[int]) -> sa.Select[Any]:
    """Buyers, repeat buyers, Σk, Σk², Σspend, Σspend², Σamount² over per-customer rows."""
    spend = sa.cast(c.spend, sa.Float)
    return sa.select(key, sa.func.count(), sa.func.sum(c.again), sa.func.sum(c.k),
                     sa.func.sum(c.k * c.k), sa.func.sum(c.spend), sa.func.sum(spend * spend),
                     sa.func.sum(c.sq))


def _repurchased(conn: Connection, at: sa.ColumnElement[Any], following: sa.ColumnElement[Any],
                 reach: Reach) -> sa.ColumnElement[int]:
    """1 when any purchase of the customer's group is followed by a later one within the
    window (the next one: LEAD), else 0."""
    again = sa.and_(following > at, following <= _plus_days(conn, at, reach.window_days))
    return sa.func.max(sa.case((again, 1), else_=0))


def _plus_days(conn: Connection, moment: sa.ColumnElement[dt.datetime], days: int
               ) -> sa.ColumnElement[Any]:
    """`moment` + `days` whole days, exactly. SQLite keeps UTC times as text
    'YYYY-MM-DD HH:MM:SS.ffffff': the days go to the date part, the time part stays."""
    if conn.dialect.name == "sqlite":
        day = sa.func.date(sa.func.substr(moment, 1, 10), f"+{days} days", type_=sa.String)
        return day + sa.func.substr(moment, 11)
    return moment + sa.func.make_interval(0, 0, 0, days)


def cohorts(conn: Connection, units: frozenset[int], filters: Filters, tz: str, *,
            min_n: int) -> list[b.Cohort]:
    """Cohorts of the local months of the range: each customer's first purchase ever at
    `units` (an earlier one before the range takes them out), retention up to the range's
    end."""
    first_month, last_month = month_start(filters.date_from), month_start(filters.date_to)
    months = _months(first_month, last_month)
    if not units:
        return []
    starts = [utc_bounds(m, m, tz)[0] for m in months]
    end = utc_bounds(filters.date_from, filters.date_to, tz)[1]
    month = sa.case(*[(T.c.occurred_at < s, i) for i, s in enumerate(starts[1:])],
                    else_=len(starts) - 1)
    bought = (sa.select(T.c.customer_id, month.label("m"))
              .where(*_purchase_where(units, filters.segment), T.c.occurred_at >= starts[0],
                     T.c.occurred_at < end).distinct().cte("bought"))
    before = T.alias("before")
    members = (sa.select(bought.c.customer_id, sa.func.min(bought.c.m).label("cohort"))
               .group_by(bought.c.customer_id)
               .having(~sa.exists().where(before.c.customer_id == bought.c.customer_id,
                                          before.c.unit_id.in_(sorted(units)),
                                          before.c.kind != b.REFUND,
                                          before.c.occurred_at < starts[0]))
               .subquery("members"))
    query = (sa.select(members.c.cohort, bought.c.m, sa.func.count())
             .select_from(members.join(bought, bought.c.customer_id == members.c.customer_id))
             .group_by(members.c.cohort, bought.c.m))
    sizes: dict[dt.date, int] = {}
    active: dict[tuple[dt.date, int], int] = {}
    for cohort, m, n in conn.execute(query):
        if m == cohort:
            sizes[months[cohort]] = n
        elif m > cohort:
            active[months[cohort], m - cohort] = n
    return b.retention(sizes, active, last_month, min_n=min_n)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from `first` to `last`."""
    return [dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1)
            for k in range(b.months_between(first, last) + 1)]


def _any_transaction(conn: Connection, units: frozenset[int]) -> bool:
    if not units:
        return False
    return conn.execute(sa.select(T.c.id).where(T.c.unit_id.in_(sorted(units))).limit(1)
                        ).first() is not None
