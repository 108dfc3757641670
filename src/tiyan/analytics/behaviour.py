"""The data behind the behaviour page: the units of the league with their survey KPIs next to
repurchase rate, purchase frequency and average spend, and the cohort retention triangle of
the chosen unit (definitions in domain/behaviour; no web imports).

Transactions carry a unit but no staff member, so they count for the units a user sees in
full (a frontline user, who sees only the responses about themselves, sees no transactions).
Of the dashboard filters, the dates, the unit and the customer segment (the customer's current
one) apply to the transactions; touchpoint, channel and staff apply to the survey figures only.

How the figures are made. One read (`read_purchases`) fetches the purchases (every kind but
refund) at the chosen units from the first day of the range's first month to the window after
its end: four integer columns (unit, customer, the time as microseconds since 1970 UTC, the
amount in cents), no ORDER BY, no window function, on the driver's cursor in chunks of `CHUNK`
rows into NumPy arrays (`Purchases`; PostgreSQL's server-side cursor keeps the rest there). It
first counts the range on the index on (unit_id, occurred_at), up to `SCAN_SHARE` of the
table, and reads through that index below the share (one unit, a short range) or scans the
table above it (a row through an index costs a lookup in the table: at the root over a year
of 1 M, SQLite takes 3 s through the index against 0.4 s scanning). NumPy then does the
per-customer work:

- `sums_of`: from the period's start on, one sort by (customer, time) and a stable sort of
  that by the row's group (unit -> group through a lookup array), so that each (group,
  customer) is a run in time order. A purchase in the period is followed by a repurchase when
  the next row of its run is later and at most the window later (what LEAD(occurred_at) gave
  before); per run the purchases, Σcents, Σcents² in the period and whether one was followed
  (`np.add.reduceat`), then per group buyers, repeat buyers and the sums. The whole (WHOLE) is
  the same over the runs of customers in the (customer, time) order, every unit included.
- `cohorts_of`: each row's local month by `np.searchsorted` on the months' UTC starts, the
  distinct (customer, month) pairs of a sort, a customer's cohort their first month; those
  with a purchase at the units before the first month are taken out by a second query
  (`_bought_before`: the customers of the range, one probe each on the index on (customer_id,
  occurred_at), 1,000 to a query on SQLite).

Exact as the SQL was: times are whole microseconds (SQLite: unixepoch of the stored UTC text
plus its microseconds; PostgreSQL: extract(epoch), a numeric), so the window's end is exact;
the counts and Σcents are int64, the squares floats as before. Memory: the arrays take 32
bytes per purchase read, the sorts and gathers about as much again, and at most `CHUNK` rows
are Python objects at a time: the peak is under 100 bytes per purchase read (89 at the root of
bench/behaviour.py's million, tracemalloc).
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, month_start, scope_units, utc_bounds
from tiyan.analytics.dashboard import (
    KPIS,
    League,
    LeagueRow,
    Scope,
    bucket_after,
    estimate,
    league,
)
from tiyan.domain import behaviour as b
from tiyan.domain.access import subtree
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE

T = t.customer_transaction
Ints = NDArray[np.int64]


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
    # the range's last month when the range's end or today cuts it short: its first day and the
    # last day counted (before the first where it has not begun); its cohort cells are partial
    partial_month: tuple[dt.date, dt.date] | None = None

    def partial_cell(self, cohort: b.Cohort, offset: int) -> bool:
        """Whether the cell `offset` months after `cohort` (1 = the month after) falls in the
        partial month; offset 0 is the cohort's own month."""
        if self.partial_month is None:
            return False
        return b.months_between(cohort.month, self.partial_month[0]) == offset


