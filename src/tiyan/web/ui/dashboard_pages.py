"""Dashboards (zh-CN/en): overview, unit league table with drill-down, journey view; CSV and
Excel export of each table; KPI targets entered in a form or imported from CSV.

Filters live in the URL (from, to, unit, touchpoint, channel, segment, staff, answer, aspect and
aspect_label, attr, journey, and the trend's grain on the overview) so a view can be shared;
every figure comes from analytics/dashboard and so honours the user's unit scope.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Connection

from tiyan.analytics import dashboard as d
from tiyan.analytics import journey_view as jv
from tiyan.analytics.cube import Filters
from tiyan.analytics.export_cells import append_row, csv_row
from tiyan.analytics.response_rate import RESPONSE_RATE
from tiyan.domain.access import Actor, Permission
from tiyan.domain.customer_value import SEGMENT_NAMES, segment_label
from tiyan.domain.metrics import Estimate
from tiyan.domain.statistics import Change
from tiyan.errors import InvalidInput
from tiyan.services import targets
from tiyan.services.audit_trail import Export, do_audit_export
from tiyan.store import customers
from tiyan.store import indices as index_store
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE
from tiyan.store.scoped_refs import staff_among, unit_among
from tiyan.web.deps import ContextDep, PageActor, get_context, translator
from tiyan.web.i18n import Translator
from tiyan.web.request_origin import request_origin
from tiyan.web.ui.render import render, viewer_zone
from tiyan.web.ui.times import Times

router = APIRouter(include_in_schema=False)
CHANNELS = ("sms", "email", "qr", "phone", "link", "api", "kiosk", "import")
FORMATS = {"nps": "{:+.1f}", "csat": "{:.2f}", "csat_top2": "{:.1f}%", "ces": "{:.2f}",
           "index": "{:.1f}", "response_rate": "{:.1f}%"}
STAFF_CHOICES = 500  # staff offered in the picker; any other code can still be typed
ASPECT_LABELS = ("negative", "positive", "neutral")


@dataclass(frozen=True)
class View:
    filters: Filters
    unit_code: str | None
    journey_code: str | None
    query: dict[str, str]
    grain: str = "month"
    compare_partial: bool = False  # partial=compare: mark a partial bucket's change too

    def url(self, path: str, **changes: str | None) -> str:
        query = {**self.query, **changes}
        clean = {k: v for k, v in query.items() if v}
        return path + ("?" + urlencode(clean) if clean else "")


def _today(request: Request) -> dt.date:
    from zoneinfo import ZoneInfo

    ctx = request.app.state.ctx
    return ctx.now().astimezone(ZoneInfo(BUSINESS_TIMEZONE)).date()  # type: ignore[no-any-return]


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("common.not_date_yyyy_mm", value=value, where=name) from None


def parse_view(request: Request, conn: Connection, scope: d.Scope) -> View:
    params = request.query_params
    default = d.default_filters(_today(request))
    start = _date(params["from"], "from") if params.get("from") else default.date_from
    end = _date(params["to"], "to") if params.get("to") else default.date_to
    if end < start:
        raise InvalidInput("dashboard_pages.end_date_before_start", where="to")
    if (end - start).days > 3660:
        raise InvalidInput("dashboard_pages.date_range_may_cover", where="from")
    unit_code = params.get("unit") or None
    unit_id = None
    if unit_code:
        unit_id = unit_among(conn, scope.vis.all_units, unit_code)
    touchpoint_id = None
    if params.get("touchpoint"):
        try:
            touchpoint_id = int(params["touchpoint"])
        except ValueError:
            raise InvalidInput("dashboard_pages.touchpoint_not_number",
                               where="touchpoint") from None
    channel = params.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput("dashboard_pages.not_channel", channel=channel, where="channel")
    segment = customers.check_segment(conn, (params.get("segment") or "")[:64] or None)
    staff_code = params.get("staff") or None
    staff_id = staff_among(conn, scope.vis.all_units, staff_code) if staff_code else None
    answer = _pair(params.get("answer") or "", "answer", 130)
    aspect = (params.get("aspect") or "").strip() or None
    if aspect is not None and len(aspect) > 64:
        raise InvalidInput("dashboard_pages.aspect_code_longer_characters", where="aspect")
    aspect_label = params.get("aspect_label") or None
    if aspect_label is not None and aspect_label not in ASPECT_LABELS:
        raise InvalidInput("dashboard_pages.not_aspect_label", aspect_label=aspect_label,
                           aspect_labels=", ".join(ASPECT_LABELS), where="aspect_label")
    if aspect_label is not None and aspect is None:
        raise InvalidInput("dashboard_pages.aspect_label_needs_aspect", where="aspect_label")
    attr = _pair(params.get("attr") or "", "attr", 64)
    grain = params.get("grain") or "month"
    if grain not in d.GRAINS:
        raise InvalidInput("dashboard_pages.not_grain", grain=grain, grains=", ".join(d.GRAINS),
                           where="grain")
    longest = d.MAX_TREND_DAYS.get(grain)
    if longest is not None and (end - start).days + 1 > longest:
        raise InvalidInput("dashboard_pages.trend_covers_most_days", grain=grain, longest=longest,
                           where="grain")
    query = {"from": start.isoformat(), "to": end.isoformat(), "unit": unit_code or "",
             "touchpoint": str(touchpoint_id or ""), "channel": channel or "",
             "segment": segment or "", "staff": staff_code or "",
             "answer": ":".join(answer or ()), "aspect": aspect or "",
             "aspect_label": aspect_label or "", "attr": ":".join(attr or ()),
             "grain": "" if grain == "month" else grain,
             "journey": params.get("journey", ""),
             "partial": "compare" if params.get("partial") == "compare" else ""}
    return View(Filters(start, end, unit_id, touchpoint_id, channel, segment, staff_id, answer,
                        aspect, aspect_label, attr),
                unit_code, params.get("journey") or None, query, grain,
                params.get("partial") == "compare")


def _pair(value: str, name: str, longest_key: int) -> tuple[str, str] | None:
    """KEY:VALUE of an answer or customer attribute filter (the value may hold colons)."""
    if not value:
        return None
    key, colon, rest = value.partition(":")
    key = key.strip()
    if not colon or not key or not rest:
        raise InvalidInput("dashboard_pages.not_key_value_example", value=value[:80], where=name)
    if len(key) > longest_key or len(rest) > 200:
        raise InvalidInput("dashboard_pages.key_may_most_characters", longest_key=longest_key,
                           where=name)
    return key, rest


def shown(t_: Translator, est: Estimate, kpi: str) -> str:
    if est.too_few or est.value is None:
        return t_("metric.too_few")
    return FORMATS.get(kpi, "{:.2f}").format(est.value)


def interval(t_: Translator, est: Estimate, kpi: str) -> str:
    if est.too_few or est.value is None or est.low is None or est.high is None:
        return t_("metric.n", n=f"{est.n:,}")
    fmt = FORMATS.get(kpi, "{:.2f}")
    return t_("metric.ci", low=fmt.format(est.low), high=fmt.format(est.high), n=f"{est.n:,}")


def arrow(change: Change | None) -> str:
    if change is None or not change.significant:
        return ""
    return "▲" if change.direction == "up" else "▼"


def _touchpoints(conn: Connection) -> list[tuple[int, str, str]]:
    tp = t.touchpoint
    return [(r.id, r.name_zh, r.name_en) for r in conn.execute(
        sa.select(tp.c.id, tp.c.name_zh, tp.c.name_en).order_by(tp.c.journey_id, tp.c.position))]


def _units(conn: Connection, scope: d.Scope) -> list[tuple[str, str, str]]:
    u = t.org_unit
    ids = sorted(scope.vis.all_units)
    if not ids:
        return []
    return [(r.code, r.name_zh, r.name_en) for r in conn.execute(
        sa.select(u.c.code, u.c.name_zh, u.c.name_en).where(u.c.id.in_(ids)).order_by(u.c.id))]


def _staff_choices(conn: Connection, scope: d.Scope) -> list[tuple[str, str]]:
    """Staff codes and names of the visible units (frontline: themselves), for the picker."""
    s = t.staff
    own = [staff_id for _, staff_id in scope.vis.staff_rows]
    query = (sa.select(s.c.code, s.c.name)
             .where(sa.or_(s.c.unit_id.in_(sorted(scope.vis.unit_ids)), s.c.id.in_(own)))
             .order_by(s.c.code).limit(STAFF_CHOICES))
    return [(r.code, r.name) for r in conn.execute(query)]


def filter_choices(conn: Connection, scope: d.Scope) -> dict[str, Any]:
    """What the filter form (_dashboard_filters.html) offers: the scope's units and staff, the
    touchpoints, channels and segments."""
    segments = sorted(set(customers.segments_in_use(conn)) | set(SEGMENT_NAMES))
    return {"channels": CHANNELS, "touchpoints": _touchpoints(conn),
            "units": _units(conn, scope), "segments": segments, "segment_label": segment_label,
            "staff_choices": _staff_choices(conn, scope)}


def _page(request: Request, template: str, actor: Actor, view: View, conn: Connection,
          scope: d.Scope, **values: Any) -> HTMLResponse:
    return render(request, template, actor=actor, view=view, shown=shown,
                  interval=interval, arrow=arrow, can_export=actor.can(Permission.EXPORT),
                  grains=d.GRAINS, **filter_choices(conn, scope), **values)


# --- overview -------------------------------------------------------------------------------

@router.get("/dashboard", response_class=HTMLResponse)
def overview_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    t_ = translator(request)
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = parse_view(request, conn, scope)
        data = d.overview(conn, scope, view.filters, min_n=ctx.settings.min_n,
                          grain=view.grain, today=_today(request),
                          compare_partial=view.compare_partial)
        when = Times(viewer_zone(request, actor), t_.locale)
        chart = {
            "months": [when.period(p.start, view.grain, p.label)
                       + (t_("dash.partial_mark") if p.partial else "") for p in data.trend],
            "responses": [p.responses for p in data.trend],
            "nps": [_plain(p.values["nps"]) for p in data.trend],
            "csat": [_plain(p.values["csat"]) for p in data.trend],
            "labels": {"responses": t_("home.responses"), "nps": t_("home.nps"),
                       "csat": t_("home.csat")},
        }
        return _page(request, "dashboard_overview.html", actor, view, conn, scope, data=data,
                     has_data=any(p.responses for p in data.trend) or data.responses > 0
                     or bool(data.response_rate and data.response_rate.value.n),
                     chart=chart)


def _plain(est: Estimate) -> float | None:
    return None if est.too_few or est.value is None else round(est.value, 2)


# --- league ---------------------------------------------------------------------------------

@router.get("/dashboard/units", response_class=HTMLResponse)
def league_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = parse_view(request, conn, scope)
        data = d.league(conn, scope, view.filters, min_n=ctx.settings.min_n)
        up = None
        if data.parent is not None and view.filters.unit_id is not None:
            parent_of = scope.parent_of.get(data.parent.unit_id)
            if parent_of is not None and parent_of in scope.vis.all_units:
                up = conn.execute(sa.select(t.org_unit.c.code).where(
                    t.org_unit.c.id == parent_of)).scalar_one()
            else:
                up = ""
        return _page(request, "dashboard_units.html", actor, view, conn, scope, data=data, up=up,
                     index_kpis=[d.index_kpi(i) for i in data.indices])


# --- journey --------------------------------------------------------------------------------

@router.get("/dashboard/journey", response_class=HTMLResponse)
def journey_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    t_ = translator(request)
    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = parse_view(request, conn, scope)
        all_journeys = jv.journeys(conn)
        chosen = next((j[0] for j in all_journeys if j[1] == view.journey_code), None)
        data = jv.journey_view(conn, scope, view.filters, chosen, min_n=ctx.settings.min_n)
        zh = t_.locale == "zh-CN"
        chart = None
        if data is not None and any(s.answers for s in data.steps):
            top = [s for s in data.steps if s.depth == 0]
            chart = {"steps": [s.name_zh if zh else s.name_en for s in top],
                     "scores": [_plain(s.score) for s in top],
                     "sentiment": [None if s.sentiment is None else round(s.sentiment, 2)
                                   for s in top],
                     "labels": {"score": t_("dash.step_score"),
                                "sentiment": t_("dash.sentiment")}}
        return _page(request, "dashboard_journey.html", actor, view, conn, scope, data=data,
                     journeys=all_journeys, chart=chart or None)


# --- exports --------------------------------------------------------------------------------

def marker(t_: Translator, change: Change | None, against: str = "period") -> str:
    """A change as the page marks it (after the page's Benjamini-Hochberg control): up, down,
    no significant change, or empty where it was not tested."""
    if change is None or change.p_value is None:
        return ""
    if against == "parent":
        return t_(f"dash.vs_parent_{change.direction}")
    return t_(f"dash.change_{change.direction}")


def _partial_cell(t_: Translator, p: d.TrendPoint) -> str:
    if not p.partial:
        return ""
    if p.last_day is None or p.first_day is None:
        return t_("dash.not_begun")
    return t_("dash.partial", start=p.first_day.isoformat(), end=p.last_day.isoformat())


def estimate_cells(est: Estimate) -> list[Any]:
    """A figure as export cells: value, interval low, interval high (empty under min n)."""
    if est.too_few or est.value is None:
        return [None, None, None]
    return [round(est.value, 3), None if est.low is None else round(est.low, 3),
            None if est.high is None else round(est.high, 3)]


def table_rows(request: Request, ctx: Any, actor: Actor, page: str) -> tuple[list[str],
                                                                            list[list[Any]]]:
    t_ = translator(request)
    zh = t_.locale == "zh-CN"
    min_n = ctx.settings.min_n

    def value(est: Estimate) -> Any:
        return None if est.too_few or est.value is None else round(est.value, 3)

    with ctx.db.read() as conn:
        scope = d.dashboard_scope(conn, actor)
        view = parse_view(request, conn, scope)
        if page == "overview":
            data = d.overview(conn, scope, view.filters, min_n=min_n, grain=view.grain,
                              today=_today(request), compare_partial=view.compare_partial)
            kpis = [*d.KPIS, *(d.index_kpi(i.definition) for i in data.indices)]
            names = [t_(f"kpi.{k}") for k in d.KPIS] + [i.definition.name(t_.locale)
                                                        for i in data.indices]
            head = [t_(f"dash.grain_{view.grain}"), t_("home.responses"), t_("dash.partial_head")]
            for name in names:
                head += [name, t_("dash.n_of", kpi=name), t_("dash.low_of", kpi=name),
                         t_("dash.high_of", kpi=name), t_("dash.change_of", kpi=name)]
            rows = []
            for p in data.trend:
                cells: list[Any] = [p.label, p.responses, _partial_cell(t_, p)]
                for k in kpis:
                    cells += [value(p.values[k]), p.values[k].n,
                              *estimate_cells(p.values[k])[1:], marker(t_, p.changes.get(k))]
                rows.append(cells)
            return head, rows
        if page == "units":
            league = d.league(conn, scope, view.filters, min_n=min_n)
            head = [t_("dash.unit_code"), t_("dash.unit"), t_("home.responses")]
            for k in d.KPIS:
                head += [t_(f"kpi.{k}"), t_("dash.n_of", kpi=t_(f"kpi.{k}"))]
            for i in league.indices:
                head += [i.name(t_.locale), t_("dash.n_of", kpi=i.name(t_.locale))]
            rate = t_("kpi.response_rate")
            head += [rate, t_("dash.n_invited", kpi=rate)]
            kpis = [*d.KPIS, *(d.index_kpi(i) for i in league.indices), RESPONSE_RATE]
            names = [t_(f"kpi.{k}") for k in d.KPIS] + [i.name(t_.locale)
                                                        for i in league.indices] + [rate]
            for name in names:  # after the values and n: intervals and markers of each
                head += [t_("dash.low_of", kpi=name), t_("dash.high_of", kpi=name),
                         t_("dash.change_of", kpi=name), t_("dash.parent_of", kpi=name)]
            rows = []
            for r in league.rows:
                row: list[Any] = [r.code, (r.name_zh if zh else r.name_en)
                                  + (f" ({t_('dash.own')})" if r.own_only else ""), r.responses]
                for k in kpis:  # no response rate where the slice rules it out: empty cells
                    est = r.values.get(k)
                    row += [None, None] if est is None else [value(est), est.n]
                for k in kpis:
                    got = r.values.get(k)
                    row += ([None, None] if got is None else estimate_cells(got)[1:]) + [
                        marker(t_, r.changes.get(k)), marker(t_, r.vs_parent.get(k), "parent")]
                rows.append(row)
            return head, rows
        if page == "journey":
            all_journeys = jv.journeys(conn)
            chosen = next((j[0] for j in all_journeys if j[1] == view.journey_code), None)
            journey = jv.journey_view(conn, scope, view.filters, chosen, min_n=min_n)
            head = [t_("dash.step"), t_("dash.respondents"), t_("dash.answers"),
                    t_("dash.step_score"), t_("dash.low"), t_("dash.high"),
                    t_("dash.sentiment"), t_("dash.comments"), t_("dash.marks")]
            rows = []
            for s in journey.steps if journey else []:
                marks = [t_(f"dash.mark_{m}") for m in ("best", "worst", "end", "drags_most")
                         if getattr(s, m)]
                rows.append(["  " * s.depth + (s.name_zh if zh else s.name_en), s.respondents,
                             s.answers, *estimate_cells(s.score), None if s.sentiment is None
                             else round(s.sentiment, 3), s.comments, ", ".join(marks)])
            for k, name in (("nps", "kpi.nps"), ("csat_top2", "dash.overall_satisfaction")):
                est = journey.overall_items.get(k) if journey else None
                if est is not None:  # the overall items, apart from the steps
                    rows.append([f"{t_('dash.overall_item')}: {t_(name)}", est.n, est.n,
                                 *estimate_cells(est), None, None, ""])
            return head, rows
    raise InvalidInput("dashboard_pages.no_table", page=page, where="page")


@router.get("/dashboard/{page}/export.{fmt}")
def export_table(page: str, fmt: str, request: Request, ctx: ContextDep,
                 actor: PageActor) -> Response:
    actor.require(Permission.EXPORT)
    check_export_format(fmt)
    head, rows = table_rows(request, ctx, actor, page)
    return table_download(request, actor, head, rows, f"dashboard-{page}", fmt)


def check_export_format(fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("dashboard_pages.not_export_format_csv", fmt=fmt, where="format")


def table_download(request: Request, actor: Actor, head: Sequence[str],
                   rows: Sequence[Sequence[Any]], name: str, fmt: str) -> Response:
    """A dashboard table as a CSV (UTF-8 with BOM, for Excel) or .xlsx attachment; each export
    is in the audit log (the table, the filters of the page, the number of rows)."""
    table = request.url.path.removeprefix("/dashboard/").rpartition("/export.")[0]
    do_audit_export(get_context(request), actor, Export(
        "dashboard", fmt, rows=len(rows), filters=request.query_params, entity_id=table),
        request_origin(request))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(csv_row(head))
        writer.writerows(csv_row("" if v is None else v for v in row) for row in rows)
        return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(_xlsx(head, rows), media_type="application/vnd.openxmlformats-officedocument"
                    ".spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def _xlsx(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    append_row(sheet, head)
    for row in rows:
        append_row(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- targets --------------------------------------------------------------------------------

def _target_units(conn: Connection, actor: Actor) -> list[tuple[int, str, str, str]]:
    ids = sorted(actor.scope.visibility(Permission.MANAGE_SURVEYS).unit_ids)
    if not ids:
        return []
    u = t.org_unit
    return [(r.id, r.code, r.name_zh, r.name_en) for r in conn.execute(
        sa.select(u.c.id, u.c.code, u.c.name_zh, u.c.name_en).where(u.c.id.in_(ids))
        .order_by(u.c.id))]


@router.get("/dashboard/targets", response_class=HTMLResponse)
def targets_page(request: Request, ctx: ContextDep, actor: PageActor,
                 saved: int | None = None) -> HTMLResponse:
    return _targets_form(request, ctx, actor, saved=saved)


def _targets_form(request: Request, ctx: Any, actor: Actor, *, saved: int | None = None,
                  errors: Sequence[str] = (), status_code: int = 200,
                  values: dict[str, str] | None = None) -> HTMLResponse:
    """The targets page; with `errors` (a form or file that was not saved), their status and the
    form's `values` as sent."""
    actor.require(Permission.MANAGE_SURVEYS)
    with ctx.db.read() as conn:
        units = _target_units(conn, actor)
        k, u = t.kpi_target, t.org_unit
        rows = conn.execute(
            sa.select(k.c.kpi, k.c.period_start, k.c.period_end, k.c.target, u.c.code,
                      u.c.name_zh, u.c.name_en)
            .join(u, u.c.id == k.c.unit_id)
            .where(k.c.unit_id.in_([x[0] for x in units]))
            .order_by(u.c.code, k.c.kpi, k.c.period_start)).all() if units else []
        kpis = target_choices(conn, translator(request))
    return render(request, "dashboard_targets.html", actor=actor, units=units, rows=rows,
                  kpis=kpis, kpi_names=dict(kpis), saved=saved, errors=errors,
                  status_code=status_code, values=values or {})


def target_choices(conn: Connection, tr: Translator) -> list[tuple[str, str]]:
    names = {d.INDEX_KPI + x.code: x.name(tr.locale) for x in index_store.load(conn)}
    return [(k, names.get(k) or tr(f"kpi.{k}")) for k in targets.target_kpis(conn)]


@router.post("/dashboard/targets")
def targets_save(request: Request, ctx: ContextDep, actor: PageActor,
                 kpi: Annotated[str, Form()], unit: Annotated[str, Form()],
                 period_start: Annotated[str, Form()], period_end: Annotated[str, Form()],
                 target: Annotated[str, Form()]) -> Response:
    try:
        targets.do_save_targets(ctx, actor, [targets.TargetInput(
            kpi, unit, period_start, period_end, target)])
    except targets.RowErrors as exc:
        return _targets_form(request, ctx, actor, errors=exc.lines(translator(request).locale),
                             status_code=exc.status,
                             values={"kpi": kpi, "unit": unit, "period_start": period_start,
                                     "period_end": period_end, "target": target})
    return RedirectResponse("/dashboard/targets?saved=1", status_code=303)


def read_csv_upload(file: UploadFile) -> csv.DictReader[str]:
    """An uploaded CSV (UTF-8, with or without BOM; else GB 18030) as rows by header."""
    raw = file.file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    return csv.DictReader(io.StringIO(text))


@router.post("/dashboard/targets/import")
def targets_import(request: Request, ctx: ContextDep, actor: PageActor,
                   file: Annotated[UploadFile, File()]) -> Response:
    """CSV with a header: kpi, unit, period_start, period_end, target. All rows or none."""
    actor.require(Permission.MANAGE_SURVEYS)
    reader = read_csv_upload(file)
    needed = {"kpi", "unit", "period_start", "period_end", "target"}
    missing = needed - {(name or "").strip() for name in reader.fieldnames or []}
    if missing:
        return _targets_form(request, ctx, actor, status_code=422,
                             errors=[f"line 1: missing columns {', '.join(sorted(missing))}"])
    rows = [{(k or "").strip(): v or "" for k, v in row.items() if isinstance(v, str)}
            for row in reader]
    try:
        count = targets.do_save_targets(ctx, actor, [targets.TargetInput(
            r["kpi"], r["unit"], r["period_start"], r["period_end"], r["target"])
            for r in rows], numbered=True)
    except targets.RowErrors as exc:
        return _targets_form(request, ctx, actor, errors=exc.lines(translator(request).locale),
                             status_code=422)
    return RedirectResponse(f"/dashboard/targets?saved={count}", status_code=303)
