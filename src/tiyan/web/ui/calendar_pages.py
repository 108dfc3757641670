"""Business calendar pages (zh-CN/en): a unit's working hours per weekday, its time zone, its
holidays and make-up working days (调休), which unit a calendar is inherited from, and a button
that imports mainland China's public holidays for a year. For unit managers (their units) and
administrators (`manage_calendars`); a unit outside the caller's reach is a 404. Every change
goes through `tiyan.services.calendars` (checked, scoped, audited)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tiyan.context import Context
from tiyan.domain.holidays import known_years
from tiyan.domain.worktime import DAYS, MAX_NAME
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services import calendars
from tiyan.web.bodies import PostedForm
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.i18n import Translator
from tiyan.web.ui.messages import error_text
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_LINE = re.compile(r"^\s*(\S+)\s*(.*?)\s*$")
MAX_LINES = 400
ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
         "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC")


class PageError(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@router.get("/calendars", response_class=HTMLResponse)
def calendars_index(ctx: ContextDep, actor: PageActor) -> Response:
    """The first unit in reach (the page has a unit picker)."""
    with ctx.db.read() as conn:
        units = calendars.units_in_reach(conn, actor)
    return RedirectResponse(f"/units/{units[0].code}/calendar", status_code=303)


@router.get("/calendars/go", response_class=HTMLResponse)
def calendars_go(actor: PageActor, unit: str = "") -> Response:
    """The unit picker's answer (the unit page itself checks the scope)."""
    from urllib.parse import quote

    return RedirectResponse(f"/units/{quote(unit[:64], safe='')}/calendar", status_code=303)


