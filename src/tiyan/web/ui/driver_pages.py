"""Dashboards (zh-CN/en): key drivers with the importance × performance quadrant, staff
scorecards with the service star, competitor gaps; CSV and Excel export of each table.

Filters live in the URL like the other dashboard pages (dashboard_pages.parse_view), plus
`outcome` (nps, csat or repurchase) and `include=aspects` (comment aspects as drivers) on the
drivers page and `kpi` (nps or csat) on the staff page. Every
figure honours the user's unit scope (analytics/drivers_view, staff_view, competitors).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Connection

from tiyan.analytics import dashboard as d
from tiyan.analytics import drivers_view as dv
from tiyan.analytics import staff_view as sv
from tiyan.analytics.cube import sums, total_by_item
from tiyan.domain.access import Actor, Permission
from tiyan.domain.drivers import FLAT_SHARE
from tiyan.domain.metrics import Estimate
from tiyan.errors import InvalidInput
from tiyan.services import targets
from tiyan.store import tables as t
from tiyan.store.surveys import item_labels
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.i18n import Translator
from tiyan.web.ui import dashboard_pages as pages

router = APIRouter(include_in_schema=False)
QUADRANTS = ("fix_first", "keep_up", "over_invested", "low_priority")
INCLUDE = ("", "aspects")  # items only (from the aggregate), or comment aspects too (raw)


def driver_labels(conn: Connection, actor: Actor, locale: str) -> dict[str, str]:
    """Item labels, and the taxonomy name of each comment aspect under its predictor name."""
    from tiyan.analytics.driver_values import ASPECT
    from tiyan.analytics.insights import aspect_names

    labels = item_labels(conn, actor, locale)
    for code, (zh, en) in aspect_names().items():
        labels[ASPECT + code] = zh if locale == "zh-CN" else en
    return labels


def _choice(request: Request, name: str, choices: Sequence[str]) -> str:
    value = request.query_params.get(name) or choices[0]
    if value not in choices:
        raise InvalidInput("driver_pages.not", value=value, choices=", ".join(choices), where=name)
    return value


# --- key drivers ----------------------------------------------------------------------------

def drivers_data(request: Request, ctx: Any, actor: Actor, conn: Connection
                 ) -> tuple[pages.View, d.Scope, dv.DriverAnalysis, str]:
    scope = d.dashboard_scope(conn, actor)
    view = pages.parse_view(request, conn, scope)
    outcome = _choice(request, "outcome", dv.OUTCOMES)
    view.query["outcome"] = outcome
    include = _choice(request, "include", INCLUDE)
    if include:
        view.query["include"] = include
    analysis = dv.key_drivers(conn, scope, view.filters, outcome, min_n=ctx.settings.min_n,
                              aspects=include == "aspects", now=ctx.now(),
                              window_days=ctx.settings.churn_window_days,
                              per_item=ctx.settings.drivers_per_item)
    return view, scope, analysis, outcome


def scale_label(t_: Translator, scale: str) -> str:
    """An item's scale in words: "yes/no", "1–5 scale", "comment aspect"."""
    low, _, high = scale.partition("-")
    if low.isdigit() and high.isdigit():
        return t_("drivers.scale_range", low=low, high=high)
    return t_(f"drivers.scale_{scale}" if scale in ("yesno", "aspect") else "drivers.scale_other")


