"""The data behind the text insights page (no web imports): what comments talk about and how.

Counts come from the text aggregates (`text_agg`, analytics/text_cube) for the user's scope and
the filters (date range, unit subtree, touchpoint with its sub-touchpoints, channel); frontline
users (only their own responses) and a database whose aggregate is still stale after an upgrade
are served from the text-analysis results themselves (`text_analysis`, one row per analysed
comment, and `text_aspect`, one row per aspect found in it) joined to their responses:

- a heat map: mentions per aspect × sentiment label (negative, neutral, positive);
- trending aspects: the share of analysed comments mentioning each aspect in this period and the
  previous one of the same length, with the change marked only when a two-proportion test finds
  it significant (and shares under the minimum n shown as "too few");
- the most negative quotes of the period (the evidence clause, from the redacted copy of the
  comment) with the response they came from.

A comment's touchpoint is its question's own touchpoint where the survey sets one, else the
response's (as on the journey page).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, raw_where, touchpoint_family, utc_bounds
from tiyan.analytics.dashboard import Scope
from tiyan.analytics.text_cube import from_aggregates, text_sums
from tiyan.domain.metrics import Estimate, proportion
from tiyan.domain.statistics import Change, compare
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE
from tiyan.store.text_aggregates import COMMENTS

LABELS = ("negative", "neutral", "positive")
QUOTES = 10


@dataclass(frozen=True)
class AspectRow:
    code: str
    name_zh: str
    name_en: str
    mentions: dict[str, int]  # per sentiment label, this period
    total: int
    previous_total: int
    share: Estimate  # % of analysed comments mentioning the aspect
    previous_share: Estimate
    change: Change  # share now against the previous period
    negative_share: Estimate  # % of its mentions that are negative
    mean_score: float | None  # mean aspect sentiment score


@dataclass(frozen=True)
class Quote:
    response_id: str  # public id
    aspect: str
    aspect_zh: str
    aspect_en: str
    score: float
    evidence: str
    text: str  # the whole comment, redacted
    submitted_at: dt.datetime | None
    unit_code: str
    question_key: str = ""  # the free-text question the comment answered


@dataclass(frozen=True)
class TextInsights:
    comments: int  # analysed comments this period
    previous_comments: int
    negative_comments: int
    aspects: list[AspectRow]  # most mentioned first
    quotes: list[Quote]


@functools.cache
def aspect_names() -> dict[str, tuple[str, str]]:
    """Aspect code -> (Chinese, English) name, over every shipped taxonomy."""
    from tiyan.text.taxonomy import INDUSTRIES, load_taxonomy

    names: dict[str, tuple[str, str]] = {}
    for industry in INDUSTRIES:
        for aspect in load_taxonomy(industry).aspects:
            names.setdefault(aspect.code, (aspect.name_zh, aspect.name_en))
    return names


def _name(code: str) -> tuple[str, str]:
    return aspect_names().get(code, (code, code))


def _where(conn: Connection, scope: Scope, filters: Filters,
           ta: sa.Table) -> list[sa.ColumnElement[bool]]:
    """Scope and filters on `response` (and, for a touchpoint, on the comment's question)."""
    clauses = [raw_where(scope.vis, scope.parent_of, filters, BUSINESS_TIMEZONE)]
    if filters.touchpoint_id is not None:
        r, q = t.response, t.score_agg_question
        family = touchpoint_family(conn, filters.touchpoint_id)
        own = (sa.select(q.c.touchpoint_id)
               .where(q.c.survey_version_id == r.c.survey_version_id,
                      q.c.question_key == ta.c.question_key)
               .scalar_subquery())
        clauses.append(sa.func.coalesce(own, r.c.touchpoint_id).in_(family))
    return clauses


def text_insights(conn: Connection, scope: Scope, filters: Filters, *,
                  min_n: int, quotes: int = QUOTES) -> TextInsights:
    if from_aggregates(conn, scope.vis, filters):
        comments, negative, counts = _counts_from_aggregates(conn, scope, filters)
    else:
        comments, negative, counts = _counts_from_analyses(conn, scope, filters)
    aspects = _aspect_rows(counts, comments, min_n)
    return TextInsights(comments[1], comments[0], negative, aspects,
                        _quotes(conn, scope, filters, quotes))


Counted = tuple[dict[int, int], int, dict[tuple[int, str, str], tuple[int, float]]]


def _counts_from_aggregates(conn: Connection, scope: Scope, filters: Filters) -> Counted:
    """Analysed comments (period 1 = this one, 0 = the previous one), negative comments this
    period and (n, Σscore) per (period, aspect, label), from the text aggregates."""
    comments = {0: 0, 1: 0}
    negative = 0
    counts: dict[tuple[int, str, str], tuple[int, float]] = {}
    for period, shown in ((1, filters), (0, filters.previous())):
        for (code, label), value in text_sums(conn, scope.vis, scope.parent_of, shown,
                                              ["aspect_code", "label"], comments=None).items():
            if code != COMMENTS:
                counts[(period, str(code), str(label))] = value
                continue
            comments[period] += value[0]
            if period == 1 and label == "negative":
                negative = value[0]
    return comments, negative, counts


def _counts_from_analyses(conn: Connection, scope: Scope, filters: Filters) -> Counted:
    """The same counts read from the analyses joined to their responses (frontline users, a
    stale aggregate, and the reference the tests compare the aggregates with)."""
    before = filters.previous()
    span = filters.between(before.date_from, filters.date_to)
    now_low, _ = utc_bounds(filters.date_from, filters.date_to, BUSINESS_TIMEZONE)
    r, ta, x = t.response, t.text_analysis, t.text_aspect
    current = sa.case((r.c.submitted_at >= now_low, 1), else_=0).label("now")
    where = _where(conn, scope, span, ta)

    comments = {0: 0, 1: 0}
    negative = 0
    for row in conn.execute(
            sa.select(current, sa.func.count(),
                      sa.func.sum(sa.case((ta.c.sentiment_label == "negative", 1), else_=0)))
            .select_from(ta.join(r, r.c.id == ta.c.response_id))
            .where(*where).group_by(current)):
        comments[int(row[0])] = int(row[1])
        if int(row[0]) == 1:
            negative = int(row[2] or 0)

    counts: dict[tuple[int, str, str], tuple[int, float]] = {}
    for row in conn.execute(
            sa.select(current, x.c.aspect_code, x.c.label, sa.func.count(),
                      sa.func.sum(x.c.score))
            .select_from(x.join(ta, ta.c.id == x.c.analysis_id)
                         .join(r, r.c.id == x.c.response_id))
            .where(*where).group_by(current, x.c.aspect_code, x.c.label)):
        counts[(int(row[0]), str(row[1]), str(row[2]))] = (int(row[3]), float(row[4] or 0.0))
    return comments, negative, counts


def _aspect_rows(counts: Mapping[tuple[int, str, str], tuple[int, float]],
                 comments: Mapping[int, int], min_n: int) -> list[AspectRow]:
    codes = sorted({code for _, code, _ in counts})
    rows = []
    for code in codes:
        mentions = {label: counts.get((1, code, label), (0, 0.0))[0] for label in LABELS}
        for (period, c, label), (n, _) in counts.items():
            if period == 1 and c == code and label not in LABELS:
                mentions[label] = n
        total = sum(mentions.values())
        previous_total = sum(n for (period, c, _), (n, _) in counts.items()
                             if period == 0 and c == code)
        score_sum = sum(s for (period, c, _), (_, s) in counts.items()
                        if period == 1 and c == code)
        share = proportion(total, comments[1], min_n=min_n) if comments[1] else \
            proportion(0, 0, min_n=min_n)
        previous_share = proportion(previous_total, comments[0], min_n=min_n) if comments[0] \
            else proportion(0, 0, min_n=min_n)
        zh, en = _name(code)
        rows.append(AspectRow(
            code, zh, en, mentions, total, previous_total, share, previous_share,
            compare(share, previous_share), proportion(mentions["negative"], total, min_n=min_n),
            score_sum / total if total else None))
    rows.sort(key=lambda a: (-a.total, -a.previous_total, a.code))
    return rows


def _quotes(conn: Connection, scope: Scope, filters: Filters, limit: int) -> list[Quote]:
    """The most negative aspect mentions of the period, the latest analysed first on ties (read
    in that order from the index on text_aspect (label, score, id DESC), stopping after the
    first matches); one per comment and one per wording (a clause many customers wrote alike is
    quoted once)."""
    r, ta, x, u = t.response, t.text_analysis, t.text_aspect, t.org_unit
    query = (sa.select(r.c.public_id, x.c.analysis_id, x.c.aspect_code, x.c.score,
                       x.c.evidence, ta.c.redacted_text, r.c.submitted_at, u.c.code,
                       ta.c.question_key)
             .select_from(x.join(ta, ta.c.id == x.c.analysis_id)
                          .join(r, r.c.id == x.c.response_id)
                          .join(u, u.c.id == r.c.unit_id))
             .where(*_where(conn, scope, filters, ta), x.c.label == "negative")
             .order_by(x.c.score, x.c.id.desc())
             .limit(limit * 20))
    out: list[Quote] = []
    seen: set[int] = set()
    worded: set[str] = set()
    for row in conn.execute(query):
        wording = " ".join(str(row.evidence).split())
        if row.analysis_id in seen or wording in worded:
            continue
        seen.add(row.analysis_id)
        worded.add(wording)
        zh, en = _name(row.aspect_code)
        out.append(Quote(row.public_id, row.aspect_code, zh, en, float(row.score),
                         row.evidence, row.redacted_text, row.submitted_at, row.code,
                         row.question_key))
        if len(out) == limit:
            break
    return out
