"""The VOC review's figures for a period and unit (unit scope applied here): dissatisfied
feedback by aspect and by case root cause ranked by KPI points lost (NPS, CSAT or a rated
item's mean; tiyan.domain.voc), representative quotes,
new and rising themes against the previous period, case volumes, SLA compliance, recovery.

The previous period is the calendar period before (whole months: the same number of months
before, so November's is October; otherwise the same number of days before), in the review's
time zone. A KPI over fewer scored responses than the minimum n (the period's, the previous
period's, a theme's) is not shown: None, with its n."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.domain.access import Actor, Permission
from tiyan.domain.callbacks import RecoveryRate, recovery_rate
from tiyan.domain.root_causes import RootCauseTree
from tiyan.domain.voc import SlaCompliance, Trend, VocKpi, parse_kpi, theme_impacts, trend
from tiyan.errors import InvalidInput, NotFound
from tiyan.store import tables as t
from tiyan.store.scoped import parent_map

PERMISSION = Permission.VIEW_RESPONSES
QUOTES = 3
MAX_DAYS = 366


@dataclass(frozen=True)
class Theme:
    code: str
    name_zh: str
    name_en: str
    mentions: int  # negative mentions (scored or not)
    responses: int  # scored responses in the theme
    share: float
    kpi_with: float | None
    points_lost: float
    trend: Trend
    before: int  # mentions in the previous period
    quotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class VocReview:
    start: dt.datetime
    end: dt.datetime
    unit_code: str | None
    responses: int  # with a score for the KPI
    score: float | None  # the KPI over the period (None under the minimum n)
    score_before: float | None  # ... and over the previous calendar period
    aspects: list[Theme]
    causes: list[Theme]
    cases_opened: int
    cases_by_status: dict[str, int]
    sla: SlaCompliance
    recovery: RecoveryRate
    feedback: int = 0  # responses with a negative aspect
    new_themes: list[str] = field(default_factory=list)
    kpi: VocKpi = field(default_factory=lambda: parse_kpi("nps"))
    timezone: str = "Asia/Shanghai"  # the days of the period are days there
    responses_before: int = 0  # with a score, in the previous period
    before: tuple[dt.datetime, dt.datetime] | None = None  # the previous period
    min_n: int = 0

    def before_days(self) -> tuple[dt.date, dt.date] | None:
        """The previous period's first and last day in the review's time zone."""
        if self.before is None:
            return None
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.timezone)
        return (self.before[0].astimezone(zone).date(),
                (self.before[1].astimezone(zone) - dt.timedelta(microseconds=1)).date())


def previous_period(start: dt.datetime, end: dt.datetime, tz: str
                    ) -> tuple[dt.datetime, dt.datetime]:
    """The calendar period before [start, end) in `tz`: as many whole months before when the
    period is whole months there, else as many days before (local midnights)."""
    from zoneinfo import ZoneInfo

    from tiyan.analytics.cube import Filters

    zone = ZoneInfo(tz)
    first = start.astimezone(zone).date()
    last = (end.astimezone(zone) - dt.timedelta(microseconds=1)).date()
    before = Filters(first, last).previous()

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)

    return midnight(before.date_from), midnight(before.date_to + dt.timedelta(days=1))


def check_period(start: dt.datetime, end: dt.datetime) -> None:
    if end <= start:
        raise InvalidInput("common.period_ends_before_starts", where="end")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise InvalidInput("voc.review_covers_most_days", max_days=MAX_DAYS, where="end")


def review(conn: Connection, actor: Actor, *, start: dt.datetime, end: dt.datetime,
           unit_id: int | None, causes: RootCauseTree, now: dt.datetime,
           kpi: VocKpi | None = None, timezone: str = "Asia/Shanghai",
           min_n: int = 0) -> VocReview:
    check_period(start, end)
    kpi = kpi or parse_kpi("nps")
    units = _units(conn, actor, unit_id)
    before_start, before_end = previous_period(start, end, timezone)
    scores = _scores(conn, units, start, end, kpi.item)
    scores_before = _scores(conn, units, before_start, before_end, kpi.item)
    mentions = _negative_mentions(conn, units, start, end)
    counts_before = Counter(code for code, _, _ in
                            _negative_mentions(conn, units, before_start, before_end))
    aspects = _aspect_themes(scores, len(scores_before), mentions, counts_before, kpi, min_n)
    cases = _cases(conn, units, start, end)
    cases_before = _cases(conn, units, before_start, before_end)
    code_row = conn.execute(sa.select(t.org_unit.c.code).where(t.org_unit.c.id == unit_id)
                            ).scalar_one() if unit_id else None
    return VocReview(
        start=start, end=end, unit_code=code_row, responses=len(scores),
        score=_at_least(kpi.value(scores.values()), len(scores), min_n),
        score_before=_at_least(kpi.value(scores_before.values()), len(scores_before), min_n),
        aspects=aspects,
        causes=_cause_themes(scores, len(scores_before), cases, cases_before, causes, kpi,
                             min_n),
        cases_opened=len(cases), cases_by_status=dict(Counter(c.status for c in cases)),
        sla=_sla(conn, [c.id for c in cases], now), recovery=_recovery(conn, units, start, end),
        feedback=len({r for _, r, _ in mentions}),
        new_themes=[a.code for a in aspects if a.trend is Trend.NEW], kpi=kpi, timezone=timezone,
        responses_before=len(scores_before), before=(before_start, before_end), min_n=min_n)


def _at_least(value: float | None, n: int, min_n: int) -> float | None:
    """The KPI where it rests on at least the minimum n scored responses, else None."""
    return value if n >= max(min_n, 1) else None


def _units(conn: Connection, actor: Actor, unit_id: int | None) -> list[int]:
    reach = actor.scope.visibility(PERMISSION).unit_ids
    if unit_id is None:
        return sorted(reach)
    if unit_id not in reach:
        raise NotFound("voc.unit_does_not_exist", where="unit")
    from tiyan.domain.access import subtree

    return sorted(subtree(parent_map(conn), unit_id) & reach)


def _period(start: dt.datetime, end: dt.datetime) -> list[sa.ColumnElement[bool]]:
    """The counted responses (not flagged) submitted in the period."""
    return [t.response.c.submitted_at >= start, t.response.c.submitted_at < end,
            t.response.c.status == "complete"]


def _scores(conn: Connection, units: list[int], start: dt.datetime,
            end: dt.datetime, item: str) -> dict[int, float]:
    query = (sa.select(t.answer.c.response_id, t.answer.c.value_num)
             .join(t.response, t.response.c.id == t.answer.c.response_id)
             .where(t.answer.c.item_code == item, t.answer.c.value_num.is_not(None),
                    t.response.c.unit_id.in_(units), *_period(start, end)))
    return {int(r): float(v) for r, v in conn.execute(query)}


def _negative_mentions(conn: Connection, units: list[int], start: dt.datetime,
                       end: dt.datetime) -> list[tuple[str, int, str]]:
    query = (sa.select(t.text_aspect.c.aspect_code, t.text_aspect.c.response_id,
                       t.text_analysis.c.redacted_text)
             .join(t.text_analysis, t.text_analysis.c.id == t.text_aspect.c.analysis_id)
             .join(t.response, t.response.c.id == t.text_aspect.c.response_id)
             .where(t.text_aspect.c.label == "negative", t.response.c.unit_id.in_(units),
                    *_period(start, end))
             .order_by(t.text_aspect.c.id))
    return [(str(a), int(r), str(e)) for a, r, e in conn.execute(query)]


def _aspect_themes(scores: dict[int, float], before_total: int,
                   mentions: list[tuple[str, int, str]], before: Counter[str],
                   kpi: VocKpi, min_n: int) -> list[Theme]:
    groups: dict[str, set[int]] = {}
    evidence: dict[str, list[tuple[float, int, str]]] = {}
    for code, response_id, text in mentions:
        groups.setdefault(code, set()).add(response_id)
        evidence.setdefault(code, []).append((scores.get(response_id, 11.0), response_id, text))
    impacts = {i.code: i for i in theme_impacts(scores, groups, kpi.value)}
    names = aspect_names()
    themes = []
    for code, ids in groups.items():
        impact = impacts.get(code)
        zh, en = names.get(code, (code, code))
        themes.append(Theme(
            code=code, name_zh=zh, name_en=en, mentions=len(ids),
            responses=impact.responses if impact else 0, share=impact.share if impact else 0.0,
            kpi_with=_at_least(impact.kpi_with, impact.responses, min_n) if impact else None,
            points_lost=impact.points_lost if impact else 0.0,
            trend=trend(len(ids), len(scores), before.get(code, 0), before_total),
            before=before.get(code, 0), quotes=_quotes(evidence[code])))
    return sorted(themes, key=lambda x: (-x.points_lost, -x.mentions, x.code))


def _quotes(found: list[tuple[float, int, str]]) -> tuple[str, ...]:
    """The clearest complaints (whole comments, personal data redacted): lowest scores first,
    no repeats."""
    seen: set[str] = set()
    out: list[str] = []
    for _, _, text in sorted(found, key=lambda x: (x[0], x[1])):
        text = text.strip()
        if text and text not in seen:
            seen.add(text)
            out.append(text[:300])
        if len(out) == QUOTES:
            break
    return tuple(out)


@dataclass(frozen=True)
class _Case:
    id: int
    response_id: int | None
    status: str
    root_cause: str | None


def _cases(conn: Connection, units: list[int], start: dt.datetime,
           end: dt.datetime) -> list[_Case]:
    query = (sa.select(t.cx_case.c.id, t.cx_case.c.response_id, t.cx_case.c.status,
                       t.cx_case.c.root_cause)
             .where(t.cx_case.c.unit_id.in_(units), t.cx_case.c.created_at >= start,
                    t.cx_case.c.created_at < end))
    return [_Case(*row) for row in conn.execute(query)]


def _cause_themes(scores: dict[int, float], before_total: int, cases: list[_Case],
                  before: list[_Case], tree: RootCauseTree, kpi: VocKpi,
                  min_n: int) -> list[Theme]:
    def group(of: list[_Case]) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for c in of:
            if c.root_cause:
                out.setdefault(c.root_cause, set()).add(c.response_id or -c.id)
        return out

    now, then = group(cases), group(before)
    impacts = {i.code: i for i in theme_impacts(scores, now, kpi.value)}
    themes = []
    for code, ids in now.items():
        impact = impacts.get(code)
        zh, en = _cause_names(tree, code)
        themes.append(Theme(
            code=code, name_zh=zh, name_en=en, mentions=len(ids),
            responses=impact.responses if impact else 0, share=impact.share if impact else 0.0,
            kpi_with=_at_least(impact.kpi_with, impact.responses, min_n) if impact else None,
            points_lost=impact.points_lost if impact else 0.0,
            trend=trend(len(ids), len(scores), len(then.get(code, ())), before_total),
            before=len(then.get(code, ()))))
    return sorted(themes, key=lambda x: (-x.points_lost, -x.mentions, x.code))


def _cause_names(tree: RootCauseTree, code: str) -> tuple[str, str]:
    try:
        node, top = tree.get(code), tree.top(code)
    except InvalidInput:
        return code, code
    prefix_zh = f"{top.name('zh-CN')} / " if top.code != node.code else ""
    prefix_en = f"{top.name('en')} / " if top.code != node.code else ""
    return prefix_zh + node.name("zh-CN"), prefix_en + node.name("en")


def _sla(conn: Connection, case_ids: list[int], now: dt.datetime) -> SlaCompliance:
    if not case_ids:
        return SlaCompliance(0, 0)
    rows = conn.execute(sa.select(t.case_timer.c.due_at, t.case_timer.c.met_at)
                        .where(t.case_timer.c.case_id.in_(case_ids))).all()
    due = [(d, m) for d, m in rows if m is not None or d <= now]
    return SlaCompliance(len(due), sum(1 for d, m in due if m is not None and m <= d))


def _recovery(conn: Connection, units: list[int], start: dt.datetime,
              end: dt.datetime) -> RecoveryRate:
    last = (sa.select(t.callback_call.c.task_id, sa.func.max(t.callback_call.c.id).label("cid"))
            .where(t.callback_call.c.outcome == "reached").group_by(t.callback_call.c.task_id)
            .subquery())
    query = (sa.select(t.callback_call.c.recovered).select_from(t.callback_task)
             .outerjoin(last, last.c.task_id == t.callback_task.c.id)
             .outerjoin(t.callback_call, t.callback_call.c.id == last.c.cid)
             .where(t.callback_task.c.unit_id.in_(units),
                    t.callback_task.c.created_at >= start, t.callback_task.c.created_at < end))
    return recovery_rate(conn.execute(query).scalars())


@functools.cache
def aspect_names() -> dict[str, tuple[str, str]]:
    """Aspect code → (Chinese, English) name, over every built-in taxonomy."""
    from tiyan.text.taxonomy import load_taxonomy_file

    names: dict[str, tuple[str, str]] = {}
    folder = Path(__file__).parent.parent / "text" / "taxonomies"
    for path in sorted(folder.glob("*.yaml")):
        for aspect in load_taxonomy_file(path).aspects:
            names.setdefault(aspect.code, (aspect.name_zh, aspect.name_en))
    return names


def as_rows(themes: list[Theme], locale: str) -> list[dict[str, Any]]:
    """Themes as plain rows for exports (localised name)."""
    return [{"code": x.code, "name": x.name_zh if locale == "zh-CN" else x.name_en,
             "mentions": x.mentions, "share": x.share, "kpi_with": x.kpi_with,
             "points_lost": x.points_lost, "trend": x.trend.value, "before": x.before,
             "quotes": list(x.quotes)} for x in themes]


def rated_items(conn: Connection, actor: Actor, *, start: dt.datetime, end: dt.datetime,
                unit_id: int | None) -> list[str]:
    """Item codes with numeric answers in the period and units (the KPIs one may rank by)."""
    units = _units(conn, actor, unit_id)
    query = (sa.select(t.answer.c.item_code).distinct()
             .join(t.response, t.response.c.id == t.answer.c.response_id)
             .where(t.answer.c.value_num.is_not(None), t.response.c.unit_id.in_(units),
                    *_period(start, end)).order_by(t.answer.c.item_code))
    return [str(code) for code in conn.execute(query).scalars()]