@router.get("/units/{code}/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                  done: str | None = None) -> HTMLResponse:
    return _page(request, ctx, actor, code[:64],
                 done=done if done in ("saved", "imported") else None)


def _page(request: Request, ctx: Context, actor: Any, code: str, *, status_code: int = 200,
          form: dict[str, Any] | None = None, **values: Any) -> HTMLResponse:
    view = calendars.view_calendar(ctx, actor, code)
    with ctx.db.read() as conn:
        units = calendars.units_in_reach(conn, actor)
    cal = view.calendar
    own = view.source is not None and view.source.id == view.unit.id
    if form is None:
        form = {"timezone": cal.timezone,
                "holidays": _lines(cal.holidays, cal.names),
                "workdays": _lines(cal.workdays, cal.names)}
        for i, day in enumerate(DAYS):
            spans = list(cal.hours.get(i, ()))
            for n, suffix in enumerate(("", "2")):
                opens, closes = spans[n] if n < len(spans) else (None, None)
                form[f"{day}_open{suffix}"] = opens.strftime("%H:%M") if opens else ""
                form[f"{day}_close{suffix}"] = closes.strftime("%H:%M") if closes else ""
    t = translator(request)
    listed = [{"date": d, "weekday": t(f"cal.day.{DAYS[d.weekday()]}"),
               "name": cal.names.get(d, ""), "kind": "holiday"} for d in cal.holidays]
    listed += [{"date": d, "weekday": t(f"cal.day.{DAYS[d.weekday()]}"),
                "name": cal.names.get(d, ""), "kind": "workday"} for d in cal.workdays]
    listed.sort(key=lambda r: str(r["date"]))
    this_year = ctx.now().astimezone(ZoneInfo(cal.timezone)).year
    years = known_years()
    return render(request, "calendar.html", actor=actor, unit=asdict(view.unit),
                  units=[asdict(u) for u in units], own=own,
                  source=asdict(view.source) if view.source else None, days=DAYS,
                  form=form, listed=listed, zones=ZONES,
                  years=years, year=this_year if this_year in years else years[-1],
                  status_code=status_code, **values)


def _lines(days: frozenset[dt.date], names: Any) -> str:
    return "\n".join(f"{d.isoformat()} {names.get(d, '')}".rstrip() for d in sorted(days))


@router.post("/units/{code}/calendar", response_class=HTMLResponse)
def save(request: Request, ctx: ContextDep, actor: PageActor, form: PostedForm,
         code: str) -> Response:
    code = code[:64]
    t = translator(request)
    calendars.view_calendar(ctx, actor, code)  # scope first: a unit out of reach is a 404
    values = {k: str(v)[:20000] for k, v in form.items() if k != "csrf_token"}
    try:
        timezone, hours, holidays, workdays = _read(t, form)
        calendars.do_save_calendar(ctx, actor, code, timezone=timezone, hours=hours,
                                   holidays=holidays, workdays=workdays)
    except PageError as exc:
        return _page(request, ctx, actor, code, status_code=422, form=values, error=exc.text)
    except TiyanError as exc:
        if exc.status in (403, 404):
            raise
        return _page(request, ctx, actor, code, status_code=exc.status, form=values,
                     error=error_text(t, exc, "cal.error."))
    return RedirectResponse(f"/units/{code}/calendar?done=saved", status_code=303)


@router.post("/units/{code}/calendar/china-holidays", response_class=HTMLResponse)
def import_holidays(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                    year: Annotated[str, Form(max_length=8)]) -> Response:
    code = code[:64]
    t = translator(request)
    calendars.view_calendar(ctx, actor, code)
    years = ", ".join(str(y) for y in known_years())
    try:
        number = int(year)
        view, added_h, added_w = calendars.do_import_china_holidays(ctx, actor, code, number)
    except ValueError:
        return _page(request, ctx, actor, code, status_code=422,
                     error=t("cal.error.year", year=year, years=years))
    except InvalidInput as exc:
        return _page(request, ctx, actor, code, status_code=422,
                     error=error_text(t, exc, "cal.error.", year=year, years=years))
    return _page(request, ctx, actor, code, imported={"year": number, "holidays": added_h,
                                                      "workdays": added_w})


def _read(t: Translator, form: FormData) -> tuple[str, dict[str, Any], list[Any], list[Any]]:
    """The form's calendar, or a PageError in the reader's language saying what and where."""
    timezone = str(form.get("timezone") or "").strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PageError(t("cal.error.timezone", value=timezone)) from None
    hours: dict[str, Any] = {}
    for day in DAYS:
        word = t(f"cal.day.{day}")
        spans: list[list[str]] = []
        for suffix in ("", "2"):
            opens = str(form.get(f"{day}_open{suffix}") or "").strip()
            closes = str(form.get(f"{day}_close{suffix}") or "").strip()
            if not opens and not closes:
                continue
            if not opens or not closes:
                raise PageError(t("cal.error.half", day=word))
            for value in (opens, closes):
                if not _TIME.match(value):
                    raise PageError(t("cal.error.time", day=word, value=value))
            if closes <= opens:
                raise PageError(t("cal.error.order", day=word, opens=opens, closes=closes))
            if spans and opens < spans[-1][1]:
                raise PageError(t("cal.error.overlap", day=word))
            spans.append([opens, closes])
        if spans:
            hours[day] = spans
    holidays = _days(t, str(form.get("holidays") or ""), t("cal.holidays"))
    workdays = _days(t, str(form.get("workdays") or ""), t("cal.workdays"))
    both = sorted({d["date"] for d in holidays} & {d["date"] for d in workdays})
    if both:
        raise PageError(t("cal.error.both", date=both[0]))
    return timezone, hours, holidays, workdays


def _days(t: Translator, text: str, field: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        raise PageError(t("cal.error.too_many", field=field, max=MAX_LINES))
    for number, line in enumerate(lines, 1):
        match = _LINE.match(line)
        assert match is not None  # a non-blank line always has a first word
        raw, name = match.group(1), match.group(2)
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise PageError(t("cal.error.date", field=field, line=number, value=raw)) from None
        if len(name) > MAX_NAME:
            raise PageError(t("cal.error.name", field=field, line=number, max=MAX_NAME))
        out.append({"date": day.isoformat(), "name": name})
    return out
