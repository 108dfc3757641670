"""Keeping the dashboard aggregates current: the `aggregates.fold` job and bulk catch-up.

A stored response enqueues `aggregates.fold` in its own transaction (services/arrivals); the
worker folds it within a poll interval, so a submission shows on the dashboards within seconds
while the submit path only writes one more job row. Bulk loads (`tiyan generate`, `tiyan demo`)
and `tiyan aggregates rebuild` fold in chunks of ids instead (store/aggregates.catch_up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tiyan.context import Context
from tiyan.services.jobs import job_handler
from tiyan.store import aggregates

FOLD = "aggregates.fold"


@job_handler(FOLD)
def fold_job(ctx: Context, payload: dict[str, Any]) -> None:
    ids = [int(i) for i in payload.get("response_ids", [])]
    with ctx.db.write() as conn:
        aggregates.fold_responses(conn, ids, ctx.db.immutable_cache)


def catch_up(ctx: Context, progress: Callable[[int, int], None] | None = None) -> int:
    return aggregates.catch_up(ctx.db, ctx.now, progress=progress)


def rebuild(ctx: Context, progress: Callable[[int, int], None] | None = None) -> int:
    return aggregates.rebuild(ctx.db, ctx.now, progress=progress)
