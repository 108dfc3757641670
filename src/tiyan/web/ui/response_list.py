"""The responses list (zh-CN/en) and its exports, under the dashboards' filters.

The filters live in the URL, so a list can be shared: the dashboards' own (from, to, unit with
its subtree, touchpoint, channel, segment, staff, answer, aspect and aspect_label, attr; parsed
by dashboard_pages.parse_view, dates as the dashboards count them) and the list's (survey,
score: an NPS or CSAT group, sentiment of a comment, words in a comment, whether there is a
comment). Like the dashboards it lists the counted responses (not those flagged as ballot
stuffing, which have their own page). Every row opens the response; times are in the viewer's
time zone.

The exports take exactly the list's filters and the viewer's scope, and are audited:
`/responses.csv` and `/responses.xlsx` one row per response with the questions as columns
(analytics/response_table), `/responses-answers.csv` one row per answer (the API's long format)
and `/responses.parquet` the same long format as Parquet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.engine import Connection, RowMapping

from tiyan.analytics import dashboard as d
from tiyan.analytics import response_table as wide
from tiyan.analytics.cube import touchpoint_family, utc_bounds
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import InvalidInput
from tiyan.services.text_corrections import aspect_names
from tiyan.store import responses, text_analysis
from tiyan.store import surveys as survey_store
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE
from tiyan.store.response_slices import SCORE_GROUPS, SENTIMENTS
from tiyan.store.scoped import parent_map
from tiyan.text.taxonomy import INDUSTRIES
from tiyan.web.api.cursor import decode_time_cursor, encode_cursor
from tiyan.web.api.exports import audit_responses_export, long_csv_lines
from tiyan.web.api.response_parquet import parquet_chunks
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.downloads import XLSX
from tiyan.web.request_origin import request_origin
from tiyan.web.ui.dashboard_pages import View, filter_choices, parse_view
from tiyan.web.ui.render import render
from tiyan.web.ui.times import viewer_timezone

router = APIRouter(include_in_schema=False)
PAGE = 50
LIST_PARAMS = ("survey", "score", "sentiment", "q", "comment")


@dataclass(frozen=True)
class Search:
    """The list's filters: the dashboards' view, the list's own parameters, and both as the
    ResponseFilter the store reads."""

    view: View
    extra: dict[str, str]
    filter: responses.ResponseFilter

    @property
    def query(self) -> dict[str, str]:
        """The non-empty parameters (what a shared link and the audit log carry)."""
        return {k: v for k, v in {**self.view.query, **self.extra}.items() if v}

    def url(self, path: str, **changes: str) -> str:
        query = {k: v for k, v in {**self.query, **changes}.items() if v}
        return path + ("?" + urlencode(query) if query else "")


def parse_search(request: Request, conn: Connection, actor: Actor) -> Search:
    actor.require(Permission.VIEW_RESPONSES)
    scope = d.Scope(actor.scope.visibility(Permission.VIEW_RESPONSES), parent_map(conn))
    view = parse_view(request, conn, scope)
    params, f = request.query_params, view.filters
    extra = {name: (params.get(name) or "").strip() for name in LIST_PARAMS}
    since, until = utc_bounds(f.date_from, f.date_to, BUSINESS_TIMEZONE)
    return Search(view, extra, responses.ResponseFilter(
        survey_id=_survey_id(conn, extra["survey"]), unit_id=f.unit_id,
        touchpoint_ids=(tuple(touchpoint_family(conn, f.touchpoint_id))
                        if f.touchpoint_id is not None else None),
        channel=f.channel, since=since, until=until, segment=f.segment, staff_id=f.staff_id,
        answer=f.answer, aspect=f.aspect, aspect_label=f.aspect_label, attr=f.attr,
        score_group=_one_of(extra["score"], tuple(SCORE_GROUPS), "score"),
        sentiment=_one_of(extra["sentiment"], SENTIMENTS, "sentiment"),
        words=_words(extra["q"]), has_comment=_yes_no(extra["comment"]), status="complete"))


def _survey_id(conn: Connection, code: str) -> int | None:
    if not code:
        return None
    found = conn.execute(sa.select(t.survey.c.id).where(t.survey.c.code == code[:64])).scalar()
    if found is None:
        raise InvalidInput("common.no_survey", code=code[:64], where="survey")
    return int(found)


def _one_of(value: str, allowed: tuple[str, ...], where: str) -> str | None:
    if value and value not in allowed:
        raise InvalidInput("response_filters.not", value=value[:40], v_where=where,
                           allowed=", ".join(allowed),
                           where=where)
    return value or None


def _words(value: str) -> str | None:
    if len(value) > 100:
        raise InvalidInput("response_list.words_find_may_most", where="q")
    return value or None


def _yes_no(value: str) -> bool | None:
    if value not in ("", "yes", "no"):
        raise InvalidInput("response_list.not_yes_no", value=value[:40], where="comment")
    return None if not value else value == "yes"


@router.get("/responses", response_class=HTMLResponse)
def response_list(request: Request, ctx: ContextDep, actor: PageActor,
                  after: Annotated[str | None, Query(max_length=100)] = None) -> HTMLResponse:
    locale = translator(request).locale
    with ctx.db.read() as conn:
        search = parse_search(request, conn, actor)
        rows = responses.list_responses(conn, actor, search.filter,
                                        after=decode_time_cursor(after), limit=PAGE)
        ids = [r["id"] for r in rows]
        answers = responses.answers_for(conn, actor, ids)
        analyses = text_analysis.analyses_for(conn, ids)
        more = (encode_cursor(rows[-1]["id"], rows[-1]["submitted_at"])
                if len(rows) == PAGE else None)
        values: dict[str, Any] = {
            "rows": [_shown(r, answers[r["id"]], analyses[r["id"]], locale) for r in rows],
            "more_url": search.url("/responses", after=more) if more else None}
        if request.headers.get("hx-request"):
            return render(request, "_response_rows.html", actor=actor, **values)
        scope = d.Scope(actor.scope.visibility(Permission.VIEW_RESPONSES), parent_map(conn))
        values.update(filter_choices(conn, scope), total=responses.count_responses(
            conn, actor, search.filter), surveys=survey_store.list_surveys(conn, actor))
    return render(request, "responses.html", actor=actor, search=search, view=search.view,
                  can_export=actor.can(Permission.EXPORT), score_groups=tuple(SCORE_GROUPS),
                  sentiments=SENTIMENTS, list_filters="_response_filters.html", **values)


def _shown(row: RowMapping, answers: list[dict[str, Any]],
           analyses: list[dict[str, Any]], locale: str) -> dict[str, Any]:
    """A row of the list in words: unit and touchpoint names, the NPS and CSAT scores, the
    first comment (masked as the viewer must see it) and its sentiment."""
    zh = locale == "zh-CN"
    by_item = {a["item_code"]: a for a in reversed(answers) if a["item_code"]}
    analysed = {a["question_key"] for a in analyses}
    comment = next((a["value_text"] for a in answers
                    if a["question_key"] in analysed and a["value_text"]), None)
    if comment is None and "comment" in by_item:
        comment = by_item["comment"]["value_text"]
    return {**row, "unit_name": row["unit_name_zh"] if zh else row["unit_name_en"],
            "touchpoint_name": row["touchpoint_name_zh"] if zh else row["touchpoint_name_en"],
            "nps": _score(by_item.get("nps")), "csat": _score(by_item.get("csat")),
            "comment": comment or "",
            "sentiment": analyses[0]["sentiment_label"] if analyses else None}


def _score(answer: Mapping[str, Any] | None) -> int | None:
    if answer is None or answer["value_num"] is None:
        return None
    return int(answer["value_num"])


# --- exports --------------------------------------------------------------------------------

def _checked(request: Request, ctx: Context, actor: Actor, fmt: str, shape: str) -> Search:
    """The export's filters (a bad one fails here, before anything streams), audited."""
    actor.require(Permission.EXPORT)
    with ctx.db.read() as conn:
        search = parse_search(request, conn, actor)
    audit_responses_export(ctx, actor, search.filter, fmt, request_origin(request),
                           search.query, shape)
    return search


