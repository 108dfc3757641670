"""The journey view (no web imports): each step's share of top-box answers, counted by
respondent, with the peak, the end and the step that drags; the overall items apart.

A respondent's answers at a step are one cluster: the step's n is its respondents and its 95%
interval is the ratio estimator's cluster-robust interval (domain/metrics.respondent_share), so
several answers from one person do not narrow it. The overall items (NPS and overall
satisfaction, item codes nps and csat, when their question names no step of its own) are shown
apart and never counted under the step the response came from. Read from the responses in the
actor's scope (the aggregates do not know respondents); comments' sentiment from the text
aggregates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics import driver_cache
from tiyan.analytics.cube import Filters, raw_where
from tiyan.analytics.dashboard import Scope, descendants
from tiyan.domain.metrics import (
    ClusterSums,
    Estimate,
    nps_from_counts,
    proportion,
    respondent_share,
)
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE

# Items about the whole experience, not a step: a question with one of these item codes and no
# touchpoint of its own is shown apart (the journey's overall figures), never under the step
# the response came from (after-sales surveys are sent after the follow-up step).
OVERALL_ITEMS = ("nps", "csat")


@dataclass(frozen=True)
class Step:
    touchpoint_id: int
    code: str
    name_zh: str
    name_en: str
    depth: int
    answers: int
    score: Estimate  # share of top-box answers to the step's rating items; n = respondents
    sentiment: float | None  # mean sentiment score of the step's analysed comments
    comments: int
    negative: int
    best: bool = False
    worst: bool = False
    end: bool = False
    drags_most: bool = False
    drag: float = 0.0  # points the journey would gain if this step were at the journey mean

    @property
    def respondents(self) -> int:
        return self.score.n


@dataclass(frozen=True)
class Journey:
    journey_id: int
    code: str
    name_zh: str
    name_en: str
    overall: Estimate  # top-box share of every step answer (n = respondents)
    steps: list[Step]
    overall_items: dict[str, Estimate] = dataclasses.field(default_factory=dict)  # nps, csat_top2


def journeys(conn: Connection) -> list[tuple[int, str, str, str]]:
    j = t.journey
    return [(r.id, r.code, r.name_zh, r.name_en) for r in
            conn.execute(sa.select(j.c.id, j.c.code, j.c.name_zh, j.c.name_en).order_by(j.c.id))]


def journey_view(conn: Connection, scope: Scope, filters: Filters, journey_id: int | None, *,
                 min_n: int) -> Journey | None:
    """Each step's share of top-box answers to its rating items, counted by respondent (a
    respondent's answers at a step are one cluster: the interval is cluster-robust, n is the
    respondents), a parent step holding its sub-steps; the overall items (NPS, overall
    satisfaction) apart. Read from the responses (the aggregates do not know respondents)."""
    all_journeys = journeys(conn)
    if not all_journeys:
        return None
    chosen = next((j for j in all_journeys if j[0] == journey_id), all_journeys[0])
    tp = t.touchpoint
    rows = conn.execute(sa.select(tp.c.id, tp.c.parent_id, tp.c.code, tp.c.name_zh,
                                  tp.c.name_en, tp.c.position)
                        .where(tp.c.journey_id == chosen[0])
                        .order_by(tp.c.position, tp.c.id)).all()
    ordered = _in_journey_order(rows)
    ids = [r.id for r, _ in ordered]
    unfiltered = dataclasses.replace(filters, touchpoint_id=None)
    parent_of = {r.id: r.parent_id for r, _ in ordered}
    sums_of, overall_items = _counted(conn, scope, unfiltered, parent_of, min_n)
    sentiment = _sentiment(conn, scope, unfiltered, ids)
    children: dict[int, list[int]] = {}
    for r, _ in ordered:
        if r.parent_id is not None:
            children.setdefault(r.parent_id, []).append(r.id)
    steps = []
    for r, depth in ordered:
        senti = (0, 0.0, 0)
        for uid in descendants(r.id, children):
            got = sentiment.get(uid)
            if got:
                senti = (senti[0] + got[0], senti[1] + got[1], senti[2] + got[2])
        s = sums_of.get(r.id, ClusterSums())
        steps.append(Step(r.id, r.code, r.name_zh, r.name_en, depth, s.answers,
                          respondent_share(s, min_n=min_n),
                          senti[1] / senti[0] if senti[0] else None, senti[0], senti[2]))
    overall = sums_of.get(JOURNEY, ClusterSums())
    return Journey(chosen[0], chosen[1], chosen[2], chosen[3],
                   respondent_share(overall, min_n=min_n), mark_peak_end(steps, overall),
                   overall_items)


def _counted(conn: Connection, scope: Scope, filters: Filters,
             parent_of: Mapping[int, int | None], min_n: int
             ) -> tuple[dict[int, ClusterSums], dict[str, Estimate]]:
    """The steps' respondent sums and the overall items: the part of the view that reads the
    answers, kept per process under the scope, filters, step tree and a stamp of the data
    (analytics/driver_cache), so a repeat view reads no answer while nothing changed."""
    key = ("journey", str(conn.engine.url), scope.vis, tuple(sorted(scope.parent_of.items())),
           filters, tuple(sorted(parent_of.items(), key=lambda kv: kv[0])), min_n,
           driver_cache.stamp(conn, aspects=False, purchases=False))
    return driver_cache.cached(key, lambda: (
        _step_cluster_sums(conn, scope, filters, parent_of),
        _overall_items(conn, scope, filters, list(parent_of), min_n)))


JOURNEY = -1  # the key of the whole journey among the steps' sums


def _step_answers(scope: Scope, filters: Filters, ids: Sequence[int]
                  ) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int], sa.Select[Any]]:
    """(step, is-top-box, the FROM/WHERE) of the answers that count for the journey's steps."""
    r, a, q = t.response, t.answer, t.score_agg_question
    step = sa.func.coalesce(q.c.touchpoint_id, r.c.touchpoint_id)
    top_from = sa.func.coalesce(q.c.top_from, sa.case((a.c.item_code == "nps", 9.0), else_=4.0))
    top = sa.case((a.c.value_num >= top_from, 1), else_=0)
    source = (sa.select().select_from(
        r.join(a, a.c.response_id == r.c.id).outerjoin(q, sa.and_(
            q.c.survey_version_id == r.c.survey_version_id, q.c.question_key == a.c.question_key)))
        .where(raw_where(scope.vis, scope.parent_of, filters, BUSINESS_TIMEZONE),
               r.c.status == "complete", a.c.value_num.is_not(None), step.in_(list(ids)),
               sa.not_(sa.and_(q.c.touchpoint_id.is_(None),
                               a.c.item_code.in_(OVERALL_ITEMS)))))
    return step, top, source


