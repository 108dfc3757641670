"""REST API for business calendars: GET/PUT /api/v1/units/{code}/calendar (a unit's working
hours, time zone, holidays and make-up working days) and the import of mainland China's public
holidays for a year. Scoped to the caller's units (`manage_calendars`), audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tiyan.services import calendars
from tiyan.web.api.schemas import ErrorBody, Strict
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1/units", tags=["calendars"], responses=ERRORS)


class NamedDay(BaseModel):
    date: str = Field(max_length=10, description="YYYY-MM-DD")
    name: str = Field(default="", max_length=100)


class CalendarIn(Strict):
    timezone: str = Field(min_length=1, max_length=64, description="IANA zone, e.g. Asia/Shanghai")
    hours: dict[str, list[list[str]]] = Field(
        max_length=7, description='weekday → spans, e.g. {"mon": [["09:00", "18:00"]]}; a '
                                  'weekday left out is closed')
    holidays: list[NamedDay] = Field(default_factory=list, max_length=2000)
    workdays: list[NamedDay] = Field(default_factory=list, max_length=2000,
                                     description="make-up working days (调休): weekend days "
                                                 "worked with a weekday's hours")


class CalendarOut(CalendarIn):
    unit_code: str
    inherited_from: str | None = Field(
        description="the unit whose calendar applies when this unit has none of its own "
                    "(null: its own, or the default when `default` is true)")
    default: bool = Field(description="no unit above has a calendar: Mon–Fri 09:00–18:00")


class ImportOut(BaseModel):
    year: int
    holidays_added: int
    workdays_added: int
    calendar: CalendarOut


def _out(view: calendars.CalendarView) -> CalendarOut:
    from tiyan.domain.worktime import calendar_json

    body = calendar_json(view.calendar)
    own = view.source is not None and view.source.id == view.unit.id
    return CalendarOut(unit_code=view.unit.code, timezone=body["timezone"], hours=body["hours"],
                       holidays=[NamedDay(**d) for d in body["holidays"]],
                       workdays=[NamedDay(**d) for d in body["workdays"]],
                       inherited_from=None if own or view.source is None else view.source.code,
                       default=view.source is None)


@router.get("/{code}/calendar", response_model=CalendarOut)
def get_calendar(code: str, ctx: ContextDep, actor: ApiActor) -> CalendarOut:
    """The calendar that applies to the unit (its own, or inherited: see `inherited_from`)."""
    return _out(calendars.view_calendar(ctx, actor, code[:64]))


@router.put("/{code}/calendar", response_model=CalendarOut)
def put_calendar(code: str, body: CalendarIn, ctx: ContextDep, actor: ApiActor) -> CalendarOut:
    """Give the unit its own calendar (replacing the one it had)."""
    view = calendars.do_save_calendar(
        ctx, actor, code[:64], timezone=body.timezone, hours=body.hours,
        holidays=[d.model_dump() for d in body.holidays],
        workdays=[d.model_dump() for d in body.workdays])
    return _out(view)


@router.post("/{code}/calendar/china-holidays", response_model=ImportOut)
def import_china_holidays(code: str, ctx: ContextDep, actor: ApiActor,
                          year: Annotated[int, Query(ge=1900, le=2200)]) -> ImportOut:
    """Add mainland China's public holidays of `year` and their make-up working days (调休),
    from the State Council's notice shipped with tiyan; idempotent."""
    view, added_h, added_w = calendars.do_import_china_holidays(ctx, actor, code[:64], year)
    return ImportOut(year=year, holidays_added=added_h, workdays_added=added_w,
                     calendar=_out(view))