def drivers_chart(t_: Translator, analysis: dv.DriverAnalysis, labels: dict[str, str]
                  ) -> dict[str, Any] | None:
    """The quadrant chart's data: importance × performance against the item's scale; items
    alone on their scale are not placed."""
    if not analysis.drivers or analysis.too_few:
        return None
    return {
        "points": [{"name": labels.get(x.item, x.item),
                    "value": [round(x.share, 1), round(x.relative, 1)],
                    "interval": [round(x.low, 1), round(x.high, 1)]
                    if x.low is not None and x.high is not None else None,
                    "performance": round(x.performance, 1), "scale": scale_label(t_, x.scale),
                    "quadrant": x.quadrant, "comment": x.from_comments}
                   for x in analysis.drivers if x.quadrant is not None],
        "split": [round(analysis.importance_split or 0, 1), 0],
        "labels": {"x": t_("drivers.importance"), "y": t_("drivers.relative_axis"),
                   "performance": t_("drivers.performance"), "interval": t_("drivers.interval"),
                   "comment": t_("drivers.from_comments"),
                   **{q: t_(f"drivers.q_{q}") for q in QUADRANTS}},
    }


@router.get("/dashboard/drivers", response_class=HTMLResponse)
def drivers_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    t_ = translator(request)
    with ctx.db.read() as conn:
        view, scope, analysis, outcome = drivers_data(request, ctx, actor, conn)
        labels = driver_labels(conn, actor, t_.locale)
        chart = drivers_chart(t_, analysis, labels)
        hidden = {"outcome": outcome, **({"include": "aspects"} if analysis.aspects else {})}
        return pages._page(request, "dashboard_drivers.html", actor, view, conn, scope,
                           data=analysis, outcome=outcome, outcomes=dv.OUTCOMES,
                           labels=labels, hidden=hidden, chart=chart,
                           scale_label=lambda scale: scale_label(t_, scale),
                           min_n=ctx.settings.min_n, per_item=ctx.settings.drivers_per_item,
                           step=max(1, math.ceil(analysis.respondents / dv.SAMPLE_CAP)),
                           flat_share=100 * FLAT_SHARE)


def drivers_table(t_: Translator, analysis: dv.DriverAnalysis, labels: dict[str, str]
                  ) -> tuple[list[str], list[list[Any]]]:
    head = [t_("drivers.item_code"), t_("drivers.item"), t_("drivers.weight"),
            t_("drivers.share"), t_("drivers.share_low"), t_("drivers.share_high"),
            t_("drivers.rank_number"), t_("drivers.rank_low"), t_("drivers.rank_high"),
            t_("drivers.performance"), t_("drivers.scale"), t_("drivers.relative"),
            t_("drivers.mean"), "n", t_("drivers.quadrant"), t_("drivers.source")]
    rows: list[list[Any]] = [
        [x.item, labels.get(x.item, x.item), round(x.weight, 4), round(x.share, 1),
         _rounded(x.low), _rounded(x.high), x.rank, x.rank_low, x.rank_high,
         round(x.performance, 1), scale_label(t_, x.scale), round(x.relative, 1),
         round(x.mean, 2), x.n, t_(f"drivers.q_{x.quadrant or 'alone'}"),
         t_("drivers.from_comments" if x.from_comments else "drivers.from_items")]
        for x in ([] if analysis.too_few else analysis.drivers)]
    return head, rows


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- exports --------------------------------------------------------------------------------

@router.get("/dashboard/drivers/export.{fmt}")
def export_drivers(fmt: str, request: Request, ctx: ContextDep, actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    pages.check_export_format(fmt)
    t_ = translator(request)
    with ctx.db.read() as conn:
        _, _, analysis, outcome = drivers_data(request, ctx, actor, conn)
        head, rows = drivers_table(t_, analysis, driver_labels(conn, actor, t_.locale))
    suffix = "-aspects" if analysis.aspects else ""
    return pages.table_download(request, actor, head, rows,
                                f"dashboard-drivers-{outcome}{suffix}", fmt)


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
            t_("staffcard.shrunk"), t_("staffcard.unit_mean"), t_("staffcard.unit_n"),
            t_("staffcard.star")]
    rows: list[list[Any]] = []
    for r in data.rows:
        few = r.value.too_few or r.value.value is None
        rows.append([r.code, r.name, r.unit_code, r.unit_zh if zh else r.unit_en, r.value.n,
                     t_("metric.too_few") if few else round(r.value.value or 0.0, 2),
                     None if few or r.value.low is None else round(r.value.low, 2),
                     None if few or r.value.high is None else round(r.value.high, 2),
                     None if r.shrunk is None else round(r.shrunk, 2),
                     None if r.unit_mean is None else round(r.unit_mean, 2), r.unit_n,
                     "★" if r.star else ""])
    return head, rows


