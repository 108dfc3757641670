"""The VOC review page (客户之声复盘) for any period, unit and KPI (NPS, CSAT or a rated item's
mean), its Excel and PDF exports, and the monthly e-mail subscription. Days are those of the
unit's own time zone. Figures come from tiyan.analytics.voc (scoped there)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.analytics import voc
from tiyan.services import voc_reports as reports
from tiyan.store import org
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.downloads import voc_file
from tiyan.web.request_origin import OriginDep
from tiyan.web.ui.driver_pages import item_labels
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
DateText = Annotated[str, Query(max_length=10)]
UnitCode = Annotated[str, Query(max_length=64)]
KpiText = Annotated[str, Query(max_length=80)]


@router.get("/voc", response_class=HTMLResponse)
def voc_page(request: Request, ctx: ContextDep, actor: PageActor, start: DateText = "",
             end: DateText = "", unit: UnitCode = "", kpi: KpiText = "nps") -> HTMLResponse:
    actor.require(voc.PERMISSION)
    review, first, last = reports.review_for(ctx, actor, start, end, unit, kpi)
    t = translator(request)
    with ctx.db.read() as conn:
        item_names = item_labels(conn, actor, t.locale)
        reach = actor.scope.visibility(voc.PERMISSION).unit_ids
        units = [u for u in org.list_units(conn, actor) if u["id"] in reach]
        items = [i for i in voc.rated_items(conn, actor, start=review.start, end=review.end,
                                            unit_id=org.unit_id_by_code(conn, unit)
                                            if unit else None) if i not in ("nps", "csat")]
    label = reports.kpi_label(review.kpi, t.locale)
    if review.kpi.code.startswith("item:"):  # a rated item: its question text, not its code
        label = t("voc.kpi_item", item=item_names.get(review.kpi.item, review.kpi.item))
    subscribed = reports.subscription_of(ctx, actor)
    top = review.aspects[:10]
    chart = {"names": [x.name_zh if t.locale == "zh-CN" else x.name_en for x in top][::-1],
             "lost": [round(x.points_lost, 2) for x in top][::-1],
             "label": t("voc.lost_kpi", kpi=label)}
    query = urlencode({"start": first, "end": last, "unit": unit, "kpi": review.kpi.code})
    return render(request, "voc.html", actor=actor, review=review, units=units, unit=unit,
                  start=first.isoformat(), end=last.isoformat(), query=query,
                  kpi_label=label, kpi=review.kpi.code, items=items, item_names=item_names,
                  chart=chart,
                  subscribed=subscribed)


@router.get("/voc.xlsx")
def voc_excel(request: Request, ctx: ContextDep, actor: PageActor, origin: OriginDep,
              start: DateText = "", end: DateText = "", unit: UnitCode = "",
              kpi: KpiText = "nps") -> Response:
    review, first, last = reports.review_for(ctx, actor, start, end, unit, kpi)
    return voc_file(ctx, actor, origin, review, (first, last), "xlsx",
                    translator(request).locale)


@router.get("/voc.pdf")
def voc_pdf(request: Request, ctx: ContextDep, actor: PageActor, origin: OriginDep,
            start: DateText = "", end: DateText = "", unit: UnitCode = "",
            kpi: KpiText = "nps") -> Response:
    review, first, last = reports.review_for(ctx, actor, start, end, unit, kpi)
    return voc_file(ctx, actor, origin, review, (first, last), "pdf", translator(request).locale)


@router.post("/voc/subscription")
def subscribe(request: Request, ctx: ContextDep, actor: PageActor,
              unit: Annotated[str, Form(max_length=64)] = "",
              kpi: Annotated[str, Form(max_length=80)] = "nps",
              action: Annotated[str, Form(max_length=16)] = "subscribe") -> Response:
    if action == "unsubscribe":
        reports.do_unsubscribe(ctx, actor)
    else:
        reports.do_subscribe(ctx, actor, unit_code=unit or None,
                             locale=translator(request).locale, kpi=kpi)
    return RedirectResponse("/voc?" + urlencode({"unit": unit, "kpi": kpi}), status_code=303)
