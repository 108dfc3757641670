"""Summed scores for a user's scope and filters, read from the aggregates (store/aggregates).

A date range is cut into whole months (read from the month rows) and the days before and after
them (read from the day rows), so a year's overview reads a few thousand rows however many
responses there are. Day rows grouped by time alone (the day and week trends, the days around
the months), without a touchpoint, channel or segment filter, come from the day sums per unit
subtree (store/unit_day_aggregates): one row per day and item for each top unit of the scope.
Units come in full from the user's visibility: the aggregates hold no staff,
so a user who may see only their own responses (frontline) is served from the responses
themselves, with the same shape of result; that path is also the reference the tests compare
the aggregates with. A view sliced by customer segment reads the same sums kept per segment
(store/segment_aggregates); one sliced by staff member takes the responses' path too, through
the index on (staff, time), since one staff member's responses are few. So does one sliced by a
survey answer, a comment aspect or a customer attribute (none of which the aggregates hold).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.domain.access import Visibility, subtree
from tiyan.domain.metrics import Estimate, mean_estimate, nps_from_counts, proportion
from tiyan.store import response_slices as slices
from tiyan.store import segment_aggregates
from tiyan.store import tables as t
from tiyan.store.aggregates import (
    BUSINESS_TIMEZONE,
    RESPONSES,
    _answers_select,
    _responses_select,
)
from tiyan.store.scoped import visible
from tiyan.store.subtrees import top_units

G, U = t.score_agg, t.unit_day_agg
DIMENSIONS = ("month", "day", "unit_id", "touchpoint_id", "channel", "item_code")


@dataclass(frozen=True)
class Filters:
    """What a dashboard shows: an inclusive date range, and optionally a unit (with its subtree),
    a touchpoint (with its sub-touchpoints), a channel, a customer segment (the customer's
    current one), a staff member, an answer (question key, value), a comment aspect (code, and
    optionally its label) and a customer attribute (key, value)."""

    date_from: dt.date
    date_to: dt.date
    unit_id: int | None = None
    touchpoint_id: int | None = None
    channel: str | None = None
    segment: str | None = None
    staff_id: int | None = None
    answer: tuple[str, str] | None = None
    aspect: str | None = None
    aspect_label: str | None = None
    attr: tuple[str, str] | None = None

    @property
    def sliced(self) -> bool:
        """Whether a filter the aggregates cannot answer is set (segment, staff, answer, aspect
        or customer attribute)."""
        return self.segment is not None or self.staff_id is not None or self.by_response

    @property
    def by_response(self) -> bool:
        """Whether a filter only the responses can answer is set (staff, answer, aspect or
        customer attribute)."""
        return (self.staff_id is not None or self.answer is not None
                or self.aspect is not None or self.attr is not None)

    def between(self, start: dt.date, end: dt.date) -> Filters:
        """The same filters over another date range."""
        return dataclasses.replace(self, date_from=start, date_to=end)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before (whole months map to whole months)."""
        if self.date_from.day == 1 and (self.date_to + dt.timedelta(days=1)).day == 1:
            months = _month_index(self.date_to) - _month_index(self.date_from) + 1
            start = _month_from_index(_month_index(self.date_from) - months)
            end = self.date_from - dt.timedelta(days=1)
        else:
            end = self.date_from - dt.timedelta(days=1)
            start = end - dt.timedelta(days=self.days - 1)
        return self.between(start, end)


@dataclass(frozen=True)
class Sums:
    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    top: int = 0
    bottom: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.n + other.n, self.total + other.total, self.total_sq + other.total_sq,
                    self.top + other.top, self.bottom + other.bottom)

    def nps(self, min_n: int) -> Estimate:
        return nps_from_counts(self.top, self.n - self.top - self.bottom, self.bottom,
                               min_n=min_n)

    def mean(self, min_n: int) -> Estimate:
        return mean_estimate(self.n, self.total, self.total_sq, min_n=min_n)

    def top_share(self, min_n: int) -> Estimate:
        return proportion(self.top, self.n, min_n=min_n)