def partial_month(filters: Filters, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The range's last month with the last day counted, when that is before its last day."""
    first = month_start(filters.date_to)
    month_end = bucket_after(first, "month") - dt.timedelta(days=1)
    last = min(filters.date_to, today)
    return (first, max(last, first - dt.timedelta(days=1))) if last < month_end else None


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
    months = Months.of(filters, tz)
    bought = read_purchases(conn, units, filters.segment, months.starts[0], reach.end)
    found = sums_of(bought, reach, groups)

    def figures(sums: b.BehaviourSums) -> b.Behaviour:
        return b.figures(sums, period, window, as_of, min_n=min_n)

    total = figures(found.get(WHOLE, b.BehaviourSums()))
    shown = [UnitBehaviour(r, figures(found.get(i, b.BehaviourSums())))
             for i, r in enumerate(unit_rows)]
    parent = UnitBehaviour(table.parent, total) if table.parent is not None else None
    return BehaviourView(parent, shown, total, cohorts_of(conn, bought, units, months,
                                                          min_n=min_n),
                         _any_transaction(conn, scope.vis.unit_ids), window_days,
                         staff_only=not scope.vis.unit_ids and bool(scope.vis.staff_rows),
                         partial_month=partial_month(filters, _local_day(as_of, tz)))


def _local_day(moment: dt.datetime, tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).date()


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


# --- the purchases as arrays --------------------------------------------------------------------

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CHUNK = 100_000  # rows fetched at a time


def micros(moment: dt.datetime) -> int:
    """An aware moment as whole microseconds since 1970 UTC."""
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Purchases:
    """Purchases as columns, in no particular order."""

    unit: Ints
    customer: Ints
    at: Ints  # microseconds since 1970 UTC
    cents: Ints

    def where(self, keep: NDArray[np.bool_]) -> Purchases:
        if keep.all():
            return self
        return Purchases(*(getattr(self, f.name)[keep] for f in fields(self)))


def read_purchases(conn: Connection, units: frozenset[int], segment: str | None,
                   start: dt.datetime, end: dt.datetime) -> Purchases:
    """The purchases at `units` (of customers of `segment`) in [start, end): one read."""
    columns: list[list[Ints]] = [[], [], [], []]
    if units:
        read = _read_sqlite if conn.dialect.name == "sqlite" else _read_postgres
        scan = _mostly(conn, sorted(units), start, end)
        for rows in read(conn, sorted(units), segment, start, end, scan):
            block = np.fromiter(itertools.chain.from_iterable(rows), np.int64,
                                count=4 * len(rows)).reshape(-1, 4)
            for column, values in zip(columns, block.T, strict=True):
                column.append(values.copy())
    return Purchases(*(np.concatenate(c) if c else np.zeros(0, np.int64) for c in columns))


# The columns read, on the driver's cursor (SQLAlchemy's rows would double the fetch's time)
SELECT = "SELECT unit_id, customer_id, {micros}, amount FROM customer_transaction WHERE "
IN_SEGMENT = " AND customer_id IN (SELECT id FROM customer WHERE segment = {mark})"
# SQLite keeps a UTC time as text 'YYYY-MM-DD HH:MM:SS.ffffff' (what SQLAlchemy writes)
SQLITE_MICROS = "{seconds} * 1000000 + CAST(substr(occurred_at, 21, 6) AS INTEGER)".format(
    seconds="unixepoch(occurred_at)" if sqlite3.sqlite_version_info >= (3, 38)
    else "CAST(strftime('%s', occurred_at) AS INTEGER)")
# A row read through an index on unit_id or occurred_at costs SQLite about 25 times a row of
# a scan of the whole table (the row is looked up in the table), PostgreSQL about 4 times:
# past this share of the table's rows, the read scans (PostgreSQL's planner chose the index
# on unit_id for the root's million: 2.8 s against 0.75 s).
SCAN_SHARE = {"sqlite": 1 / 20, "postgresql": 1 / 4}


def _read_sqlite(conn: Connection, units: list[int], segment: str | None, start: dt.datetime,
                 end: dt.datetime, scan: bool) -> Iterator[Sequence[Any]]:
    bare = "+" if scan else ""  # "+column": not through an index
    sql = (SELECT.format(micros=SQLITE_MICROS)
           + f"{bare}unit_id IN ({', '.join(str(int(u)) for u in units)}) AND kind <> ? "
           f"AND {bare}occurred_at >= ? AND {bare}occurred_at < ?")
    params: list[Any] = [b.REFUND, _sqlite_time(start), _sqlite_time(end)]
    if segment is not None:
        sql += IN_SEGMENT.format(mark="?")
        params.append(segment)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield rows
    finally:
        cursor.close()


def _sqlite_time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S.%f}"