def _step_cluster_sums(conn: Connection, scope: Scope, filters: Filters,
                       parent_of: Mapping[int, int | None]) -> dict[int, ClusterSums]:
    """Per step (a parent holding its sub-steps) and for the whole journey (JOURNEY): the
    respondent clusters' sums, in one statement: each respondent's answers and top-box answers
    per step (read once), then grouped again per level of the step tree."""
    ids = list(parent_of)
    if not ids:
        return {}
    chains = {i: _ancestry(i, parent_of) for i in ids}  # the step, its parent, ... its root
    step, top, source = _step_answers(scope, filters, ids)
    cells = (source.add_columns(step.label("step"), t.response.c.id.label("rid"),
                                sa.func.count().label("m"), sa.func.sum(top).label("k"))
             .group_by(t.response.c.id, step).cte("cells"))
    levels = []
    for level in range(max(len(c) for c in chains.values()) + 1):
        # level 0: the whole journey; level d: the step's ancestor d levels below the root
        nodes = {i: (JOURNEY if level == 0 else c[-level]) for i, c in chains.items()
                 if level <= len(c)}
        node = sa.case(nodes, value=cells.c.step)
        per_node = (sa.select(node.label("node"), sa.func.sum(cells.c.m).label("m"),
                              sa.func.sum(cells.c.k).label("k"))
                    .where(cells.c.step.in_(list(nodes)))
                    .group_by(cells.c.rid, node).subquery())
        m, k = per_node.c.m, per_node.c.k
        levels.append(sa.select(per_node.c.node, sa.func.count(), sa.func.sum(m), sa.func.sum(k),
                                sa.func.sum(m * m), sa.func.sum(k * k), sa.func.sum(k * m))
                      .group_by(per_node.c.node))
    out: dict[int, ClusterSums] = {}
    for row in conn.execute(sa.union_all(*levels)):
        out[int(row[0])] = ClusterSums(int(row[1]), int(row[2]), int(row[3] or 0),
                                       float(row[4]), float(row[5] or 0), float(row[6] or 0))
    return out


def _ancestry(step: int, parent_of: Mapping[int, int | None]) -> list[int]:
    """The step and its ancestors within the journey, the step first."""
    chain = [step]
    while parent_of.get(chain[-1]) in parent_of and len(chain) <= len(parent_of):
        chain.append(int(str(parent_of[chain[-1]])))
    return chain