Key = tuple[object, ...]


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _month_from_index(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def split_range(start: dt.date, end: dt.date
                ) -> tuple[tuple[dt.date, dt.date] | None, list[tuple[dt.date, dt.date]]]:
    """Cut an inclusive date range into whole months (first days of the first and last month)
    and the leftover day ranges."""
    if end < start:
        return None, []
    first_full = start if start.day == 1 else _month_from_index(_month_index(start) + 1)
    after = end + dt.timedelta(days=1)
    last_full_end = after if after.day == 1 else month_start(after)  # exclusive
    if first_full >= last_full_end:
        return None, [(start, end)]
    days = []
    if start < first_full:
        days.append((start, first_full - dt.timedelta(days=1)))
    if last_full_end <= end:
        days.append((last_full_end, end))
    last_month = _month_from_index(_month_index(last_full_end) - 1)
    return (first_full, last_month), days


def touchpoint_family(conn: Connection, touchpoint_id: int) -> list[int]:
    parents = dict(conn.execute(sa.select(t.touchpoint.c.id, t.touchpoint.c.parent_id)).all())
    return sorted(subtree(parents, touchpoint_id)) or [touchpoint_id]


def scope_units(vis: Visibility, parent_of: Mapping[int, int | None],
                unit_id: int | None) -> frozenset[int]:
    """Units shown in full: the visible ones, within the chosen unit's subtree if any."""
    if unit_id is None:
        return vis.unit_ids
    return vis.unit_ids & subtree(parent_of, unit_id)


def sums(conn: Connection, vis: Visibility, parent_of: Mapping[int, int | None],
         filters: Filters, by: Sequence[str], items: Iterable[str],
         *, tz: str = BUSINESS_TIMEZONE) -> dict[Key, Sums]:
    """Summed scores grouped by `by` (of DIMENSIONS; item_code is always last in the key).

    "month" keys are first days of months; "day" keys are local days, read from the day rows
    only (the month rows cannot be split)."""
    for name in by:
        if name not in DIMENSIONS or name == "item_code":
            raise ValueError(f"unknown dimension {name!r}")
    items = sorted(set(items))
    touchpoints = (touchpoint_family(conn, filters.touchpoint_id)
                   if filters.touchpoint_id is not None else None)
    if not from_aggregates(conn, vis, filters):
        return _raw_sums(conn, vis, parent_of, filters, by, items, touchpoints, tz)
    units = scope_units(vis, parent_of, filters.unit_id)
    if not units:
        return {}
    if "day" in by:
        months, day_ranges = None, [(filters.date_from, filters.date_to)]
    else:
        months, day_ranges = split_range(filters.date_from, filters.date_to)
    out: dict[Key, Sums] = {}
    tops = _subtree_days(units, parent_of, filters, by)
    if tops is not None:
        for first, last in day_ranges:
            _collect(conn, U, [U.c.unit_id.in_(tops), U.c.bucket.between(first, last),
                               U.c.item_code.in_(items)], by, True, out)
        day_ranges = []
    parts = ([("m", *months)] if months else []) + [("d", a, b) for a, b in day_ranges]
    source = G if filters.segment is None else t.segment_agg
    for grain, first, last in parts:
        where = [source.c.grain == grain, source.c.bucket.between(first, last),
                 source.c.unit_id.in_(sorted(units)), source.c.item_code.in_(items)]
        if filters.segment is not None:
            where.append(source.c.segment == filters.segment)
        if touchpoints is not None:
            where.append(source.c.touchpoint_id.in_(touchpoints))
        if filters.channel:
            where.append(source.c.channel == filters.channel)
        _collect(conn, source, where, by, grain == "d", out)
    return out


def _subtree_days(units: frozenset[int], parent_of: Mapping[int, int | None], filters: Filters,
                  by: Sequence[str]) -> list[int] | None:
    """The top units whose subtree day sums (unit_day_agg) answer the day rows of this query:
    grouped by nothing but time, no touchpoint, channel or segment, and whole subtrees."""
    if not set(by) <= {"day", "month"} or filters.touchpoint_id is not None \
            or filters.channel or filters.segment is not None:
        return None
    return top_units(units, parent_of)


def from_aggregates(conn: Connection, vis: Visibility, filters: Filters) -> bool:
    """Whether the sums come from the aggregates (score_agg, or segment_agg for a segment);
    otherwise from the responses: frontline users (their own rows), a staff member's slice
    (through the index on staff and time), an answer, aspect or customer attribute slice, and a
    segment while segment_agg is being rebuilt."""
    if vis.staff_rows or filters.by_response:
        return False
    return filters.segment is None or not segment_aggregates.is_stale(conn)


def _collect(conn: Connection, source: sa.FromClause, where: Sequence[sa.ColumnElement[bool]],
             by: Sequence[str], daily: bool, out: dict[Key, Sums]) -> None:
    cols = [source.c.bucket if name in ("month", "day") else source.c[name] for name in by]
    cols.append(source.c.item_code)
    query = (sa.select(*cols, sa.func.sum(source.c.n), sa.func.sum(source.c.total),
                       sa.func.sum(source.c.total_sq), sa.func.sum(source.c.top),
                       sa.func.sum(source.c.bottom))
             .where(*where).group_by(*cols))
    width = len(cols)
    for row in conn.execute(query):
        key = list(row[:width])
        if "month" in by:
            i = by.index("month")
            key[i] = month_start(_as_date(key[i])) if daily else _as_date(key[i])
        if "day" in by:
            i = by.index("day")
            key[i] = _as_date(key[i])
        value = Sums(int(row[width] or 0), float(row[width + 1] or 0.0),
                     float(row[width + 2] or 0.0), int(row[width + 3] or 0),
                     int(row[width + 4] or 0))
        k = tuple(key)
        out[k] = out[k] + value if k in out else value


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def utc_bounds(start: dt.date, end: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(tz)
    low = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    return low, high


def raw_where(vis: Visibility, parent_of: Mapping[int, int | None], filters: Filters,
              tz: str) -> sa.ColumnElement[bool]:
    """The counted responses (not flagged) a user's scope and the filters select, on table
    response."""
    r = t.response
    low, high = utc_bounds(filters.date_from, filters.date_to, tz)
    clauses = [visible(vis, r.c.unit_id, r.c.staff_id), r.c.submitted_at >= low,
               r.c.submitted_at < high, r.c.status == "complete"]
    if filters.unit_id is not None:
        clauses.append(r.c.unit_id.in_(sorted(subtree(parent_of, filters.unit_id))))
    if filters.channel:
        clauses.append(r.c.channel == filters.channel)
    if filters.segment is not None:
        clauses.append(r.c.customer_id.in_(
            sa.select(t.customer.c.id).where(t.customer.c.segment == filters.segment)))
    if filters.staff_id is not None:
        clauses.append(r.c.staff_id == filters.staff_id)
    if filters.answer is not None:
        clauses.append(slices.answered(*filters.answer))
    if filters.aspect is not None:
        clauses.append(slices.mentions_aspect(filters.aspect, filters.aspect_label))
    if filters.attr is not None:
        clauses.append(slices.customer_attribute(*filters.attr))
    return sa.and_(*clauses)


def _raw_sums(conn: Connection, vis: Visibility, parent_of: Mapping[int, int | None],
              filters: Filters, by: Sequence[str], items: list[str],
              touchpoints: list[int] | None, tz: str) -> dict[Key, Sums]:
    where = raw_where(vis, parent_of, filters, tz)
    dialect = conn.dialect.name
    names = ["grain", "bucket", "unit_id", "survey_id", "touchpoint_id", "channel", "item_code",
             "n", "total", "total_sq", "top", "bottom"]
    out: dict[Key, Sums] = {}
    selects = []
    if any(i != RESPONSES for i in items):
        selects.append(_answers_select(dialect, "d", where, tz))
    if RESPONSES in items:
        selects.append(_responses_select(dialect, "d", where, tz))
    for select in selects:
        source = select.subquery()
        source = sa.select(*[c.label(n) for c, n in zip(source.c, names, strict=True)]
                           ).subquery()
        # `|| ''`: pushed down into the select, a plain IN would steer the planner (no table
        # statistics) to the index on answer (item_code, response_id) and every answer ever given
        conditions = [source.c.item_code.concat("").in_(items)]
        if touchpoints is not None:
            conditions.append(source.c.touchpoint_id.in_(touchpoints))
        _collect(conn, source, conditions, by, True, out)
    return out


def rollup(values: Mapping[Key, Sums], position: int,
           group_of: Mapping[object, object]) -> dict[Key, Sums]:
    """Re-key by mapping the key part at `position` through `group_of` (dropping unmapped)."""
    out: dict[Key, Sums] = {}
    for key, value in values.items():
        group = group_of.get(key[position])
        if group is None:
            continue
        k = (*key[:position], group, *key[position + 1:])
        out[k] = out[k] + value if k in out else value
    return out


def total_by_item(values: Mapping[Key, Sums]) -> dict[str, Sums]:
    out: dict[str, Sums] = {}
    for key, value in values.items():
        item = str(key[-1])
        out[item] = out[item] + value if item in out else value
    return out
