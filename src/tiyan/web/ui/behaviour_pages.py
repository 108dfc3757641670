"""Behaviour dashboard (zh-CN/en): the units below the chosen one with their survey KPIs next to
repurchase rate, purchase frequency and average spend from the imported transactions, and the
chosen unit's retention by cohort as a heat map; CSV and Excel export of both tables.

Filters live in the URL like the other dashboard pages (dashboard_pages.parse_view); every
figure honours the user's unit scope (analytics/behaviour).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Connection

from tiyan.analytics import behaviour as bv
from tiyan.analytics import dashboard as d
from tiyan.domain.access import Actor, Permission
from tiyan.domain.behaviour import Behaviour
from tiyan.domain.metrics import Estimate
from tiyan.store import tables as t
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.i18n import Translator
from tiyan.web.ui import dashboard_pages as pages
from tiyan.web.ui.render import viewer_zone
from tiyan.web.ui.times import Times

router = APIRouter(include_in_schema=False)
FIGURES = ("repurchase", "frequency", "spend_per_purchase", "spend_per_customer")
FORMATS = {"repurchase": "{:.1f}%", "frequency": "{:.2f}", "spend_per_purchase": "{:,.2f}",
           "spend_per_customer": "{:,.2f}"}
SURVEY_KPIS = ("nps", "csat")


def behaviour_data(request: Request, ctx: Any, actor: Actor, conn: Connection
                   ) -> tuple[pages.View, d.Scope, bv.BehaviourView]:
    scope = d.dashboard_scope(conn, actor)
    view = pages.parse_view(request, conn, scope)
    data = bv.behaviour_view(conn, scope, view.filters,
                             window_days=ctx.settings.churn_window_days, as_of=ctx.now(),
                             min_n=ctx.settings.min_n)
    return view, scope, data


def figure(t_: Translator, est: Estimate, name: str) -> str:
    if est.too_few or est.value is None:
        return t_("behaviour.too_few")
    return FORMATS[name].format(est.value)


def figure_interval(t_: Translator, est: Estimate, name: str) -> str:
    if est.too_few or est.value is None or est.low is None or est.high is None:
        return t_("metric.n", n=f"{est.n:,}")
    fmt = FORMATS[name]
    return t_("metric.ci", low=fmt.format(est.low), high=fmt.format(est.high), n=f"{est.n:,}")


def values_of(figures: Behaviour) -> dict[str, Estimate]:
    return {name: getattr(figures, name) for name in FIGURES}


def heat_map(t_: Translator, data: bv.BehaviourView, when: Times) -> dict[str, Any] | None:
    """Cohorts (rows, oldest on top) × months after (columns); cells under min n and cells of
    a partial month (a few days against whole months) left out; a partial cohort marked."""
    cohorts = data.cohorts
    if not cohorts:
        return None
    width = max(len(c.retained) for c in cohorts)
    cells = [[k, row, round(e.value, 1)] for row, c in enumerate(cohorts)
             for k, e in enumerate(c.retained) if not e.too_few and e.value is not None
             and not data.partial_cell(c, k + 1)]
    return {"cohorts": [f"{when.month(c.month)} ({c.customers:,})"
                        + (t_("dash.partial_mark") if data.partial_cell(c, 0) else "")
                        for c in cohorts],
            "offsets": [t_("behaviour.month_after", k=k) for k in range(1, width + 1)],
            "cells": cells, "max": max((c[2] for c in cells), default=0),
            "labels": {"cohort": t_("behaviour.cohort"), "share": t_("behaviour.retained")}}


@router.get("/dashboard/behaviour", response_class=HTMLResponse)
def behaviour_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    t_ = translator(request)
    with ctx.db.read() as conn:
        view, scope, data = behaviour_data(request, ctx, actor, conn)
        up = None
        if data.parent is not None and view.filters.unit_id is not None:
            up = _up(conn, scope, data.parent.unit.unit_id)
        chart = heat_map(t_, data, Times(viewer_zone(request, actor), t_.locale))
        return pages._page(request, "dashboard_behaviour.html", actor, view, conn, scope,
                           data=data, up=up, figures=FIGURES, kpis=SURVEY_KPIS,
                           values_of=values_of, figure=figure, figure_interval=figure_interval,
                           chart=chart or None)


def _up(conn: Connection, scope: d.Scope, unit_id: int) -> str:
    """The code of the unit above ("" for the user's top units), for "Up one level"."""
    above = scope.parent_of.get(unit_id)
    if above is None or above not in scope.vis.all_units:
        return ""
    return str(conn.execute(sa.select(t.org_unit.c.code).where(t.org_unit.c.id == above)
                            ).scalar_one())


# --- exports --------------------------------------------------------------------------------

def units_table(t_: Translator, data: bv.BehaviourView) -> tuple[list[str], list[list[Any]]]:
    zh = t_.locale == "zh-CN"
    head = [t_("dash.unit_code"), t_("dash.unit"), t_("home.responses")]
    for k in SURVEY_KPIS:
        head += [t_(f"kpi.{k}"), t_("dash.n_of", kpi=t_(f"kpi.{k}"))]
    head += [t_("behaviour.customers"), t_("behaviour.purchases")]
    for name in FIGURES:
        head += [t_(f"behaviour.{name}"), t_("dash.n_of", kpi=t_(f"behaviour.{name}"))]
    rows = []
    for r in data.rows:
        u, f = r.unit, r.figures
        row: list[Any] = [u.code, (u.name_zh if zh else u.name_en)
                          + (f" ({t_('dash.own')})" if u.own_only else ""), u.responses]
        for k in SURVEY_KPIS:
            row += [_value(u.values[k]), u.values[k].n]
        row += [f.customers, f.purchases]
        for est in values_of(f).values():
            row += [_value(est), est.n]
        rows.append(row)
    return head, rows


def cohorts_table(t_: Translator, data: bv.BehaviourView
                  ) -> tuple[list[str], list[list[Any]]]:
    """The cohorts with a last column naming the partial month where a row has a cell in it
    (its days counted: such a cell is not comparable with whole months)."""
    cohorts = data.cohorts
    width = max((len(c.retained) for c in cohorts), default=0)
    head = [t_("behaviour.cohort"), t_("behaviour.customers")] + [
        t_("behaviour.month_after", k=k) for k in range(1, width + 1)] + [
        t_("behaviour.partial_column")]
    partial = ("" if data.partial_month is None else t_(
        "dash.partial", start=data.partial_month[0].isoformat(),
        end=data.partial_month[1].isoformat()))
    return head, [[f"{c.month:%Y-%m}", c.customers] + [_value(e) for e in c.retained]
                  + [None] * (width - len(c.retained))
                  + [partial if any(data.partial_cell(c, k) for k in
                                    range(len(c.retained) + 1)) else ""]
                  for c in cohorts]


def _value(est: Estimate) -> float | None:
    return None if est.too_few or est.value is None else round(est.value, 3)


@router.get("/dashboard/behaviour/export.{fmt}")
def export_units(fmt: str, request: Request, ctx: ContextDep, actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    pages.check_export_format(fmt)
    with ctx.db.read() as conn:
        _, _, data = behaviour_data(request, ctx, actor, conn)
    head, rows = units_table(translator(request), data)
    return pages.table_download(request, actor, head, rows, "dashboard-behaviour", fmt)


@router.get("/dashboard/behaviour/cohorts/export.{fmt}")
def export_cohorts(fmt: str, request: Request, ctx: ContextDep, actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    pages.check_export_format(fmt)
    with ctx.db.read() as conn:
        _, _, data = behaviour_data(request, ctx, actor, conn)
    head, rows = cohorts_table(translator(request), data)
    return pages.table_download(request, actor, head, rows, "dashboard-behaviour-cohorts", fmt)
