"""Retention: how long each kind of data is kept (TIYAN_RETENTION_*_DAYS; 0 keeps it forever).

    responses    personal data on responses (customer snapshot, imported extra columns)
    comments     free-text answers and their text analyses (text aggregates adjusted)
    invitations  invitation contacts, data, send errors and call notes; received events
    jobs         done background jobs, delivered webhook messages and sent case notifications
    failed_jobs  failed ones of those (kept longer: the jobs page shows them for a retry)
    sessions     expired sign-in sessions, respondents' saved survey sessions
    audit        audit-log entries

Responses and comments go through the erasure machinery (store/erasure.py), so scores stay and
the aggregates stay equal to a rebuild. Applied by the daily `retention.apply` job (scheduled
when the worker starts while any period is set) and by `tiyan retention apply [--dry-run]`;
each run writes one audit entry `retention.apply` with the counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.services.jobs import BULK, RetryLater, enqueue, job_handler, periodic
from tiyan.settings import Settings
from tiyan.store import audit
from tiyan.store import retention as store

RETENTION_JOB = "retention.apply"
EVERY = dt.timedelta(days=1)
BATCH = 500  # responses or invitations per transaction
KINDS = ("responses", "comments", "invitations", "jobs", "failed_jobs", "sessions", "audit")
SETTING = {"responses": "retention_response_personal_days",
           "comments": "retention_comment_days", "invitations": "retention_invitation_days",
           "jobs": "retention_job_days", "failed_jobs": "retention_failed_job_days",
           "sessions": "retention_session_days",
           "audit": "retention_audit_days"}
RESPONSE_KINDS = {"responses": "personal", "comments": "comments"}


def periods(settings: Settings) -> dict[str, int]:
    """The kinds with a retention period, in days."""
    return {kind: days for kind in KINDS if (days := int(getattr(settings, SETTING[kind])))}


@dataclass(frozen=True)
class RetentionReport:
    dry_run: bool
    counts: dict[str, int]  # kind -> rows changed (or due, in a dry run)

    def lines(self) -> list[str]:
        verb = "due" if self.dry_run else "done"
        if not self.counts:
            return ["no retention period is set (TIYAN_RETENTION_*_DAYS): everything is kept"]
        return [f"{kind}: {count:,} {verb}" for kind, count in self.counts.items()]


def apply_retention(ctx: Context, *, dry_run: bool = False,
                    progress: Callable[[str, int], None] | None = None) -> RetentionReport:
    """Apply every set retention period now (or count what is due, changing nothing)."""
    now = ctx.now()
    counts: dict[str, int] = {}
    for kind, days in periods(ctx.settings).items():
        cutoff = now - dt.timedelta(days=days)
        counts[kind] = _count(ctx, kind, cutoff) if dry_run else _apply(ctx, kind, cutoff, now)
        if progress is not None:
            progress(kind, counts[kind])
    if counts and not dry_run:
        with ctx.db.write() as conn:
            audit.record(conn, at=now, user_id=None, action="retention.apply",
                         entity="retention", detail={"counts": counts,
                                                     "days": periods(ctx.settings)})
    return RetentionReport(dry_run, counts)


def _count(ctx: Context, kind: str, cutoff: dt.datetime) -> int:
    with ctx.db.read() as conn:
        if kind in RESPONSE_KINDS:
            return store.count_responses(conn, RESPONSE_KINDS[kind], cutoff)
        if kind == "invitations":
            return store.count_invitations(conn, cutoff)
        return store.count_deletions(conn, kind, cutoff)


def _apply(ctx: Context, kind: str, cutoff: dt.datetime, now: dt.datetime) -> int:
    if kind in RESPONSE_KINDS:
        return _redact_in_batches(ctx, RESPONSE_KINDS[kind], cutoff, now)
    if kind == "invitations":
        return _in_batches(ctx, lambda conn: store.clear_invitations(conn, cutoff, BATCH))
    return _in_batches(ctx, lambda conn: store.delete_rows(conn, kind, cutoff))


def _redact_in_batches(ctx: Context, kind: str, cutoff: dt.datetime, now: dt.datetime) -> int:
    def batch(conn: sa.Connection) -> int:
        ids = store.response_ids(conn, kind, cutoff, BATCH)
        return store.redact_responses(conn, kind, ids, now, ctx.db.immutable_cache)

    return _in_batches(ctx, batch)


def _in_batches(ctx: Context, step: Callable[[sa.Connection], int]) -> int:
    """Run `step` in one transaction after another until it finds nothing left."""
    total = 0
    while True:
        with ctx.db.write() as conn:
            done = step(conn)
        total += done
        if done == 0:
            return total


@periodic
def ensure_scheduled(conn: sa.Connection, ctx: Context) -> None:
    """Queue the daily job when a retention period is set (one row, however many workers)."""
    if periods(ctx.settings):
        enqueue(conn, RETENTION_JOB, {}, run_at=ctx.now(), unique_key=RETENTION_JOB)


@job_handler(RETENTION_JOB, lane=BULK, one_at_a_time=True)
def retention_job(ctx: Context, payload: dict[str, Any]) -> None:
    apply_retention(ctx)
    raise RetryLater(ctx.now() + EVERY, "runs again tomorrow")