def _overall_items(conn: Connection, scope: Scope, filters: Filters, ids: Sequence[int],
                   min_n: int) -> dict[str, Estimate]:
    """NPS and overall satisfaction (top-2-box) of the responses at the journey's steps, from
    the questions that name no step of their own (one answer per respondent each)."""
    if not ids:
        return {}
    r, a, q = t.response, t.answer, t.score_agg_question
    x = a.c.value_num
    top_from = sa.func.coalesce(q.c.top_from, sa.case((a.c.item_code == "nps", 9.0), else_=4.0))
    bottom_to = sa.func.coalesce(q.c.bottom_to,
                                 sa.case((a.c.item_code == "nps", 6.0), else_=2.0))
    query = (sa.select(a.c.item_code, sa.func.count(),
                       sa.func.sum(sa.case((x >= top_from, 1), else_=0)),
                       sa.func.sum(sa.case((x <= bottom_to, 1), else_=0)))
             .select_from(r.join(a, a.c.response_id == r.c.id).outerjoin(q, sa.and_(
                 q.c.survey_version_id == r.c.survey_version_id,
                 q.c.question_key == a.c.question_key)))
             .where(raw_where(scope.vis, scope.parent_of, filters, BUSINESS_TIMEZONE),
                    r.c.status == "complete", x.is_not(None), q.c.touchpoint_id.is_(None),
                    r.c.touchpoint_id.in_(list(ids)), a.c.item_code.in_(OVERALL_ITEMS))
             .group_by(a.c.item_code))
    out: dict[str, Estimate] = {}
    for item, n, top, bottom in conn.execute(query):
        n, top, bottom = int(n), int(top or 0), int(bottom or 0)
        if item == "nps":
            out["nps"] = nps_from_counts(top, n - top - bottom, bottom, min_n=min_n)
        else:
            out["csat_top2"] = proportion(top, n, min_n=min_n)
    return out


def mark_peak_end(steps: list[Step], overall: ClusterSums) -> list[Step]:
    """Best and worst top-level steps, the last step with data (the end), and the step whose
    shortfall against the journey's mean costs the most answers × points."""
    scored = [s for s in steps if s.depth == 0 and not s.score.too_few
              and s.score.value is not None]
    if not scored or overall.answers == 0:
        return steps
    mean = 100.0 * overall.top / overall.answers  # percent, like the step scores
    best = max(scored, key=lambda s: s.score.value or 0.0)
    worst = min(scored, key=lambda s: s.score.value or 0.0)
    end = scored[-1]
    drags = {s.touchpoint_id: (mean - (s.score.value or 0.0)) * s.answers / overall.answers
             for s in scored}
    dragger = max(drags, key=lambda k: drags[k])
    out = []
    for s in steps:
        out.append(dataclasses.replace(
            s, best=s is best, worst=s is worst, end=s is end,
            drags_most=s.touchpoint_id == dragger and drags[dragger] > 0,
            drag=round(drags.get(s.touchpoint_id, 0.0), 2)))
    return out


def _in_journey_order(rows: Sequence[sa.Row]) -> list[tuple[sa.Row, int]]:  # type: ignore[type-arg]
    by_parent: dict[int | None, list[sa.Row]] = {}  # type: ignore[type-arg]
    ids = {r.id for r in rows}
    for r in rows:
        by_parent.setdefault(r.parent_id if r.parent_id in ids else None, []).append(r)
    out: list[tuple[sa.Row, int]] = []  # type: ignore[type-arg]

    def walk(parent: int | None, depth: int) -> None:
        for r in by_parent.get(parent, []):
            out.append((r, depth))
            walk(r.id, depth + 1)

    walk(None, 0)
    return out


def _sentiment(conn: Connection, scope: Scope, filters: Filters,
               touchpoint_ids: Sequence[int]) -> dict[int, tuple[int, float, int]]:
    """(comments, sum of sentiment scores, negative comments) per touchpoint, from the text
    aggregates (frontline users and a stale aggregate: from the analysed comments)."""
    from tiyan.analytics.text_cube import from_aggregates, text_sums

    if from_aggregates(conn, scope.vis, filters):
        out: dict[int, tuple[int, float, int]] = {}
        wanted = set(touchpoint_ids)
        for (tp_id, label), (n, total) in text_sums(
                conn, scope.vis, scope.parent_of, filters, ["touchpoint_id", "label"],
                comments=True).items():
            if tp_id in wanted:
                got = out.get(int(str(tp_id)), (0, 0.0, 0))
                out[int(str(tp_id))] = (got[0] + n, got[1] + total,
                                        got[2] + (n if label == "negative" else 0))
        return out
    r, ta, q = t.response, t.text_analysis, t.score_agg_question
    where = raw_where(scope.vis, scope.parent_of, filters, BUSINESS_TIMEZONE)
    step = sa.func.coalesce(q.c.touchpoint_id, r.c.touchpoint_id)
    query = (sa.select(step, sa.func.count(), sa.func.sum(ta.c.sentiment_score),
                       sa.func.sum(sa.case((ta.c.sentiment_label == "negative", 1), else_=0)))
             .select_from(ta.join(r, r.c.id == ta.c.response_id)
                          .outerjoin(q, sa.and_(q.c.survey_version_id == r.c.survey_version_id,
                                                q.c.question_key == ta.c.question_key)))
             .where(where, step.in_(list(touchpoint_ids)))
             .group_by(step))
    return {int(row[0]): (int(row[1]), float(row[2] or 0.0), int(row[3] or 0))
            for row in conn.execute(query)}
