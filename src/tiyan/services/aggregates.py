"""Keeping the dashboard aggregates current: the `aggregates.fold` job and bulk catch-up.

A stored response enqueues `aggregates.fold` in its own transaction (services/arrivals); the
worker folds it within a poll interval, so a submission shows on the dashboards within seconds
while the submit path only writes one more job row. Bulk loads (`tiyan generate`, `tiyan demo`)
and `tiyan aggregates rebuild` fold in chunks of ids instead (store/aggregates.catch_up).
The text aggregates and the driver-aspect parts follow the analyses as they are stored
(store/text_aggregates, store/driver_aspect_aggregates); rebuild recomputes them too, and
catch-up does when a schema upgrade marked them stale.
"""

from __future__ import annotations

from collections.abc import Callable

from tiyan.context import Context
from tiyan.services.jobs import ClaimedJob, batch_job_handler
from tiyan.store import (
    aggregates,
    driver_aggregates,
    driver_aspect_aggregates,
    segment_aggregates,
    staff_aggregates,
    text_aggregates,
)

FOLD = "aggregates.fold"


@batch_job_handler(FOLD)
def fold_batch(ctx: Context, jobs: list[ClaimedJob]) -> dict[int, Exception]:
    """Fold the responses of every job in one transaction (a response already folded is
    skipped, so a job run again adds nothing)."""
    ids = [int(i) for job in jobs for i in job.payload.get("response_ids", [])]
    with ctx.db.write() as conn:
        aggregates.fold_responses(conn, ids, ctx.db.immutable_cache)
    return {}


def catch_up(ctx: Context, progress: Callable[[int, int], None] | None = None) -> int:
    with ctx.db.read() as conn:
        drivers_stale = driver_aggregates.is_stale(conn)
    if drivers_stale:  # aggregated before the item-pair sums existed: fold everything again
        return rebuild(ctx, progress)
    count = aggregates.catch_up(ctx.db, ctx.now, progress=progress)
    with ctx.db.read() as conn:
        stale = text_aggregates.is_stale(conn) or driver_aspect_aggregates.is_stale(conn)
        segments_stale = segment_aggregates.is_stale(conn)
        staff_stale = staff_aggregates.is_stale(conn)
    if stale:  # results stored before the text or driver-aspect aggregate existed
        rebuild_text(ctx)
    if segments_stale:  # responses folded before the segment sums existed
        segment_aggregates.rebuild(ctx.db, ctx.now)
    if staff_stale:  # responses folded before the staff sums existed
        staff_aggregates.rebuild(ctx.db, ctx.now)
    return count


def rebuild(ctx: Context, progress: Callable[[int, int], None] | None = None) -> int:
    count = aggregates.rebuild(ctx.db, ctx.now, progress=progress)
    rebuild_text(ctx)
    return count


def rebuild_text(ctx: Context, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute the text aggregates and the driver-aspect parts from every stored analysis
    (one transaction); returns the number of analyses."""
    with ctx.db.write() as conn:
        count = text_aggregates.rebuild_in(conn, ctx.now(), ctx.db.immutable_cache,
                                           progress=progress)
        driver_aspect_aggregates.rebuild_in(conn, ctx.db.immutable_cache)
        return count
