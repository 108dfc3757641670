"""Key drivers with comment aspects: the parts of the pair sums that involve an aspect, kept per
month.

An aspect is one signed predictor per response with an analysed comment (+1 on balance
positive, -1 negative, 0 not mentioned, neutral or both ways; analytics/driver_values). Its zeros
add nothing to a sum but count in n, so every pair that involves an aspect follows from a few
parts, each a sum over the responses with an analysed comment. `driver_aspect_agg` holds them
per month (business time zone) × unit × survey × response touchpoint × channel (as
`driver_agg`), keyed by (item_a, item_b):

- ('', ''): the analysed responses (n);
- (item, ''): the item's answers on them (n, Σa, Σa², top_a = answers in the top box);
- (aspect, aspect): the responses that mention the aspect (n), Σs, Σs² (in sum_a/sum_b,
  sum_aa/sum_bb/sum_ab) and the positive ones (top_a, top_b);
- (item, aspect): over the item's answers on the responses that mention the aspect, Σa, Σs,
  Σa², Σs², Σa·s, the answers in the top box (top_a) and the positive signs (top_b);
- (aspect, aspect'), aspect < aspect' in the database's order: the responses that mention both,
  with the same sums and top counts.

Aspects carry the `aspect:` prefix of their predictor name. analytics/drivers_view turns the
parts into pair sums. The parts change exactly when a response's analyses do: `fold_responses`
right after they are inserted, `unfold_responses` right before they are deleted (re-analysis),
in the same transaction (store/text_analysis), like `text_agg`. `rebuild_in` recomputes them
and clears the `driver_aspect_agg.stale` mark the schema upgrade leaves on databases that held
results before the aggregate existed; while marked, readers use the responses. The same SELECTs
over a date range are the raw path for leftover days, frontline users and sliced views.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import app_settings
from tiyan.store import tables as t
from tiyan.store.aggregates import (
    BUSINESS_TIMEZONE,
    add_into,
    ensure_questions,
    month_of,
    run_with_ids,
)
from tiyan.store.id_lists import among

ASPECT = "aspect:"  # prefix of an aspect's predictor name (as analytics/driver_values)
STALE = "driver_aspect_agg.stale"
CHUNK = 50_000
KEY = ("bucket", "unit_id", "survey_id", "touchpoint_id", "channel", "item_a", "item_b")
SUMS = ("n", "sum_a", "sum_b", "sum_aa", "sum_bb", "sum_ab", "top_a", "top_b")

R, A, Q, TA, X = t.response, t.answer, t.score_agg_question, t.text_analysis, t.text_aspect
G = t.driver_aspect_agg


def _analysed(where: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.and_(where, R.c.status == "complete", R.c.submitted_at.is_not(None),
                   sa.exists().where(TA.c.response_id == R.c.id))


def _mentions(where: sa.ColumnElement[bool], name: str) -> sa.Subquery:
    """Per analysed response and aspect it mentions: the sign of the balance and whether it
    is positive."""
    balance = sa.func.sum(sa.case((X.c.label == "positive", 1), (X.c.label == "negative", -1),
                                  else_=0))
    return (sa.select(X.c.response_id.label("rid"),
                      (sa.literal(ASPECT) + X.c.aspect_code).label("code"),
                      sa.case((balance > 0, 1), (balance < 0, -1), else_=0).label("s"),
                      sa.case((balance > 0, 1), else_=0).label("pos"))
            .select_from(X.join(R, R.c.id == X.c.response_id))
            .where(where, R.c.status == "complete", R.c.submitted_at.is_not(None))
            .group_by(X.c.response_id, X.c.aspect_code).subquery(name))


def _item_top() -> sa.ColumnElement:
    top_from = sa.func.coalesce(Q.c.top_from, sa.case((A.c.item_code == "nps", 9.0), else_=4.0))
    return sa.case((A.c.value_num >= top_from, 1), else_=0)


def _with_answers(source: sa.FromClause) -> sa.FromClause:
    return source.join(A, A.c.response_id == R.c.id).outerjoin(
        Q, sa.and_(Q.c.survey_version_id == R.c.survey_version_id,
                   Q.c.question_key == A.c.question_key))


def part_selects(dialect: str, where: sa.ColumnElement[bool], sign: int = 1, *,
                 tz: str = BUSINESS_TIMEZONE) -> list[sa.Select]:
    """The parts of the responses `where` selects (on table response), by month, each row
    (*KEY, *SUMS) multiplied by `sign`."""
    dims = (month_of(dialect, R.c.submitted_at, tz), R.c.unit_id,
            sa.func.coalesce(R.c.survey_id, 0), sa.func.coalesce(R.c.touchpoint_id, 0),
            R.c.channel)
    zero, none = sa.literal(0), sa.literal("")
    m, m2 = _mentions(where, "m"), _mentions(where, "m2")
    v, top = A.c.value_num, _item_top()
    answered = sa.and_(A.c.item_code.is_not(None), v.is_not(None))

    def sums(*values: sa.ColumnElement) -> list[sa.ColumnElement]:
        return [sign * sa.func.count(), *(sign * sa.func.sum(x) for x in values)]

    responses = (sa.select(*dims, none, none, sign * sa.func.count(), *[zero] * 7)
                 .where(_analysed(where)).group_by(*dims))
    items = (sa.select(*dims, A.c.item_code, none, *sums(v, zero, v * v, zero, zero, top, zero))
             .select_from(_with_answers(R)).where(_analysed(where), answered)
             .group_by(*dims, A.c.item_code))
    s, pos = m.c.s, m.c.pos
    alone = (sa.select(*dims, m.c.code, m.c.code, *sums(s, s, s * s, s * s, s * s, pos, pos))
             .select_from(m.join(R, R.c.id == m.c.rid)).group_by(*dims, m.c.code))
    with_items = (sa.select(*dims, A.c.item_code, m.c.code,
                            *sums(v, s, v * v, s * s, v * s, top, pos))
                  .select_from(_with_answers(m.join(R, R.c.id == m.c.rid))).where(answered)
                  .group_by(*dims, A.c.item_code, m.c.code))
    s2, pos2 = m2.c.s, m2.c.pos
    both = (sa.select(*dims, m.c.code, m2.c.code, *sums(s, s2, s * s, s2 * s2, s * s2, pos, pos2))
            .select_from(m.join(m2, sa.and_(m2.c.rid == m.c.rid, m.c.code < m2.c.code))
                         .join(R, R.c.id == m.c.rid))
            .group_by(*dims, m.c.code, m2.c.code))
    return [responses, items, alone, with_items, both]


def _statements(dialect: str, where: sa.ColumnElement[bool], sign: int, tz: str
                ) -> list[sa.Executable]:
    return [add_into(dialect, G, [*KEY, *SUMS], select, KEY, SUMS)
            for select in part_selects(dialect, where, sign, tz=tz)]


def _add(conn: Connection, where: sa.ColumnElement[bool], sign: int, tz: str) -> None:
    for statement in _statements(conn.dialect.name, where, sign, tz):
        conn.execute(statement)


def _ensure_questions(conn: Connection, where: sa.ColumnElement[bool],
                      cache: dict[object, object]) -> None:
    versions = [v for (v,) in conn.execute(sa.select(R.c.survey_version_id).distinct()
                                           .where(where)) if v is not None]
    ensure_questions(conn, versions, cache)


def fold_responses(conn: Connection, response_ids: Sequence[int],
                   cache: dict[object, object] | None = None, *,
                   tz: str = BUSINESS_TIMEZONE) -> None:
    """Add the parts of these responses (their analyses just inserted)."""
    cache = {} if cache is None else cache
    ids = sorted(set(response_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        _ensure_questions(conn, among(conn, R.c.id, chunk), cache)
        run_with_ids(conn, ("aspect pairs fold", tz), chunk,
                     lambda dialect, among: _statements(dialect, among(R.c.id), 1, tz))


def unfold_responses(conn: Connection, response_ids: Sequence[int], *,
                     tz: str = BUSINESS_TIMEZONE) -> None:
    """Take the parts of these responses out (before their analyses are deleted); the caller
    has locked the analyses on PostgreSQL (store/text_aggregates.unfold_responses)."""
    ids = sorted(set(response_ids))
    for start in range(0, len(ids), 500):
        run_with_ids(conn, ("aspect pairs unfold", tz), ids[start:start + 500],
                     lambda dialect, among: _statements(dialect, among(R.c.id), -1, tz))


def is_stale(conn: Connection) -> bool:
    """True while the aggregate does not yet cover the results stored before it existed."""
    return bool(app_settings.get_value(conn, STALE))


def rebuild_in(conn: Connection, cache: dict[object, object], *, chunk: int = CHUNK,
               tz: str = BUSINESS_TIMEZONE) -> None:
    """Recompute the parts from every stored analysis inside the caller's transaction. On
    PostgreSQL the table is locked first, so an analysis stored meanwhile waits and then
    applies its change on top."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("LOCK TABLE driver_aspect_agg IN EXCLUSIVE MODE"))
    conn.execute(G.delete())
    low, high = conn.execute(sa.select(sa.func.min(TA.c.response_id),
                                       sa.func.max(TA.c.response_id))).one()
    position = int(low or 1) - 1
    while high is not None and position < high:
        end = min(position + chunk, int(high))
        where = sa.and_(R.c.id > position, R.c.id <= end)
        _ensure_questions(conn, where, cache)
        _add(conn, where, 1, tz)
        position = end
    conn.execute(t.app_setting.delete().where(t.app_setting.c.key == STALE))
