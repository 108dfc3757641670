"""Text insights page (zh-CN/en): aspect × sentiment heat map, trending aspects, the most
negative quotes linked to their responses; CSV and Excel export of the aspect table.

Filters (from, to, unit, touchpoint, channel) live in the URL like the other dashboards; every
figure comes from analytics/insights and so honours the user's unit scope.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tiyan.analytics import dashboard as d
from tiyan.analytics.insights import LABELS, QUOTES, TextInsights, text_insights
from tiyan.domain.access import Actor, Permission
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.i18n import Translator
from tiyan.web.ui import dashboard_pages as dp
from tiyan.web.ui.names import unit_names

router = APIRouter(include_in_schema=False)
HEAT_ASPECTS = 15  # aspects shown on the heat map (the most mentioned)


def _chart(t_: Translator, data: TextInsights) -> dict[str, Any]:
    zh = t_.locale == "zh-CN"
    shown = list(reversed(data.aspects[:HEAT_ASPECTS]))  # the largest at the top
    cells = [[x, y, a.mentions[label]] for y, a in enumerate(shown)
             for x, label in enumerate(LABELS)]
    return {"aspects": [a.name_zh if zh else a.name_en for a in shown],
            "labels": [t_(f"insight.label_{label}") for label in LABELS],
            "cells": cells, "max": max((c[2] for c in cells), default=0),
            "title": t_("insight.heatmap")}


@router.get("/dashboard/text", response_class=HTMLResponse)
def text_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    t_ = translator(request)
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = dp.parse_view(request, conn, scope)
        reads = actor.can(Permission.VIEW_RESPONSES)  # quotes are the respondents' own words
        data = text_insights(conn, scope, view.filters, min_n=ctx.settings.min_n,
                             quotes=QUOTES if reads else 0)
        chart = _chart(t_, data) if data.aspects else None
        # quick corrections of the quotes: where the user may correct every unit quoted
        can_correct = reads and actor.can(Permission.CORRECT_TEXT)
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return dp._page(request, "dashboard_text.html", actor, view, conn, scope, data=data,
                        labels=LABELS, can_view_responses=reads, can_correct=can_correct,
                        back_path=back + "#negative-quotes", chart=chart or None,
                        unit_names=unit_names(conn, t_.locale))


def table_rows(request: Request, ctx: Any, actor: Actor) -> tuple[list[str], list[list[Any]]]:
    t_ = translator(request)
    zh = t_.locale == "zh-CN"

    def value(est: Any) -> Any:
        return None if est.too_few or est.value is None else round(est.value, 2)

    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = dp.parse_view(request, conn, scope)
        data = text_insights(conn, scope, view.filters, min_n=ctx.settings.min_n, quotes=0)
    head = [t_("insight.aspect_code"), t_("insight.aspect"), t_("insight.mentions")]
    head += [t_(f"insight.label_{label}") for label in LABELS]
    head += [t_("insight.share"), t_("insight.previous_share"), t_("insight.change"),
             t_("insight.negative_share"), t_("insight.mean_score")]
    rows = []
    for a in data.aspects:
        change = dp.arrow(a.change) or ""
        rows.append([a.code, a.name_zh if zh else a.name_en, a.total,
                     *[a.mentions[label] for label in LABELS],
                     value(a.share), value(a.previous_share), change, value(a.negative_share),
                     None if a.mean_score is None else round(a.mean_score, 3)])
    return head, rows


@router.get("/dashboard/text/export.{fmt}")
def export_text(fmt: str, request: Request, ctx: ContextDep, actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    dp.check_export_format(fmt)
    head, rows = table_rows(request, ctx, actor)
    return dp.table_download(request, actor, head, rows, "dashboard-text", fmt)
