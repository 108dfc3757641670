"""Working-time arithmetic: "4 working hours from now" in a unit's business hours and timezone.

A `BusinessCalendar` holds the opening hours per weekday, the holidays (closed all day) and the
make-up working days (调休: a weekend day worked in exchange for a holiday, with a weekday's
hours: Monday's, or the first open weekday's from Monday to Friday — a make-up Saturday is a
full working day even where Saturdays are half days). Times go in and come out timezone-aware
(UTC in storage). Holidays and make-up days may carry a name (国庆节, 国庆节调休).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tiyan.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = tuple[dt.time, dt.time]
MAX_DAYS = 3 * 366  # a calendar with no opening hours at all must not loop forever


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Asia/Shanghai"
    hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=lambda: {
        d: ((dt.time(9), dt.time(18)),) for d in range(5)})
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    names: Mapping[dt.date, str] = field(default_factory=dict)

    def intervals(self, day: dt.date) -> tuple[Interval, ...]:
        if day in self.holidays:
            return ()
        if day in self.workdays and day.weekday() >= 5:
            return self.weekday_hours() or self.hours.get(day.weekday(), ())
        return self.hours.get(day.weekday(), ())

    def weekday_hours(self) -> tuple[Interval, ...]:
        """The hours a make-up working day keeps: the first open weekday's (Monday to Friday),
        else the first open day's."""
        for d in [*range(5), *range(5, 7)]:
            if self.hours.get(d):
                return self.hours[d]
        return ()


def add_working_time(start: dt.datetime, delta: dt.timedelta,
                     calendar: BusinessCalendar) -> dt.datetime:
    """The moment when `delta` of working time has passed after `start`."""
    tz = ZoneInfo(calendar.timezone)
    local = start.astimezone(tz)
    remaining = delta
    day = local.date()
    for _ in range(MAX_DAYS):
        for opens, closes in calendar.intervals(day):
            begin = max(dt.datetime.combine(day, opens, tz), local)
            end = dt.datetime.combine(day, closes, tz)
            if end <= begin:
                continue
            if end - begin >= remaining:
                return (begin + remaining).astimezone(dt.UTC)
            remaining -= end - begin
        day += dt.timedelta(days=1)
    raise InvalidInput("worktime.business_calendar_no_opening",
                       where="business calendar")


def working_time_between(start: dt.datetime, end: dt.datetime,
                         calendar: BusinessCalendar) -> dt.timedelta:
    """How much working time lies between two moments (zero when end ≤ start)."""
    tz = ZoneInfo(calendar.timezone)
    a, b = start.astimezone(tz), end.astimezone(tz)
    total = dt.timedelta()
    day = a.date()
    while day <= b.date():
        for opens, closes in calendar.intervals(day):
            lo = max(dt.datetime.combine(day, opens, tz), a)
            hi = min(dt.datetime.combine(day, closes, tz), b)
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return total


# --- parsing (settings on a unit, from the API/web) -----------------------------------------

def parse_calendar(timezone: str, hours: Any, holidays: Any = (), workdays: Any = (),
                   where: str = "calendar") -> BusinessCalendar:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("worktime.not_known_timezone", timezone=timezone,
                           where=f"{where}.timezone") \
            from None
    if not isinstance(hours, Mapping):
        raise InvalidInput("worktime.expected_mon", where=f"{where}.hours")
    parsed: dict[int, tuple[Interval, ...]] = {}
    for name, spans in hours.items():
        if name not in DAYS:
            raise InvalidInput("worktime.not_weekday", name=name, days=', '.join(DAYS),
                               where=f"{where}.hours")
        parsed[DAYS.index(name)] = _spans(spans, f"{where}.hours.{name}")
    names: dict[dt.date, str] = {}
    holiday_dates = _dates(holidays, f"{where}.holidays", names)
    workday_dates = _dates(workdays, f"{where}.workdays", names)
    both = sorted(holiday_dates & workday_dates)
    if both:
        raise InvalidInput("worktime.both_holiday_make_up", both=both[0].isoformat(),
                           where=f"{where}.workdays")
    return BusinessCalendar(timezone, parsed, holiday_dates, workday_dates, names)


def calendar_json(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "timezone": calendar.timezone,
        "hours": {DAYS[d]: [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in spans]
                  for d, spans in sorted(calendar.hours.items())},
        "holidays": _named(calendar.holidays, calendar.names),
        "workdays": _named(calendar.workdays, calendar.names),
    }


def _named(days: frozenset[dt.date], names: Mapping[dt.date, str]) -> list[dict[str, str]]:
    return [{"date": d.isoformat(), "name": names.get(d, "")} for d in sorted(days)]


def _spans(raw: Any, where: str) -> tuple[Interval, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise InvalidInput("worktime.expected_list_hh_mm", where=where)
    spans: list[Interval] = []
    for i, pair in enumerate(raw):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise InvalidInput("worktime.expected_hh_mm_hh", where=f"{where}[{i}]")
        opens, closes = (_time(v, f"{where}[{i}]") for v in pair)
        if closes <= opens or (spans and opens < spans[-1][1]):
            raise InvalidInput("worktime.spans_must_order_each",
                               where=f"{where}[{i}]")
        spans.append((opens, closes))
    return tuple(spans)


def _time(value: Any, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("worktime.not_time_like", value=value, where=where) from None


MAX_NAME = 100


def _dates(raw: Any, where: str, names: dict[dt.date, str] | None = None) -> frozenset[dt.date]:
    """Dates from a list of "2026-10-01" strings or {"date": "2026-10-01", "name": "国庆节"}."""
    if isinstance(raw, str) or not isinstance(raw, Sequence | frozenset | set):
        raise InvalidInput("worktime.expected_list_dates_like", where=where)
    out: set[dt.date] = set()
    for i, item in enumerate(raw):
        value, name = (item.get("date"), item.get("name") or "") if isinstance(item, Mapping) \
            else (item, "")
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise InvalidInput("worktime.name_most_characters", max_name=MAX_NAME,
                               where=f"{where}[{i}].name")
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput("worktime.not_date_like", value=value,
                               where=f"{where}[{i}]") from None
        out.add(day)
        if name.strip() and names is not None:
            names[day] = name.strip()
    return frozenset(out)
