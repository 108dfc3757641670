"""Per-respondent values for key drivers that no aggregate holds: comment aspects as predictors
and repurchase as an outcome, read from the responses (bounded by the filters).

Every predictor and outcome becomes rows (response, code, question key, value, top) of one query:

- a rated item: its answer (top = in the item's top box), as in store/driver_aggregates;
- an aspect of an analysed comment, code `aspect:<code>`: +1 where the response's mentions of the
  aspect are on balance positive, -1 where negative, 0 where the comment does not mention it or
  mentions it neutrally or both ways (one signed predictor per aspect rather than two
  indicators: one point per aspect in the quadrant, its weight not split between two
  near-mirror columns); top = +1;
- repurchase: 1 when the response's customer has a transaction in the `days` after the
  response was submitted, else 0, for responses submitted at least `days` before the cut-off.

Pair sums over these rows, as if joined to themselves by response (`value_pairs`), give the same
`PairSums` as `driver_agg`, so the correlations, weights and quadrant follow unchanged
(analytics/drivers_view). The same rows per respondent (`respondent_values`) are what the
bootstrap resamples for the intervals on the weights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from scipy import sparse
from sqlalchemy.engine import Connection

from tiyan.domain.drivers import RespondentValues
from tiyan.domain.surveys import QuestionType, parse_definition
from tiyan.store import tables as t

ASPECT = "aspect:"  # prefix of the predictor name of a comment aspect
REPURCHASE = "repurchase"
R, A, Q, TA, X = t.response, t.answer, t.score_agg_question, t.text_analysis, t.text_aspect
TX = t.customer_transaction


def item_values(where: sa.ColumnElement[bool]) -> sa.Select:
    top_from = sa.func.coalesce(Q.c.top_from, sa.case((A.c.item_code == "nps", 9.0), else_=4.0))
    return (sa.select(A.c.response_id.label("rid"), A.c.item_code.label("code"),
                      A.c.question_key.label("qkey"), A.c.value_num.label("v"),
                      sa.case((A.c.value_num >= top_from, 1), else_=0).label("top"))
            .select_from(R.join(A, A.c.response_id == R.c.id).outerjoin(
                Q, sa.and_(Q.c.survey_version_id == R.c.survey_version_id,
                           Q.c.question_key == A.c.question_key)))
            .where(where, A.c.item_code.is_not(None), A.c.value_num.is_not(None)))


def answer_values(where: sa.ColumnElement[bool]) -> sa.Select:
    """The rated answers of the responses `where` selects: (response, code, value) only."""
    return (sa.select(A.c.response_id.label("rid"), A.c.item_code.label("code"),
                      A.c.value_num.label("v"))
            .select_from(R.join(A, A.c.response_id == R.c.id))
            .where(where, A.c.item_code.is_not(None), A.c.value_num.is_not(None)))


def aspect_values(where: sa.ColumnElement[bool]) -> sa.Select:
    """Each analysed response × each aspect mentioned in scope: the signed balance."""
    balance = sa.func.sum(sa.case((X.c.label == "positive", 1), (X.c.label == "negative", -1),
                                  else_=0))
    mentions = (sa.select(X.c.response_id, X.c.aspect_code, balance.label("balance"))
                .select_from(X.join(R, R.c.id == X.c.response_id)).where(where)
                .group_by(X.c.response_id, X.c.aspect_code).subquery("mentions"))
    codes = sa.select(mentions.c.aspect_code.label("code")).distinct().subquery("codes")
    analysed = (sa.select(TA.c.response_id.label("rid")).distinct()
                .select_from(TA.join(R, R.c.id == TA.c.response_id)).where(where)
                .subquery("analysed"))
    sign = sa.case((mentions.c.balance > 0, 1), (mentions.c.balance < 0, -1), else_=0)
    name = sa.literal(ASPECT) + codes.c.code
    return (sa.select(analysed.c.rid, name.label("code"), name.label("qkey"),
                      sa.cast(sign, sa.Float).label("v"),
                      sa.case((mentions.c.balance > 0, 1), else_=0).label("top"))
            .select_from(analysed.join(codes, sa.true()).outerjoin(
                mentions, sa.and_(mentions.c.response_id == analysed.c.rid,
                                  mentions.c.aspect_code == codes.c.code))))


def _within(dialect: str, days: int) -> sa.ColumnElement[bool]:
    """A transaction of the response's customer in the `days` after the response."""
    if dialect == "sqlite":
        gap = sa.func.julianday(TX.c.occurred_at) - sa.func.julianday(R.c.submitted_at)
        window = sa.and_(gap > 0, gap <= days)
    else:
        end = R.c.submitted_at + sa.func.make_interval(0, 0, 0, days)
        window = sa.and_(TX.c.occurred_at > R.c.submitted_at, TX.c.occurred_at <= end)
    return sa.exists().where(TX.c.customer_id == R.c.customer_id, window)


