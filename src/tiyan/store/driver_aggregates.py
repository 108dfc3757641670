"""Item-pair sums for key drivers: what a correlation matrix needs, kept per month.

`driver_agg` holds, per month (business time zone) × unit × survey × response touchpoint ×
channel × item pair (item_a <= item_b), over the responses that answered both items: n, Σa, Σb,
Σa², Σb², Σa·b and the count of item_a in its top box. A pair with item_a == item_b is the item
alone (its n, mean and top-box share). Sums add up, so the pairwise Pearson correlation of any two
items over any set of months, units, touchpoints and channels is a sum of rows; the relative
weights of the drivers page follow without reading a single answer.

Folded by the same statement sequence as `score_agg` (store/aggregates.fold runs `pair_statements`),
so the job, the bulk catch-up and the rebuild keep both current in one transaction. The same
SELECT, grouped by day, is the raw path for partial months and for users who see only their own
responses (analytics/drivers_view).

A database that held score aggregates before `driver_agg` existed is marked stale by the schema
upgrade: readers use the raw path until the next catch-up, which rebuilds all aggregates.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import app_settings
from tiyan.store import tables as t

D = t.driver_agg
STALE = "driver_agg.stale"  # set by the schema upgrade on databases already aggregated
KEY = ("bucket", "unit_id", "survey_id", "touchpoint_id", "channel", "item_a", "item_b")
SUMS = ("n", "sum_a", "sum_b", "sum_aa", "sum_bb", "sum_ab", "top_a")


def pair_select(dialect: str, where: sa.ColumnElement[bool], tz: str, *,
                grain: str = "m") -> sa.Select:
    """Pair sums of the responses `where` selects (on table response), by month ('m') or day."""
    from tiyan.store.aggregates import day_of, month_of

    r, q = t.response, t.score_agg_question
    a, b = t.answer.alias("pair_a"), t.answer.alias("pair_b")
    bucket = (day_of if grain == "d" else month_of)(dialect, r.c.submitted_at, tz)
    x, y = a.c.value_num, b.c.value_num
    top_from = sa.func.coalesce(q.c.top_from, sa.case((a.c.item_code == "nps", 9.0), else_=4.0))
    dims = (bucket, r.c.unit_id, sa.func.coalesce(r.c.survey_id, 0),
            sa.func.coalesce(r.c.touchpoint_id, 0), r.c.channel, a.c.item_code, b.c.item_code)
    same_item = sa.and_(a.c.item_code == b.c.item_code, a.c.question_key == b.c.question_key)
    return (
        sa.select(*dims, sa.func.count(), sa.func.sum(x), sa.func.sum(y), sa.func.sum(x * x),
                  sa.func.sum(y * y), sa.func.sum(x * y),
                  sa.func.sum(sa.case((x >= top_from, 1), else_=0)))
        .select_from(
            r.join(a, a.c.response_id == r.c.id)
            .join(b, sa.and_(b.c.response_id == r.c.id,
                             sa.or_(a.c.item_code < b.c.item_code, same_item)))
            .outerjoin(q, sa.and_(q.c.survey_version_id == r.c.survey_version_id,
                                  q.c.question_key == a.c.question_key)))
        .where(where, r.c.status == "complete", r.c.submitted_at.is_not(None),
               a.c.item_code.is_not(None), b.c.item_code.is_not(None),
               x.is_not(None), y.is_not(None))
        .group_by(*dims)
    )


def pair_statements(dialect: str, where: sa.ColumnElement[bool], tz: str, sign: int = 1
                    ) -> list[sa.Executable]:
    """The statement that adds the item-pair sums of the responses `where` selects into
    driver_agg (run by store/aggregates.fold)."""
    from tiyan.store.aggregates import add_into

    return [add_into(dialect, D, [*KEY, *SUMS], pair_select(dialect, where, tz), KEY, SUMS,
                     sign)]


def clear(conn: Connection) -> None:
    conn.execute(D.delete())


def is_stale(conn: Connection) -> bool:
    """True while responses folded before `driver_agg` existed are missing from it."""
    return bool(app_settings.get_value(conn, STALE))
