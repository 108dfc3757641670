"""Text aggregates: what the text pages read instead of joining analyses to their responses.

`text_agg` holds, per day and per month (business time zone) × unit × survey × touchpoint ×
channel × aspect code × sentiment label, the number of rows and the sum of their scores:

- aspect code = an aspect: its mentions with that label and the sum of their aspect scores;
- aspect code '' (`COMMENTS`): analysed comments whose document sentiment has that label, and
  the sum of their document scores (so comments, negative comments and the mean sentiment of a
  step all follow by summing rows).

`unit_text_agg` holds the same rows added up per unit subtree over survey, touchpoint and channel
(store/subtrees), changed by the same statements as `text_agg`: the text insights page of a user
who sees whole subtrees, without a touchpoint or channel filter, reads one row per bucket, aspect
and label for each top unit of the scope.

The touchpoint is the comment question's own touchpoint where the survey sets one, else the
response's, as for the score aggregates. Every change of the results changes the sums in the
same transaction: `fold_analyses` right after analyses are inserted, `unfold_responses` right
before a response's analyses are deleted (re-analysis), each one INSERT … SELECT … GROUP BY … ON
CONFLICT DO UPDATE per grain and kind (signed counts), so a result is counted exactly once while
it exists. `rebuild` recomputes everything in one transaction (holding writers off on
PostgreSQL), and clears the `text_agg.stale` mark a schema upgrade leaves on databases that held
results before the aggregate existed; while marked, readers use the results themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import app_settings
from tiyan.store import tables as t
from tiyan.store.aggregates import (
    BUSINESS_TIMEZONE,
    add_into,
    day_of,
    ensure_questions,
    month_of,
    run_with_ids,
)
from tiyan.store.id_lists import among
from tiyan.store.subtrees import per_subtree_statement

COMMENTS = ""  # the aspect code of the rows that count analysed comments
STALE = "text_agg.stale"
CHUNK = 50_000

R, TA, X, Q, G = t.response, t.text_analysis, t.text_aspect, t.score_agg_question, t.text_agg
UT = t.unit_text_agg
KEY = ("grain", "bucket", "unit_id", "survey_id", "touchpoint_id", "channel", "aspect_code",
       "label")
SUMS = ("n", "total")


def _select(dialect: str, grain: str, where: sa.ColumnElement[bool], sign: int, tz: str,
            aspects: bool) -> sa.Select:
    """Signed sums of the analyses `where` selects (on text_analysis and response)."""
    bucket = (day_of if grain == "d" else month_of)(dialect, R.c.submitted_at, tz)
    question = sa.and_(Q.c.survey_version_id == R.c.survey_version_id,
                       Q.c.question_key == TA.c.question_key)
    base = TA.join(R, R.c.id == TA.c.response_id).outerjoin(Q, question)
    dims: tuple[sa.ColumnElement, ...] = (
        sa.literal(grain), bucket, R.c.unit_id, sa.func.coalesce(R.c.survey_id, 0),
        sa.func.coalesce(Q.c.touchpoint_id, R.c.touchpoint_id, 0), R.c.channel)
    if aspects:
        dims += (X.c.aspect_code, X.c.label)
        score = X.c.score
        base = X.join(base, TA.c.id == X.c.analysis_id)
    else:
        dims += (sa.literal(COMMENTS), TA.c.sentiment_label)
        score = TA.c.sentiment_score
    return (sa.select(*dims, sign * sa.func.count(), sign * sa.func.sum(score))
            .select_from(base)
            .where(where, R.c.status == "complete", R.c.submitted_at.is_not(None))
            .group_by(*dims[1:]))


def _statements(dialect: str, where: sa.ColumnElement[bool], sign: int, tz: str
                ) -> list[sa.Executable]:
    """Add (sign 1) or take out (sign -1) the analyses `where` selects, per unit and per
    subtree."""
    statements = []
    for grain in ("d", "m"):
        for aspects in (False, True):
            select = _select(dialect, grain, where, sign, tz, aspects)
            statements.append(add_into(dialect, G, KEY + SUMS, select, KEY, SUMS))
            rows = sa.select(*[c.label(name) for c, name in zip(
                select.subquery().c, KEY + SUMS, strict=True)]).subquery("text_rows")
            statements.append(per_subtree_statement(dialect, UT, rows, {
                name: rows.c[name] for name in ("grain", "bucket", "aspect_code", "label", *SUMS)
            }, SUMS))
    return statements


def _ensure_questions(conn: Connection, where: sa.ColumnElement[bool],
                      cache: dict[object, object]) -> None:
    versions = [v for (v,) in conn.execute(
        sa.select(R.c.survey_version_id).distinct()
        .select_from(TA.join(R, R.c.id == TA.c.response_id)).where(where)) if v is not None]
    ensure_questions(conn, versions, cache)


def fold_analyses(conn: Connection, analysis_ids: Sequence[int],
                  cache: dict[object, object] | None = None, *,
                  tz: str = BUSINESS_TIMEZONE) -> None:
    """Add these just-inserted analyses (and their aspects) to the sums."""
    cache = {} if cache is None else cache
    for start in range(0, len(analysis_ids), 500):
        chunk = list(analysis_ids[start:start + 500])
        _ensure_questions(conn, among(conn, TA.c.id, chunk), cache)
        run_with_ids(conn, ("text fold", tz), chunk,
                     lambda dialect, among: _statements(dialect, among(TA.c.id), 1, tz))


def unfold_responses(conn: Connection, response_ids: Sequence[int], *,
                     tz: str = BUSINESS_TIMEZONE) -> None:
    """Take the stored analyses of these responses out of the sums (before deleting them).
    On PostgreSQL the analyses are locked first, so two re-analyses of one response at the
    same moment take the first one's results out once, and the second one's after it."""
    for start in range(0, len(response_ids), 500):
        chunk = list(response_ids[start:start + 500])
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(TA.c.id).where(TA.c.response_id.in_(chunk)).with_for_update())
        run_with_ids(conn, ("text unfold", tz), chunk, lambda dialect, among: _statements(
            dialect, among(TA.c.response_id), -1, tz))


def is_stale(conn: Connection) -> bool:
    """True while the aggregate does not yet cover the results stored before it existed."""
    return bool(app_settings.get_value(conn, STALE))


def rebuild_in(conn: Connection, now: dt.datetime, cache: dict[object, object], *,
               chunk: int = CHUNK, progress: Callable[[int, int], None] | None = None,
               tz: str = BUSINESS_TIMEZONE) -> int:
    """Recompute the sums from every stored analysis inside the caller's transaction; returns
    the number of analyses. On PostgreSQL the table is locked first, so an analysis stored
    meanwhile waits and then applies its change on top of the rebuilt sums."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("LOCK TABLE text_agg IN EXCLUSIVE MODE"))
    conn.execute(G.delete())
    conn.execute(UT.delete())
    last = int(conn.execute(sa.select(sa.func.max(TA.c.id))).scalar() or 0)
    total = int(conn.execute(sa.select(sa.func.count()).select_from(TA)).scalar() or 0)
    done, position = 0, 0
    while position < last:
        end = min(position + chunk, last)
        where = sa.and_(TA.c.id > position, TA.c.id <= end)
        _ensure_questions(conn, where, cache)
        for statement in _statements(conn.dialect.name, where, 1, tz):
            conn.execute(statement)
        done += int(conn.execute(sa.select(sa.func.count()).select_from(TA).where(where))
                    .scalar() or 0)
        if progress is not None:
            progress(done, total)
        position = end
    conn.execute(t.app_setting.delete().where(t.app_setting.c.key == STALE))
    return total

