"""The VOC review page (客户之声复盘) for any period and unit, its Excel and PDF exports, and the
monthly e-mail subscription. Figures come from tiyan.analytics.voc (scoped there)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.analytics import voc
from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.errors import InvalidInput
from tiyan.services import voc_reports as reports
from tiyan.store import org
from tiyan.web.deps import ContextDep, PageActor, check_csrf, translator, web_session
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
DateText = Annotated[str, Query(max_length=10)]
UnitCode = Annotated[str, Query(max_length=64)]


def _dates(ctx: Context, start: str, end: str) -> tuple[dt.date, dt.date]:
    if not start and not end:
        first, _ = reports.month_period(reports.last_month(ctx.now()))
        local = first.astimezone(ZoneInfo(reports.TIMEZONE)).date()
        nxt = (local.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return local, nxt - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        raise InvalidInput("dates are written YYYY-MM-DD", where="start" if start else "end") \
            from None


def _review(ctx: Context, actor: Actor, start: str, end: str,
            unit: str) -> tuple[voc.VocReview, dt.date, dt.date]:
    first, last = _dates(ctx, start, end)
    since, until = reports.date_period(first, last)
    return reports.build_review(ctx, actor, since, until, unit or None), first, last


@router.get("/voc", response_class=HTMLResponse)
def voc_page(request: Request, ctx: ContextDep, actor: PageActor, start: DateText = "",
             end: DateText = "", unit: UnitCode = "") -> HTMLResponse:
    actor.require(voc.PERMISSION)
    review, first, last = _review(ctx, actor, start, end, unit)
    t = translator(request)
    with ctx.db.read() as conn:
        reach = actor.scope.visibility(voc.PERMISSION).unit_ids
        units = [u for u in org.list_units(conn, actor) if u["id"] in reach]
        subscribed = next((s for s in reports.subscriptions(conn)
                           if s.user_id == actor.user_id), None)
    top = review.aspects[:10]
    chart = {"names": [x.name_zh if t.locale == "zh-CN" else x.name_en for x in top][::-1],
             "lost": [round(x.points_lost, 2) for x in top][::-1],
             "label": t("voc.lost")}
    query = f"start={first}&end={last}&unit={unit}"
    return render(request, "voc.html", actor=actor, review=review, units=units, unit=unit,
                  start=first.isoformat(), end=last.isoformat(), query=query,
                  chart_json=json.dumps(chart, ensure_ascii=False).replace("</", "<\\/"),
                  subscribed=subscribed)


@router.get("/voc.xlsx")
def voc_excel(request: Request, ctx: ContextDep, actor: PageActor, start: DateText = "",
              end: DateText = "", unit: UnitCode = "") -> Response:
    review, first, last = _review(ctx, actor, start, end, unit)
    body = reports.excel_bytes(review, translator(request).locale)
    return _file(body, f"voc-{first}-{last}.xlsx",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.get("/voc.pdf")
def voc_pdf(request: Request, ctx: ContextDep, actor: PageActor, start: DateText = "",
            end: DateText = "", unit: UnitCode = "") -> Response:
    review, first, last = _review(ctx, actor, start, end, unit)
    font = reports.find_font(ctx.settings.pdf_font)
    body = reports.pdf_bytes(review, translator(request).locale, font)
    return _file(body, f"voc-{first}-{last}.pdf", "application/pdf")


def _file(body: bytes, name: str, media_type: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.post("/voc/subscription")
def subscribe(request: Request, ctx: ContextDep, actor: PageActor,
              unit: Annotated[str, Form(max_length=64)] = "",
              action: Annotated[str, Form(max_length=16)] = "subscribe",
              csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    session = web_session(request)
    if session is not None:
        check_csrf(session, csrf_token)
    if action == "unsubscribe":
        reports.do_unsubscribe(ctx, actor)
    else:
        reports.do_subscribe(ctx, actor, unit_code=unit or None,
                             locale=translator(request).locale)
    return RedirectResponse(f"/voc?unit={unit}", status_code=303)
