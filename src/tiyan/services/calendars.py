"""Business calendars: each unit's working hours per weekday, time zone, holidays and make-up
working days (调休), read and changed by unit managers for their units and by administrators
(the `manage_calendars` permission), and mainland China's public holidays imported per year.

A unit without a calendar of its own uses the nearest ancestor's (then the default: Monday to
Friday 09:00–18:00); SLA timers count working time from it (tiyan.services.cases). The time zone
is the unit's own (org_unit.timezone), also used to show the unit's times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.holidays import china_holidays
from tiyan.domain.worktime import BusinessCalendar, calendar_json, parse_calendar
from tiyan.store import audit
from tiyan.store import tables as t
from tiyan.store.calls import unit_chain
from tiyan.store.cases import calendar_source, save_calendar
from tiyan.store.org import unit_by_code
from tiyan.store.scoped_refs import reach_units, require_any, unit_among

REACH = Permission.MANAGE_CALENDARS


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class CalendarView:
    unit: UnitRef
    calendar: BusinessCalendar
    source: UnitRef | None  # the unit whose calendar applies; None: the default


def units_in_reach(conn: Connection, actor: Actor) -> list[UnitRef]:
    require_any(actor, REACH)
    ids = reach_units(actor, REACH)
    rows = conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.code, t.org_unit.c.name_zh,
                                  t.org_unit.c.name_en)
                        .where(t.org_unit.c.id.in_(list(ids))).order_by(t.org_unit.c.code))
    return [UnitRef(r.id, r.code, r.name_zh, r.name_en) for r in rows]


def _unit(conn: Connection, actor: Actor | None, code: str) -> UnitRef:
    if actor is None:  # the command line: the operator
        unit_id = int(unit_by_code(conn, code)["id"])
    else:
        require_any(actor, REACH)
        unit_id = unit_among(conn, reach_units(actor, REACH), code)
    return _ref(conn, unit_id)


def _ref(conn: Connection, unit_id: int) -> UnitRef:
    r = conn.execute(sa.select(t.org_unit.c.code, t.org_unit.c.name_zh, t.org_unit.c.name_en)
                     .where(t.org_unit.c.id == unit_id)).one()
    return UnitRef(unit_id, r.code, r.name_zh, r.name_en)


def _view(conn: Connection, unit: UnitRef) -> CalendarView:
    calendar, source = calendar_source(conn, unit_chain(conn, unit.id))
    return CalendarView(unit, calendar, None if source is None else _ref(conn, source))


def view_calendar(ctx: Context, actor: Actor, code: str) -> CalendarView:
    """The calendar that applies to unit `code` (a unit outside the caller's reach: 404)."""
    with ctx.db.read() as conn:
        return _view(conn, _unit(conn, actor, code))


def do_save_calendar(ctx: Context, actor: Actor | None, code: str, *, timezone: str,
                     hours: Mapping[str, Any], holidays: Sequence[Any],
                     workdays: Sequence[Any]) -> CalendarView:
    """Give unit `code` its own calendar (checked first: times, order, dates, time zone)."""
    calendar = parse_calendar(timezone, hours, list(holidays), list(workdays))
    now = ctx.now()
    with ctx.db.write() as conn:
        unit = _unit(conn, actor, code)
        _store(conn, unit, calendar, now)
        audit.record(conn, at=now, user_id=actor.user_id if actor else None,
                     action="calendar.update", entity="org_unit", entity_id=unit.id,
                     unit_id=unit.id, detail={"code": unit.code, **_summary(calendar)})
        return _view(conn, unit)


def do_import_china_holidays(ctx: Context, actor: Actor | None, code: str,
                             year: int) -> tuple[CalendarView, int, int]:
    """Add mainland China's public holidays of `year` and their make-up working days to unit
    `code`'s calendar (starting from the calendar it uses now when it has none of its own).
    Idempotent: importing a year twice changes nothing. Returns the view and how many days
    were added (holidays, make-up days)."""
    data = china_holidays(year)
    now = ctx.now()
    with ctx.db.write() as conn:
        unit = _unit(conn, actor, code)
        current = _view(conn, unit).calendar
        holidays = set(current.holidays) - {d for d, _ in data.workdays}
        workdays = set(current.workdays) - {d for d, _ in data.holidays}
        names = dict(current.names)
        added_h = sum(d not in holidays for d, _ in data.holidays)
        added_w = sum(d not in workdays for d, _ in data.workdays)
        for day, name in data.holidays:
            holidays.add(day)
            names[day] = name
        for day, name in data.workdays:
            workdays.add(day)
            names[day] = name
        calendar = BusinessCalendar(current.timezone, current.hours, frozenset(holidays),
                                    frozenset(workdays), names)
        _store(conn, unit, calendar, now)
        audit.record(conn, at=now, user_id=actor.user_id if actor else None,
                     action="calendar.import_holidays", entity="org_unit", entity_id=unit.id,
                     unit_id=unit.id, detail={"code": unit.code, "year": year,
                                              "holidays_added": added_h,
                                              "workdays_added": added_w})
        return _view(conn, unit), added_h, added_w


def _store(conn: Connection, unit: UnitRef, calendar: BusinessCalendar, now: dt.datetime) -> None:
    body = calendar_json(calendar)
    conn.execute(sa.update(t.org_unit).where(t.org_unit.c.id == unit.id)
                 .values(timezone=calendar.timezone))
    save_calendar(conn, unit.id, body["hours"], body["holidays"], body["workdays"], now)


def _summary(calendar: BusinessCalendar) -> dict[str, Any]:
    body = calendar_json(calendar)
    return {"timezone": body["timezone"], "hours": body["hours"],
            "holidays": len(body["holidays"]), "workdays": len(body["workdays"])}