def repurchase_values(dialect: str, where: sa.ColumnElement[bool], days: int) -> sa.Select:
    bought = sa.case((_within(dialect, days), 1), else_=0)
    return (sa.select(R.c.id.label("rid"), sa.literal(REPURCHASE).label("code"),
                      sa.literal(REPURCHASE).label("qkey"), sa.cast(bought, sa.Float).label("v"),
                      bought.label("top"))
            .where(where))


PairRow = tuple[int, float, float, float, float, float, int]  # n, Σa, Σb, Σa², Σb², Σab, top_a


def value_pairs(rows: Iterable[Sequence[Any]], *, aspects_only: bool
                ) -> dict[tuple[str, str], PairRow]:
    """Pair sums (n, Σa, Σb, Σa², Σb², Σab, top_a) per pair of codes over value rows (response,
    code, question key, value, top): every two rows of one response with different codes, and
    each row with itself for a code's own sums (a code asked by two questions counts each once).
    With `aspects_only`, only the pairs that involve an aspect (the rest come from driver_agg).

    One sparse response × (code, question) matrix per sum and a handful of products: the same
    sums as joining the rows to themselves by response, without the rows² join."""
    rid, column, v, top = [], [], [], []
    columns: dict[tuple[str, str], int] = {}
    for response_id, code, qkey, value, is_top in rows:
        rid.append(response_id)
        column.append(columns.setdefault((str(code), str(qkey)), len(columns)))
        v.append(float(value))
        top.append(float(is_top))
    if not columns:
        return {}
    _, row_of = np.unique(np.asarray(rid), return_inverse=True)
    shape = (int(row_of.max()) + 1, len(columns))

    def matrix(values: list[float] | np.ndarray) -> sparse.csr_array:
        return sparse.csr_array((np.asarray(values, dtype=float), (row_of, column)), shape=shape)

    x, present, tops = matrix(v), matrix(np.ones(len(v))), matrix(top)
    a_sums, aa_sums = (x.T @ present).toarray(), (matrix(np.square(v)).T @ present).toarray()
    # [i, j]: over the responses holding both columns; b's sums are a's with i and j swapped
    sums = [(present.T @ present).toarray(), a_sums, a_sums.T, aa_sums, aa_sums.T,
            (x.T @ x).toarray(), (tops.T @ present).toarray()]
    codes = sorted({code for code, _ in columns})
    of_code: dict[str, list[int]] = {code: [] for code in codes}
    for (code, _), index in columns.items():
        of_code[code].append(index)
    out: dict[tuple[str, str], PairRow] = {}
    for i, a in enumerate(codes):
        for b in codes[i:]:
            if aspects_only and not (a.startswith(ASPECT) or b.startswith(ASPECT)):
                continue
            if a == b:
                cells = [float(s[of_code[a], of_code[a]].sum()) for s in sums]
            else:
                cells = [float(s[np.ix_(of_code[a], of_code[b])].sum()) for s in sums]
            if cells[0] > 0:
                n, sum_a, sum_b, sum_aa, sum_bb, sum_ab, top_a = cells
                out[(a, b)] = (round(n), sum_a, sum_b, sum_aa, sum_bb, sum_ab, round(top_a))
    return out


@dataclass(frozen=True)
class RepurchaseBase:
    """How the responses in scope split for the repurchase outcome."""

    cutoff: dt.datetime | None  # responses submitted after this are too recent to know
    known: int  # responses with a customer, old enough
    too_recent: int  # responses with a customer, submitted after the cut-off
    no_customer: int  # responses without a customer


