"""The home page: this month's responses, NPS and CSAT for the user's scope, and their trend.

This month is not over: its tiles say which days they hold and carry no change marker against
last month (a few days are not comparable with a whole month; docs/metrics.md, "Periods")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tiyan.analytics.kpis import MonthKpis, monthly_kpis
from tiyan.domain.access import Permission
from tiyan.domain.metrics import Estimate
from tiyan.domain.statistics import Change, Direction
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.i18n import Translator
from tiyan.web.ui.render import render
from tiyan.web.ui.times import Times

router = APIRouter(include_in_schema=False)
TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    detail: str
    change: Change | None


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.VIEW_DASHBOARD)
    with ctx.db.read() as conn:
        months = monthly_kpis(conn, actor, now=ctx.now(), tz=TIMEZONE,
                              min_n=ctx.settings.min_n)
    t = translator(request)
    current, previous = months[-1], months[-2]
    tiles = [
        Tile(t("home.responses_this_month"), f"{current.responses:,}",
             t("home.previous_month", value=f"{previous.responses:,}"), None),
        _tile(t, t("home.nps"), current.nps, "{:+.0f}"),
        _tile(t, t("home.csat"), current.csat, "{:.2f}"),
    ]
    has_data = any(m.responses for m in months)
    today = ctx.now().astimezone(ZoneInfo(TIMEZONE)).date()
    days = Times(TIMEZONE, t.locale)
    partial = t("dash.partial", start=days.day(today.replace(day=1)), end=days.day(today))
    return render(request, "home.html", actor=actor, tiles=tiles, has_data=has_data,
                  chart=_chart(t, months), partial=partial)


def _tile(t: Translator, label: str, now: Estimate, fmt: str) -> Tile:
    """This month's figure so far: no change marker (the month is partial)."""
    if now.too_few or now.value is None:
        return Tile(label, t("metric.too_few"), t("metric.n", n=now.n), None)
    detail = t("metric.ci", low=fmt.format(now.low), high=fmt.format(now.high), n=f"{now.n:,}")
    return Tile(label, fmt.format(now.value), detail, None)


def _chart(t: Translator, months: list[MonthKpis]) -> dict[str, Any]:
    def values(pick: str) -> list[float | None]:
        out = []
        for m in months:
            est: Estimate = getattr(m, pick)
            out.append(None if est.value is None else round(est.value, 2))
        return out

    return {
        "months": [_month(t, m.month) for m in months[:-1]]
        + [_month(t, m.month) + t("dash.partial_mark") for m in months[-1:]],
        "responses": [m.responses for m in months],
        "nps": values("nps"),
        "csat": values("csat"),
        "labels": {"responses": t("home.responses"), "nps": t("home.nps"),
                   "csat": t("home.csat")},
    }


def change_arrow(change: Change | None) -> str:
    if change is None or not change.significant:
        return ""
    return "▲" if change.direction == Direction.UP else "▼"


def _month(t: Translator, label: str) -> str:
    """A month label ("2026-11") as the viewer's language writes it ("2026年11月")."""
    year, month = (int(x) for x in label.split("-"))
    return Times(TIMEZONE, t.locale).month(dt.date(year, month, 1))