@router.get("/responses.csv", response_class=StreamingResponse)
def export_wide_csv(request: Request, ctx: ContextDep, actor: PageActor) -> StreamingResponse:
    search = _checked(request, ctx, actor, "csv", "wide")
    t_ = translator(request)
    zone = viewer_timezone(ctx, actor)
    return StreamingResponse(_wide_csv(ctx, actor, search, t_.locale, zone, t_),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="responses.csv"'})


def _wide_csv(ctx: Context, actor: Actor, search: Search, locale: str, zone: str,
              words: wide.Words) -> Iterator[str]:
    with ctx.db.read() as conn:
        table = _table(ctx, conn, actor, search, locale, zone, words)
        yield from wide.csv_chunks(table.head(), wide.wide_rows(conn, actor, search.filter,
                                                                 table))


@router.get("/responses.xlsx", response_class=StreamingResponse)
def export_wide_xlsx(request: Request, ctx: ContextDep, actor: PageActor) -> StreamingResponse:
    search = _checked(request, ctx, actor, "xlsx", "wide")
    t_ = translator(request)
    zone = viewer_timezone(ctx, actor)
    return StreamingResponse(_wide_xlsx(ctx, actor, search, t_.locale, zone, t_),
                             media_type=XLSX, headers={"Content-Disposition":
                                                       'attachment; filename="responses.xlsx"'})


def _wide_xlsx(ctx: Context, actor: Actor, search: Search, locale: str, zone: str,
               words: wide.Words) -> Iterator[bytes]:
    with ctx.db.read() as conn:
        table = _table(ctx, conn, actor, search, locale, zone, words)
        file = wide.xlsx_file(table.head(), wide.wide_rows(conn, actor, search.filter, table),
                              words("responses.title"))
    yield from wide.file_chunks(file)


@router.get("/responses-answers.csv", response_class=StreamingResponse)
def export_long_csv(request: Request, ctx: ContextDep, actor: PageActor) -> StreamingResponse:
    search = _checked(request, ctx, actor, "csv", "long")
    return StreamingResponse(long_csv_lines(ctx, actor, search.filter),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition":
                                      'attachment; filename="responses-long.csv"'})


@router.get("/responses.parquet", response_class=StreamingResponse)
def export_parquet(request: Request, ctx: ContextDep, actor: PageActor) -> StreamingResponse:
    search = _checked(request, ctx, actor, "parquet", "long")
    return StreamingResponse(parquet_chunks(ctx, actor, search.filter),
                             media_type="application/vnd.apache.parquet",
                             headers={"Content-Disposition":
                                      'attachment; filename="responses.parquet"'})


def _table(ctx: Context, conn: Connection, actor: Actor, search: Search, locale: str,
           zone: str, words: wide.Words) -> wide.WideTable:
    industries = text_analysis.unit_industries(conn)
    default = ctx.settings.text_industry
    names: dict[str | None, dict[str, str]] = {}

    def names_of(unit_id: int) -> Mapping[str, str]:
        own = industries.get(unit_id) or default
        industry = own if own in INDUSTRIES else None
        if industry not in names:
            names[industry] = aspect_names(industry, locale)
        return names[industry]

    return wide.wide_table(conn, actor, search.filter, locale=locale, timezone=zone,
                           words=words, aspect_names=names_of)