def repurchase_cutoff(conn: Connection, now: dt.datetime, days: int) -> dt.datetime | None:
    """The data's last day (the latest transaction, never later than now) less the window;
    None without any transaction (nothing can be known)."""
    last = conn.execute(sa.select(sa.func.max(TX.c.occurred_at))).scalar()
    if last is None:
        return None
    if isinstance(last, str):  # an SQLite aggregate is not converted back
        last = dt.datetime.fromisoformat(last)
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return min(last, now) - dt.timedelta(days=days)


def repurchase_base(conn: Connection, where: sa.ColumnElement[bool],
                    cutoff: dt.datetime | None) -> RepurchaseBase:
    has = R.c.customer_id.is_not(None)
    old = sa.false() if cutoff is None else R.c.submitted_at <= cutoff
    row = conn.execute(sa.select(
        sa.func.sum(sa.case((sa.and_(has, old), 1), else_=0)),
        sa.func.sum(sa.case((sa.and_(has, sa.not_(old)), 1), else_=0)),
        sa.func.sum(sa.case((has, 0), else_=1))).where(where)).one()
    return RepurchaseBase(cutoff, int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


def eligible(cutoff: dt.datetime | None) -> sa.ColumnElement[bool]:
    if cutoff is None:
        return sa.false()
    return sa.and_(R.c.customer_id.is_not(None), R.c.submitted_at <= cutoff)


def _three(part: sa.Select) -> sa.Select:
    """A value-row select cut to (rid, code, v)."""
    if len(part.selected_columns) == 3:
        return part
    rows = part.subquery()
    return sa.select(rows.c.rid, rows.c.code, rows.c.v)


def respondent_values(conn: Connection, parts: Sequence[sa.Select], codes: Sequence[str]
                      ) -> RespondentValues:
    """The value rows of `parts` (item, aspect, repurchase values) turned per respondent:
    for each code the sum of the respondent's values, how many there are and the sum of their
    squares, respondents in response id order. The rows come back as (response, code number,
    value) and are added up with NumPy (a GROUP BY with a CASE per code costs SQLite seconds)."""
    rows = sa.union_all(*(_three(part) for part in parts)).subquery("value_rows")
    column = sa.case(*((rows.c.code == code, j) for j, code in enumerate(codes)), else_=-1)
    # no filter on the code: it leads SQLite to read every answer to those items through the
    # item index, where the responses in scope (unit and time index) hold far fewer
    result = conn.execute(sa.select(rows.c.rid, column, rows.c.v))
    # plain numbers straight from the driver's cursor: a quarter of a million result rows
    # cost SQLAlchemy's row objects seconds, NumPy a tenth of that
    data = np.array(result.cursor.fetchall() if result.cursor is not None else [],
                    dtype=float).reshape(-1, 3)
    result.close()
    data = data[data[:, 1] >= 0]
    rid, col, v = data[:, 0].astype(np.int64), data[:, 1].astype(np.int64), data[:, 2]
    _, row_of = np.unique(rid, return_inverse=True)
    people, k = int(row_of.max()) + 1 if len(data) else 0, len(codes)
    cell = row_of.ravel() * k + col

    def summed(weights: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=weights, minlength=people * k).reshape(people, k)

    return RespondentValues(tuple(codes), summed(v), summed(np.ones(len(v))), summed(v * v))


def item_scales(conn: Connection) -> dict[str, str]:
    """The scale of each item code ("yesno", or the scale's "min-max"), from the latest version
    of each survey; where surveys disagree, the most recently created one's."""
    sv = t.survey_version
    latest = sa.select(sa.func.max(sv.c.id)).group_by(sv.c.survey_id).scalar_subquery()
    scales: dict[str, str] = {}
    for (definition,) in conn.execute(sa.select(sv.c.definition).where(sv.c.id.in_(latest))
                                      .order_by(sv.c.id.desc())):
        try:
            questions = parse_definition(definition).questions
        except Exception:  # an old definition that no longer parses says nothing
            continue
        for q in questions:
            if q.item_code and q.item_code not in scales:
                bounds = q.bounds()
                scales[q.item_code] = ("yesno" if q.type == QuestionType.YESNO else
                                       f"{bounds[0]}-{bounds[1]}" if bounds else "other")
    return scales
