"""Staff sums: what the staff scorecards read instead of the responses.

`staff_agg` holds, per day and month (business time zone) × staff member × unit × touchpoint
(the response's own, as the scorecards filter) × channel × item code, the NPS and CSAT answers
of the complete responses that name a staff member: n, sum, sum of squares, and the answers
>= 9 and <= 6 (promoters and detractors when the item is NPS). A scorecard's NPS mean of
-100 / 0 / +100 per answer and its sum of squares follow from those two counts.

Folded with `score_agg` by store/aggregates.fold (the job, bulk catch-up, rebuild), so every
response is in it exactly once. A database upgraded while already aggregated is marked stale
(`staff_agg.stale`) and the scorecards read the responses until `rebuild` has filled the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import aggregates, app_settings
from tiyan.store import tables as t
from tiyan.store.db import Database

STALE = "staff_agg.stale"  # set by the schema upgrade on databases already aggregated
ITEMS = ("nps", "csat")  # the items a scorecard can show
S, R, A = t.staff_agg, t.response, t.answer
KEY = ("grain", "bucket", "staff_id", "unit_id", "touchpoint_id", "channel", "item_code")


def is_stale(conn: Connection) -> bool:
    """True while responses folded before `staff_agg` existed are missing from it."""
    return bool(app_settings.get_value(conn, STALE))


def _select(dialect: str, grain: str, where: sa.ColumnElement[bool], tz: str) -> sa.Select:
    period = aggregates.day_of if grain == "d" else aggregates.month_of
    x = A.c.value_num
    dims = (sa.literal(grain), period(dialect, R.c.submitted_at, tz), R.c.staff_id, R.c.unit_id,
            sa.func.coalesce(R.c.touchpoint_id, 0), R.c.channel, A.c.item_code)
    return (sa.select(*dims, sa.func.count(), sa.func.sum(x), sa.func.sum(x * x),
                      sa.func.sum(sa.case((x >= 9, 1), else_=0)),
                      sa.func.sum(sa.case((x <= 6, 1), else_=0)))
            .select_from(R.join(A, A.c.response_id == R.c.id))
            .where(where, R.c.status == "complete", R.c.submitted_at.is_not(None),
                   R.c.staff_id.is_not(None), A.c.item_code.in_(ITEMS), x.is_not(None))
            .group_by(*dims[1:]))


def fold_staff(conn: Connection, where: sa.ColumnElement[bool], *,
               tz: str = aggregates.BUSINESS_TIMEZONE) -> None:
    """Add the responses `where` selects (on table response) that name a staff member."""
    for statement in staff_statements(conn.dialect.name, where, tz):
        conn.execute(statement)


def staff_statements(dialect: str, where: sa.ColumnElement[bool],
                     tz: str = aggregates.BUSINESS_TIMEZONE, sign: int = 1
                     ) -> list[sa.Executable]:
    """The statements `fold_staff` runs."""
    return [aggregates.add_into(dialect, S, [*KEY, *aggregates.SUMS],
                                _select(dialect, grain, where, tz), KEY, aggregates.SUMS, sign)
            for grain in ("d", "m")]


def rebuild(db: Database, now: Callable[[], dt.datetime], *, chunk: int = aggregates.CHUNK,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute `staff_agg` from every folded response, in chunks of ids (the first one empties
    the table; stale until the last); returns the number of ids examined."""
    from tiyan.store.segment_aggregates import refold

    return refold(db, now, S, STALE, fold_staff, chunk=chunk, progress=progress)
