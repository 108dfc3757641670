"""Dashboards (zh-CN/en): key drivers with the importance × performance quadrant, staff
scorecards with the service star, competitor gaps; CSV and Excel export of each table.

Filters live in the URL like the other dashboard pages (dashboard_pages.parse_view), plus
`outcome` (nps or csat) on the drivers page and `kpi` (nps or csat) on the staff page. Every
figure honours the user's unit scope (analytics/drivers_view, staff_view, competitors).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Connection

from tiyan.analytics import dashboard as d
from tiyan.analytics import drivers_view as dv
from tiyan.analytics import staff_view as sv
from tiyan.domain.access import Actor, Permission
from tiyan.domain.surveys import parse_definition
from tiyan.errors import InvalidInput
from tiyan.store import tables as t
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.i18n import Translator
from tiyan.web.ui import dashboard_pages as pages

router = APIRouter(include_in_schema=False)
QUADRANTS = ("fix_first", "keep_up", "over_invested", "low_priority")


def item_labels(conn: Connection, locale: str) -> dict[str, str]:
    """Question text per item code, from the latest version of each survey."""
    sv = t.survey_version
    latest = sa.select(sa.func.max(sv.c.id)).group_by(sv.c.survey_id).scalar_subquery()
    labels: dict[str, str] = {}
    for (definition,) in conn.execute(sa.select(sv.c.definition).where(sv.c.id.in_(latest))
                                      .order_by(sv.c.id.desc())):
        try:
            questions = parse_definition(definition).questions
        except Exception:  # an old definition that no longer parses keeps its codes
            continue
        for q in questions:
            if q.item_code and q.item_code not in labels:
                labels[q.item_code] = q.text.get(locale) or q.text.get("en") or q.item_code
    return labels


def _choice(request: Request, name: str, choices: Sequence[str]) -> str:
    value = request.query_params.get(name) or choices[0]
    if value not in choices:
        raise InvalidInput(f'"{value}" is not one of {", ".join(choices)}', where=name)
    return value


# --- key drivers ----------------------------------------------------------------------------

def drivers_data(request: Request, ctx: Any, actor: Actor, conn: Connection
                 ) -> tuple[pages.View, d.Scope, dv.DriverAnalysis, str]:
    scope = d.dashboard_scope(conn, actor)
    view = pages.parse_view(request, conn, scope)
    outcome = _choice(request, "outcome", dv.OUTCOMES)
    view.query["outcome"] = outcome
    analysis = dv.key_drivers(conn, scope, view.filters, outcome, min_n=ctx.settings.min_n)
    return view, scope, analysis, outcome


@router.get("/dashboard/drivers", response_class=HTMLResponse)
def drivers_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    t_ = translator(request)
    with ctx.db.read() as conn:
        view, scope, analysis, outcome = drivers_data(request, ctx, actor, conn)
        labels = item_labels(conn, t_.locale)
        chart = None
        if analysis.drivers and not analysis.too_few:
            chart = {
                "points": [{"name": labels.get(x.item, x.item), "value":
                            [round(x.share, 1), round(x.performance, 1)],
                            "quadrant": x.quadrant} for x in analysis.drivers],
                "split": [round(analysis.importance_split or 0, 1),
                          round(analysis.performance_split or 0, 1)],
                "labels": {"x": t_("drivers.importance"), "y": t_("drivers.performance"),
                           **{q: t_(f"drivers.q_{q}") for q in QUADRANTS}},
            }
        return pages._page(request, "dashboard_drivers.html", actor, view, conn, scope,
                           data=analysis, outcome=outcome, outcomes=dv.OUTCOMES,
                           labels=labels, hidden={"outcome": outcome},
                           chart_json=json.dumps(chart, ensure_ascii=False) if chart else "")


def drivers_table(t_: Translator, analysis: dv.DriverAnalysis, labels: dict[str, str]
                  ) -> tuple[list[str], list[list[Any]]]:
    head = [t_("drivers.item_code"), t_("drivers.item"), t_("drivers.weight"),
            t_("drivers.share"), t_("drivers.performance"), t_("drivers.mean"), "n",
            t_("drivers.quadrant")]
    rows: list[list[Any]] = [
        [x.item, labels.get(x.item, x.item), round(x.weight, 4), round(x.share, 1),
         round(x.performance, 1), round(x.mean, 2), x.n, t_(f"drivers.q_{x.quadrant}")]
        for x in ([] if analysis.too_few else analysis.drivers)]
    return head, rows


# --- exports --------------------------------------------------------------------------------

def table_response(head: Sequence[str], rows: Sequence[Sequence[Any]], name: str,
                   fmt: str) -> Response:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(head)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(pages._xlsx(head, rows), media_type="application/vnd.openxmlformats-"
                    "officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/dashboard/drivers/export.{fmt}")
def export_drivers(fmt: str, request: Request, ctx: ContextDep, actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput(f'"{fmt}" is not an export format (csv or xlsx)', where="format")
    t_ = translator(request)
    with ctx.db.read() as conn:
        _, _, analysis, outcome = drivers_data(request, ctx, actor, conn)
        head, rows = drivers_table(t_, analysis, item_labels(conn, t_.locale))
    return table_response(head, rows, f"dashboard-drivers-{outcome}", fmt)


# --- staff scorecards -----------------------------------------------------------------------

STAFF_FORMATS = {"nps": "{:+.1f}", "csat": "{:.2f}"}


def staff_data(request: Request, ctx: Any, actor: Actor, conn: Connection
               ) -> tuple[pages.View, d.Scope, sv.Scorecards]:
    scope = d.dashboard_scope(conn, actor)
    view = pages.parse_view(request, conn, scope)
    kpi = _choice(request, "kpi", sv.KPIS)
    view.query["kpi"] = kpi
    return view, scope, sv.scorecards(conn, scope, view.filters, kpi, min_n=ctx.settings.min_n)


@router.get("/dashboard/staff", response_class=HTMLResponse)
def staff_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    with ctx.db.read() as conn:
        view, scope, data = staff_data(request, ctx, actor, conn)
        return pages._page(request, "dashboard_staff.html", actor, view, conn, scope,
                           data=data, kpis=sv.KPIS, hidden={"kpi": data.kpi},
                           fmt=STAFF_FORMATS[data.kpi])


def staff_table(t_: Translator, data: sv.Scorecards) -> tuple[list[str], list[list[Any]]]:
    zh = t_.locale == "zh-CN"
    head = [t_("staffcard.code"), t_("staffcard.name"), t_("dash.unit_code"), t_("dash.unit"),
            "n", t_("staffcard.raw"), t_("staffcard.low"), t_("staffcard.high"),
            t_("staffcard.shrunk"), t_("staffcard.unit_mean"), t_("staffcard.star")]
    rows: list[list[Any]] = []
    for r in data.rows:
        few = r.value.too_few or r.value.value is None
        rows.append([r.code, r.name, r.unit_code, r.unit_zh if zh else r.unit_en, r.value.n,
                     t_("metric.too_few") if few else round(r.value.value or 0.0, 2),
                     None if few or r.value.low is None else round(r.value.low, 2),
                     None if few or r.value.high is None else round(r.value.high, 2),
                     None if r.shrunk is None else round(r.shrunk, 2), round(r.unit_mean, 2),
                     "★" if r.star else ""])
    return head, rows


@router.get("/dashboard/staff/export.{fmt}")
def export_staff(fmt: str, request: Request, ctx: ContextDep, actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput(f'"{fmt}" is not an export format (csv or xlsx)', where="format")
    with ctx.db.read() as conn:
        _, _, data = staff_data(request, ctx, actor, conn)
    head, rows = staff_table(translator(request), data)
    return table_response(head, rows, f"dashboard-staff-{data.kpi}", fmt)