def _mostly(conn: Connection, units: list[int], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the transactions at `units` in [start, end) are more than the SCAN_SHARE of
    the table's (counted on the index, up to that share)."""
    rows = int(conn.execute(sa.select(sa.func.max(T.c.id))).scalar() or 0)
    enough = int(rows * SCAN_SHARE[conn.dialect.name])
    counted = sa.select(T.c.unit_id).where(T.c.unit_id.in_(units), T.c.occurred_at >= start,
                                           T.c.occurred_at < end).limit(enough + 1)
    found = conn.execute(sa.select(sa.func.count()).select_from(counted.subquery())).scalar()
    return int(found or 0) > enough


def _read_postgres(conn: Connection, units: list[int], segment: str | None,
                   start: dt.datetime, end: dt.datetime, scan: bool) -> Iterator[Sequence[Any]]:
    unit, at = ("unit_id + 0", "occurred_at + interval '0 s'") if scan \
        else ("unit_id", "occurred_at")  # an expression is not read through an index
    sql = (SELECT.format(micros="(extract(epoch FROM occurred_at) * 1000000)::bigint")
           + f"{unit} = ANY(%s) AND kind <> %s AND {at} >= %s AND {at} < %s")
    params: list[Any] = [units, b.REFUND, start, end]
    if segment is not None:
        sql += IN_SEGMENT.format(mark="%s")
        params.append(segment)
    driver: Any = conn.connection.driver_connection
    with driver.cursor(name="behaviour_purchases", binary=True) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield rows


def behaviour_sums(conn: Connection, reach: Reach, groups: Mapping[int, frozenset[int]]
                   ) -> dict[int, b.BehaviourSums]:
    """The counts and sums of each group of units (disjoint, keyed by numbers >= 0), and of
    all of `reach.units` under WHOLE; a group without buyers is left out."""
    bought = read_purchases(conn, reach.units, reach.segment, reach.period.start, reach.end)
    return sums_of(bought, reach, groups)


WHOLE = -1


def sums_of(bought: Purchases, reach: Reach, groups: Mapping[int, frozenset[int]]
            ) -> dict[int, b.BehaviourSums]:
    """`behaviour_sums` of purchases read from at most the period's start to `reach.end`."""
    rows = bought.where(bought.at >= micros(reach.period.start))
    group = _group_of(rows.unit, groups)
    by_customer = _by_customer_and_time(rows)
    by_group = by_customer[np.argsort(group[by_customer], kind="stable")]
    found = _group_sums(*_per_customer(rows, by_group, group, reach))
    found.pop(WHOLE, None)  # the units outside every group
    whole = _group_sums(*_per_customer(rows, by_customer, np.full(len(rows.at), WHOLE), reach))
    return found | whole


def _by_customer_and_time(rows: Purchases) -> Ints:
    """The order of the rows by customer, then time: one sort of one number per row where the
    range of customer ids times the span of times fits in 63 bits (200,000 ids over 15
    months), else a lexsort (3 times slower)."""
    if not len(rows.at):
        return np.zeros(0, np.int64)
    first, low = int(rows.customer.min()), int(rows.at.min())
    span = int(rows.at.max()) - low + 1
    if (int(rows.customer.max()) - first + 1) * span >= 2**63:
        return np.lexsort((rows.at, rows.customer))
    return np.argsort((rows.customer - first) * span + (rows.at - low))


def _group_of(unit: Ints, groups: Mapping[int, frozenset[int]]) -> Ints:
    """Each row's group, WHOLE where none (the first group listed that holds the unit)."""
    members = [u for units in groups.values() for u in units]
    lookup = np.full(max([int(unit.max(initial=0)), *members]) + 1, WHOLE, np.int64)
    for g, units in reversed(list(groups.items())):
        lookup[sorted(units)] = g
    return lookup[unit]


PerCustomer = tuple[Ints, Ints, Ints, NDArray[np.float64], NDArray[np.bool_]]


def _per_customer(rows: Purchases, order: Ints, group: Ints, reach: Reach) -> PerCustomer:
    """Per run of (group, customer) in `order` (time-sorted within each) with a purchase in the
    period: its group, purchases, Σcents and Σcents² in the period, and whether one of them
    was followed by another purchase of the run within the window."""
    if not len(order):
        return order, order, order, np.zeros(0), np.zeros(0, dtype=bool)
    at, cents, key = rows.at[order], rows.cents[order], group[order]
    customer = rows.customer[order]
    new = np.ones(len(at), dtype=bool)
    new[1:] = (customer[1:] != customer[:-1]) | (key[1:] != key[:-1])
    del customer
    inside = at < micros(reach.period.end)
    window = reach.window_days * 86_400_000_000
    followed = np.zeros(len(at), dtype=bool)
    followed[:-1] = ~new[1:] & inside[:-1] & (at[1:] > at[:-1]) & (at[1:] <= at[:-1] + window)
    starts = np.flatnonzero(new)
    del new, at
    cents = np.where(inside, cents, 0)
    k = np.add.reduceat(inside.astype(np.int64), starts)
    spend = np.add.reduceat(cents, starts)
    square = cents.astype(np.float64)
    square *= square
    sq = np.add.reduceat(square, starts)
    again = np.logical_or.reduceat(followed, starts)
    keep = k > 0
    return key[starts][keep], k[keep], spend[keep], sq[keep], again[keep]


def _group_sums(group: Ints, k: Ints, spend: Ints, sq: NDArray[np.float64],
                again: NDArray[np.bool_]) -> dict[int, b.BehaviourSums]:
    """Buyers, repeat buyers, Σk, Σk², Σspend, Σspend², Σamount² per group (runs of `group`)."""
    if not len(group):
        return {}
    new = np.ones(len(group), dtype=bool)
    new[1:] = group[1:] != group[:-1]
    starts = np.flatnonzero(new)
    buyers = np.diff(np.append(starts, len(group)))
    spend_float = spend.astype(np.float64)
    sums = zip(group[starts], buyers, np.add.reduceat(again.astype(np.int64), starts),
               np.add.reduceat(k, starts), np.add.reduceat(k * k, starts),
               np.add.reduceat(spend, starts), np.add.reduceat(spend_float * spend_float, starts),
               np.add.reduceat(sq, starts), strict=True)
    return {int(g): b.BehaviourSums(int(n), int(repeat), int(purchases), float(k_sq),
                                    int(cents) / 100, float(cents_sq) / 10_000,
                                    float(amount_sq) / 10_000)
            for g, n, repeat, purchases, k_sq, cents, cents_sq, amount_sq in sums}


# --- cohorts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Months:
    """The local months of a range: their first days, their UTC starts, the range's end."""

    days: list[dt.date]
    starts: list[dt.datetime]
    end: dt.datetime

    @classmethod
    def of(cls, filters: Filters, tz: str) -> Months:
        days = _months(month_start(filters.date_from), month_start(filters.date_to))
        return cls(days, [utc_bounds(m, m, tz)[0] for m in days],
                   utc_bounds(filters.date_from, filters.date_to, tz)[1])


def cohorts_of(conn: Connection, bought: Purchases, units: frozenset[int], months: Months, *,
               min_n: int) -> list[b.Cohort]:
    """Cohorts of the local months of the range: each customer's first purchase ever at
    `units` (an earlier one before the range takes them out), retention up to the range's
    end. `bought`: the purchases at `units` read from at most the first month's start."""
    if not units:
        return []
    rows = bought.where((bought.at >= micros(months.starts[0]))
                        & (bought.at < micros(months.end)))
    customer, month = _distinct_months(rows, months)
    first = np.ones(len(customer), dtype=bool)
    first[1:] = customer[1:] != customer[:-1]
    cohort = month[first][np.cumsum(first) - 1]
    before = _bought_before(conn, units, customer[first], months.starts[0])
    keep = ~np.isin(customer, before)
    size = len(months.days)
    cells = np.bincount(cohort[keep] * size + month[keep], minlength=size * size)
    sizes: dict[dt.date, int] = {}
    active: dict[tuple[dt.date, int], int] = {}
    for index in np.flatnonzero(cells):
        c, m = divmod(int(index), size)
        if m == c:
            sizes[months.days[c]] = int(cells[index])
        else:
            active[months.days[c], m - c] = int(cells[index])
    return b.retention(sizes, active, months.days[-1], min_n=min_n)


def _distinct_months(rows: Purchases, months: Months) -> tuple[Ints, Ints]:
    """The distinct (customer, month index) of the rows, sorted by customer, then month."""
    starts = np.array([micros(s) for s in months.starts], dtype=np.int64)
    month = np.searchsorted(starts, rows.at, side="right") - 1
    size = len(starts)
    pairs = np.sort(rows.customer * size + month)
    distinct = np.ones(len(pairs), dtype=bool)
    distinct[1:] = pairs[1:] != pairs[:-1]
    pairs = pairs[distinct]
    return pairs // size, pairs % size


# Of the customers, those with a purchase at the units before a moment: one probe each on
# the index on (customer_id, occurred_at)
BOUGHT_BEFORE = ("SELECT id FROM customer WHERE id {customers} AND EXISTS (SELECT 1 "
                 "FROM customer_transaction t WHERE t.customer_id = customer.id "
                 "AND t.occurred_at < {mark} AND t.unit_id {units} AND t.kind <> {mark})")
PROBE_BATCH = 1000  # customers per query on SQLite


def _bought_before(conn: Connection, units: frozenset[int], customers: Ints,
                   before: dt.datetime) -> Ints:
    """Of `customers`, those with a purchase at `units` before `before`."""
    found: list[Any] = []
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "sqlite":
            inline = f"IN ({', '.join(str(int(u)) for u in sorted(units))})"
            for start in range(0, len(customers), PROBE_BATCH):
                batch = ", ".join(str(c) for c in customers[start:start + PROBE_BATCH].tolist())
                cursor.execute(BOUGHT_BEFORE.format(customers=f"IN ({batch})", mark="?",
                                                    units=inline),
                               [_sqlite_time(before), b.REFUND])
                found += cursor.fetchall()
        else:
            cursor.execute(BOUGHT_BEFORE.format(customers="= ANY(%s)", mark="%s",
                                                units="= ANY(%s)"),
                           [customers.tolist(), before, sorted(units), b.REFUND])
            found += cursor.fetchall()
    finally:
        cursor.close()
    return np.array([c for c, in found], dtype=np.int64)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months from `first` to `last`."""
    return [dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1)
            for k in range(b.months_between(first, last) + 1)]


def _any_transaction(conn: Connection, units: frozenset[int]) -> bool:
    if not units:
        return False
    return conn.execute(sa.select(T.c.id).where(T.c.unit_id.in_(sorted(units))).limit(1)
                        ).first() is not None
