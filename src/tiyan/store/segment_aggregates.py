"""Score sums per customer segment: what a dashboard sliced by segment reads.

`segment_agg` holds the rows of `score_agg` once more per segment of the response's customer
(responses without a customer, or whose customer has no segment, are not in it). A response is
folded with its customer's segment of the moment, together with `score_agg` (store/aggregates
`fold`: the job, bulk catch-up, rebuild). When a customer changes segment (`tiyan customers
segment`, the weekly refresh) `set_segments` moves that customer's folded responses from the old
segment's rows to the new one's in the transaction that changes the segment (take out, update,
put back), so the table always follows the customers' current segments and the cost is that of
the customers who changed, not of every response. On PostgreSQL the changed customers are locked
first and the fold job locks the customers of its responses (FOR SHARE), so a response folded
while its customer moves is counted once, in the segment it ends up in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import aggregates, app_settings
from tiyan.store import tables as t
from tiyan.store.db import Database

STALE = "segment_agg.stale"  # set by the schema upgrade on databases already aggregated
SG, R, C = t.segment_agg, t.response, t.customer
COLUMNS = (*aggregates.KEY, *aggregates.SUMS, "segment")  # the order of the selects' columns
CHUNK = 5_000  # customers per statement


def is_stale(conn: Connection) -> bool:
    """True while responses folded before `segment_agg` existed are missing from it."""
    return bool(app_settings.get_value(conn, STALE))


def fold_segments(conn: Connection, where: sa.ColumnElement[bool], *,
                  tz: str = aggregates.BUSINESS_TIMEZONE, sign: int = 1) -> None:
    """Add (sign 1) or take out (sign -1) the responses `where` selects, under their customer's
    current segment."""
    for statement in segment_statements(conn.dialect.name, where, tz, sign=sign):
        conn.execute(statement)


def segment_statements(dialect: str, where: sa.ColumnElement[bool],
                       tz: str = aggregates.BUSINESS_TIMEZONE, *, sign: int = 1
                       ) -> list[sa.Executable]:
    """The statements `fold_segments` runs."""
    statements = []
    for grain in ("d", "m"):
        for select in (aggregates._answers_select(dialect, grain, where, tz, by_segment=True),
                       aggregates._responses_select(dialect, grain, where, tz, by_segment=True)):
            if sign < 0:
                rows = select.subquery()
                select = sa.select(*[c * -1 if name in aggregates.SUMS else c
                                     for c, name in zip(rows.c, COLUMNS, strict=True)]
                                   ).where(sa.true())  # SQLite: else ON reads as a join's
            statements.append(aggregates.add_into(dialect, SG, COLUMNS, select,
                                                  ["segment", *aggregates.KEY], aggregates.SUMS))
    return statements


def folded(conn: Connection) -> sa.ColumnElement[bool]:
    """The responses already in the aggregates (in bulk up to the watermark, or by the job)."""
    return sa.or_(R.c.id <= aggregates.watermark(conn),
                  R.c.id.in_(sa.select(aggregates.F.c.response_id)))


def set_segments(conn: Connection, changes: Sequence[Mapping[str, object]]) -> None:
    """Store customers' new segments ({"cid": customer id, "seg": segment or None}) and move
    their folded responses to the new segment's sums, in the caller's transaction."""
    ids = sorted({int(str(c["cid"])) for c in changes})
    chunks = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
    move = not is_stale(conn)
    if conn.dialect.name == "postgresql":
        for chunk in chunks:
            conn.execute(sa.select(C.c.id).where(C.c.id.in_(chunk)).with_for_update())
    where = folded(conn)
    left: set[str] = set()
    if move:
        for chunk in chunks:
            left |= {s for (s,) in conn.execute(sa.select(C.c.segment).distinct().where(
                C.c.id.in_(chunk), C.c.segment.is_not(None)))}
            fold_segments(conn, sa.and_(R.c.customer_id.in_(chunk), where), sign=-1)
        conn.execute(SG.delete().where(SG.c.segment.in_(sorted(left)), SG.c.n == 0))
    for i in range(0, len(changes), CHUNK):
        conn.execute(sa.update(C).where(C.c.id == sa.bindparam("cid"))
                     .values(segment=sa.bindparam("seg")), list(changes[i:i + CHUNK]))
    if move:
        for chunk in chunks:
            fold_segments(conn, sa.and_(R.c.customer_id.in_(chunk), where))


def lock_customers(conn: Connection, response_ids: Sequence[int]) -> None:
    """PostgreSQL: hold the customers of these responses (FOR SHARE) until the fold commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(C.c.id).where(C.c.id.in_(
            sa.select(R.c.customer_id).where(R.c.id.in_(list(response_ids)))))
            .with_for_update(read=True))


def rebuild(db: Database, now: Callable[[], dt.datetime], *, chunk: int = aggregates.CHUNK,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute `segment_agg` from every folded response, in chunks of ids (the first one
    empties the table); returns the number of ids examined. For when responses were linked to
    customers or segments set behind `set_segments`' back (bulk SQL)."""
    return refold(db, now, SG, STALE, fold_segments, chunk=chunk, progress=progress)


def refold(db: Database, now: Callable[[], dt.datetime], table: sa.Table, stale: str,
           fold_where: Callable[[Connection, sa.ColumnElement[bool]], None], *,
           chunk: int = aggregates.CHUNK,
           progress: Callable[[int, int], None] | None = None) -> int:
    """Empty `table` and fold every folded response into it again with `fold_where`, in chunks
    of ids, each one transaction; the setting `stale` is true until the last chunk (readers use
    the responses meanwhile). Returns the number of ids examined."""
    with db.read() as conn:
        last = conn.execute(sa.select(sa.func.max(R.c.id))).scalar() or 0
    position = 0
    with db.write() as conn:
        conn.execute(table.delete())
        app_settings.put_value(conn, stale, last > 0, now())
    while position < last:
        end = min(position + chunk, last)
        with db.write() as conn:
            fold_where(conn, sa.and_(R.c.id > position, R.c.id <= end, folded(conn)))
            if end == last:
                app_settings.put_value(conn, stale, False, now())
        if progress is not None:
            progress(end, last)
        position = end
    return last
