"""The data behind the behaviour page: the units of the league with their survey KPIs next to
repurchase rate, purchase frequency and average spend, and the cohort retention triangle of
the chosen unit (definitions in domain/behaviour; no web imports).

Transactions carry a unit but no staff member, so they count for the units a user sees in
full (a frontline user, who sees only the responses about themselves, sees no transactions).
Of the dashboard filters, the dates, the unit and the customer segment (the customer's current
one) apply to the transactions; touchpoint, channel and staff apply to the survey figures only.

The transactions of the period and of the window after it are read row by row through the
index on (unit_id, occurred_at); each customer's first purchase through the index on
customer_id. The figures are computed in Python (domain/behaviour).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

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


def behaviour_view(conn: Connection, scope: Scope, filters: Filters, *, window_days: int,
                   as_of: dt.datetime, min_n: int, tz: str = BUSINESS_TIMEZONE
                   ) -> BehaviourView:
    window = dt.timedelta(days=window_days)
    units = scope_units(scope.vis, scope.parent_of, filters.unit_id)
    period = b.Period(*utc_bounds(filters.date_from, filters.date_to, tz))
    first_day = utc_bounds(month_start(filters.date_from), filters.date_to, tz)[0]
    rows = purchases(conn, units, filters.segment, first_day, period.end + window)
    table = league(conn, scope, filters, min_n=min_n)
    unit_rows = _with_own_row(table, rows, min_n)
    group_of = {unit: index for index, r in enumerate(unit_rows)
                for unit in _units_of(r, scope) & units}
    groups, everyone = histories(rows, group_of)

    def figures(history: Mapping[int, list[b.Purchase]]) -> b.Behaviour:
        return b.behaviour(history, period, window, as_of, min_n=min_n)

    total = figures(everyone)
    shown = [UnitBehaviour(r, figures(groups.get(i, {}))) for i, r in enumerate(unit_rows)]
    parent = UnitBehaviour(table.parent, total) if table.parent is not None else None
    return BehaviourView(parent, shown, total,
                         cohorts(conn, units, filters, rows, ZoneInfo(tz), min_n=min_n),
                         _any_transaction(conn, scope.vis.unit_ids), window_days)


def _with_own_row(table: League, rows: list[Row], min_n: int) -> list[LeagueRow]:
    """The league's rows, plus one for the chosen unit's own purchases when it has no
    responses of its own (the league adds that row only for responses)."""
    parent = table.parent
    if parent is None or any(r.own_only for r in table.rows) \
            or not any(r.unit_id == parent.unit_id for r in rows):
        return table.rows
    nothing = {kpi: estimate(kpi, None, min_n) for kpi in KPIS}
    return [*table.rows, LeagueRow(parent.unit_id, parent.code, parent.name_zh, parent.name_en,
                                   False, True, 0, nothing, {}, {})]


def _units_of(row: LeagueRow, scope: Scope) -> frozenset[int]:
    return frozenset({row.unit_id}) if row.own_only else subtree(scope.parent_of, row.unit_id)


@dataclass(frozen=True)
class Row:
    unit_id: int
    customer_id: int
    at: dt.datetime  # UTC
    amount: Decimal


def _purchase_where(units: Iterable[int], segment: str | None) -> list[sa.ColumnElement[bool]]:
    where = [T.c.unit_id.in_(sorted(units)), T.c.kind != b.REFUND]
    if segment is not None:
        where.append(T.c.customer_id.in_(
            sa.select(t.customer.c.id).where(t.customer.c.segment == segment)))
    return where


def purchases(conn: Connection, units: frozenset[int], segment: str | None,
              start: dt.datetime, end: dt.datetime) -> list[Row]:
    """Purchases at these units from `start` to before `end`."""
    if not units:
        return []
    query = (sa.select(T.c.unit_id, T.c.customer_id, T.c.occurred_at, T.c.amount)
             .where(*_purchase_where(units, segment), T.c.occurred_at >= start,
                    T.c.occurred_at < end))
    return [Row(*r) for r in conn.execute(query)]


History = dict[int, list[b.Purchase]]


def histories(rows: Iterable[Row], group_of: Mapping[int, int]) -> tuple[dict[int, History],
                                                                          History]:
    """Each customer's purchases per group of units (a unit in no group counts only in the
    whole), and in the whole."""
    groups: dict[int, History] = {}
    everyone: History = {}
    for r in rows:
        purchase = b.Purchase(r.at, r.amount)
        everyone.setdefault(r.customer_id, []).append(purchase)
        group = group_of.get(r.unit_id)
        if group is not None:
            groups.setdefault(group, {}).setdefault(r.customer_id, []).append(purchase)
    return groups, everyone


def cohorts(conn: Connection, units: frozenset[int], filters: Filters, rows: list[Row],
            zone: ZoneInfo, *, min_n: int) -> list[b.Cohort]:
    """Cohorts of the months of the range: each customer's first purchase ever at `units`
    (read for the customers who bought in those months), retention up to the range's end."""
    first_month, last_month = month_start(filters.date_from), month_start(filters.date_to)
    end = utc_bounds(filters.date_from, filters.date_to, zone.key)[1]
    in_range = [(r.customer_id, r.at.astimezone(zone)) for r in rows if r.at < end]
    first = first_purchases(conn, units, filters.segment, {c for c, _ in in_range}, zone)
    return b.cohort_retention(first, in_range, first_month, last_month, min_n=min_n)


def first_purchases(conn: Connection, units: frozenset[int], segment: str | None,
                    customers: set[int], zone: ZoneInfo, *, chunk: int = 5000
                    ) -> dict[int, dt.datetime]:
    """Each customer's first purchase ever at these units."""
    out: dict[int, dt.datetime] = {}
    ids = sorted(customers)
    for offset in range(0, len(ids), chunk):
        part = ids[offset:offset + chunk]
        query = (sa.select(T.c.customer_id, sa.func.min(T.c.occurred_at))
                 .where(T.c.customer_id.in_(part), *_purchase_where(units, segment))
                 .group_by(T.c.customer_id))
        for customer, at in conn.execute(query):
            out[customer] = _aware(at).astimezone(zone)
    return out


def _aware(value: object) -> dt.datetime:
    """MIN() loses the column type: SQLite hands back text, PostgreSQL an aware datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


def _any_transaction(conn: Connection, units: frozenset[int]) -> bool:
    if not units:
        return False
    return conn.execute(sa.select(T.c.id).where(T.c.unit_id.in_(sorted(units))).limit(1)
                        ).first() is not None