@router.get("/dashboard/staff/export.{fmt}")
def export_staff(fmt: str, request: Request, ctx: ContextDep, actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    pages.check_export_format(fmt)
    with ctx.db.read() as conn:
        _, _, data = staff_data(request, ctx, actor, conn)
    head, rows = staff_table(translator(request), data)
    return pages.table_download(request, actor, head, rows, f"dashboard-staff-{data.kpi}", fmt)


# --- competitor gaps ------------------------------------------------------------------------

BENCH_KPIS = targets.BENCH_KPIS  # checked and saved in services/targets


@dataclass(frozen=True)
class Gap:
    id: int
    kpi: str
    competitor: str
    unit_code: str
    unit_zh: str
    unit_en: str
    period_start: dt.date
    period_end: dt.date
    theirs: float
    ours: Estimate
    gap: float | None  # ours - theirs; None when ours is too few
    source: str | None


def competitor_gaps(conn: Connection, scope: d.Scope, view: pages.View,
                    min_n: int) -> list[Gap]:
    """Benchmarks of the visible units (in the chosen unit's subtree) whose period overlaps the
    range, each with our figure for the same unit (its subtree) and period, and the gap."""
    b, u = t.competitor_benchmark, t.org_unit
    units = (scope.vis.all_units if view.filters.unit_id is None
             else d.visible_unit_ids(scope, view.filters.unit_id))
    if not units:
        return []
    rows = conn.execute(
        sa.select(b, u.c.code, u.c.name_zh, u.c.name_en).join(u, u.c.id == b.c.unit_id)
        .where(b.c.unit_id.in_(sorted(units)), b.c.period_start <= view.filters.date_to,
               b.c.period_end >= view.filters.date_from)
        .order_by(u.c.code, b.c.kpi, b.c.competitor, b.c.period_start)).all()
    out = []
    for row in rows:
        period = dataclasses.replace(view.filters.between(row.period_start, row.period_end),
                                     unit_id=row.unit_id)
        totals = total_by_item(sums(conn, scope.vis, scope.parent_of, period, [],
                                    [d.item_of(row.kpi)]))
        ours = d.estimate(row.kpi, totals.get(d.item_of(row.kpi)), min_n)
        gap = None if ours.too_few or ours.value is None else ours.value - row.value
        out.append(Gap(row.id, row.kpi, row.competitor, row.code, row.name_zh, row.name_en,
                       row.period_start, row.period_end, row.value, ours, gap, row.source))
    return out


@router.get("/dashboard/competitors", response_class=HTMLResponse)
def competitors_page(request: Request, ctx: ContextDep, actor: PageActor,
                     saved: int | None = None) -> HTMLResponse:
    return _competitors(request, ctx, actor, saved=saved)


def _competitors(request: Request, ctx: Any, actor: Actor, *, saved: int | None = None,
                 errors: Sequence[str] = (), status_code: int = 200,
                 values: dict[str, str] | None = None) -> HTMLResponse:
    """The gaps page; with `errors` (a form or file that was not saved), their status and the
    form's `values` as sent."""
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = pages.parse_view(request, conn, scope)
        gaps = competitor_gaps(conn, scope, view, ctx.settings.min_n)
        manage = _managed_units(conn, actor)
        return pages._page(request, "dashboard_competitors.html", actor, view, conn, scope,
                           gaps=gaps, manage=manage, kpis=BENCH_KPIS, errors=errors,
                           saved=saved, status_code=status_code, values=values or {})


def _managed_units(conn: Connection, actor: Actor) -> list[tuple[str, str, str]]:
    ids = sorted(actor.scope.visibility(Permission.MANAGE_SURVEYS).unit_ids)
    if not ids:
        return []
    u = t.org_unit
    return [(r.code, r.name_zh, r.name_en) for r in conn.execute(
        sa.select(u.c.code, u.c.name_zh, u.c.name_en).where(u.c.id.in_(ids)).order_by(u.c.id))]


@router.post("/dashboard/competitors")
def competitors_save(request: Request, ctx: ContextDep, actor: PageActor,
                     kpi: Annotated[str, Form()] = "", competitor: Annotated[str, Form()] = "",
                     unit: Annotated[str, Form()] = "", period_start: Annotated[str, Form()] = "",
                     period_end: Annotated[str, Form()] = "", value: Annotated[str, Form()] = "",
                     source: Annotated[str, Form()] = "") -> Response:
    values = {"kpi": kpi, "competitor": competitor, "unit": unit, "period_start": period_start,
              "period_end": period_end, "value": value, "source": source}
    try:
        targets.do_save_benchmarks(ctx, actor, [values])
    except targets.RowErrors as exc:
        return _competitors(request, ctx, actor, errors=exc.lines(translator(request).locale),
                            status_code=exc.status,
                            values=values)
    return RedirectResponse("/dashboard/competitors?saved=1", status_code=303)


@router.post("/dashboard/competitors/import")
def competitors_import(request: Request, ctx: ContextDep, actor: PageActor,
                       file: Annotated[UploadFile, File()]) -> Response:
    """CSV with a header: kpi, competitor, unit, period_start, period_end, value[, source].
    All rows or none; each error names its line and column."""
    actor.require(Permission.MANAGE_SURVEYS)
    reader = pages.read_csv_upload(file)
    needed = {"kpi", "competitor", "unit", "period_start", "period_end", "value"}
    missing = needed - {(name or "").strip() for name in reader.fieldnames or []}
    if missing:
        return _competitors(request, ctx, actor, errors=[
            f"line 1: missing columns {', '.join(sorted(missing))}"], status_code=422)
    rows = [{(k or "").strip(): v or "" for k, v in row.items() if isinstance(v, str)}
            for row in reader]
    try:
        count = targets.do_save_benchmarks(ctx, actor, rows, numbered=True)
    except targets.RowErrors as exc:
        return _competitors(request, ctx, actor, errors=exc.lines(translator(request).locale),
                            status_code=422)
    return RedirectResponse(f"/dashboard/competitors?saved={count}", status_code=303)


def competitors_table(t_: Translator, gaps: Sequence[Gap]) -> tuple[list[str], list[list[Any]]]:
    zh = t_.locale == "zh-CN"
    head = [t_("dash.unit_code"), t_("dash.unit"), t_("compete.kpi_code"), t_("compete.kpi"),
            t_("compete.competitor"), t_("compete.period_start"), t_("compete.period_end"),
            t_("compete.theirs"), t_("compete.ours"), "n", t_("compete.gap"),
            t_("compete.source")]
    return head, [[g.unit_code, g.unit_zh if zh else g.unit_en, g.kpi, t_(f"kpi.{g.kpi}"),
                   g.competitor,
                   g.period_start.isoformat(), g.period_end.isoformat(), g.theirs,
                   None if g.ours.too_few or g.ours.value is None else round(g.ours.value, 2),
                   g.ours.n, None if g.gap is None else round(g.gap, 2), g.source or ""]
                  for g in gaps]


@router.get("/dashboard/competitors/export.{fmt}")
def export_competitors(fmt: str, request: Request, ctx: ContextDep,
                       actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    pages.check_export_format(fmt)
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = pages.parse_view(request, conn, scope)
        gaps = competitor_gaps(conn, scope, view, ctx.settings.min_n)
    head, rows = competitors_table(translator(request), gaps)
    return pages.table_download(request, actor, head, rows, "dashboard-competitors", fmt)
