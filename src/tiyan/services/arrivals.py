"""What follows the arrival of a response or a batch of imported feedback: background jobs.

The write path calls these inside the transaction that stores the record, so the follow-up work
is recorded exactly when the record was committed (an outbox); the work itself — aggregates,
text analysis, webhook delivery — runs later on the job queue (tiyan.services.jobs) and never
slows the respondent. A survey response writes a single `response.arrived` row, whose job queues
the follow-ups; a capability that must react to new responses adds its job to
`response_follow_ups`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from tiyan.services.jobs import (
    BULK,
    ClaimedJob,
    batch_job_handler,
    enqueue,
    enqueue_many,
)

if TYPE_CHECKING:
    from tiyan.context import Context

TEXT_ANALYZE = "text.analyze"
WEBHOOK_EMIT = "webhook.emit"
AGGREGATES_FOLD = "aggregates.fold"  # tiyan.services.aggregates
RESPONSE_ARRIVED = "response.arrived"
RESPONSE_SUBMITTED = "response.submitted"
FEEDBACK_IMPORTED = "feedback.imported"
TEXT_JOB_SIZE = 200  # responses per text-analysis job of a feedback batch (a bulk slice)


def after_response_stored(conn: Connection, response_id: int, now: dt.datetime) -> None:
    """A survey response was stored: one outbox row in its transaction (the respondent's write
    stays small); its job queues the follow-ups of `response_follow_ups` a moment later."""
    enqueue_many(conn, [(RESPONSE_ARRIVED, {"response_ids": [response_id],
                                            "at": now.isoformat()})], run_at=now)


def response_follow_ups(response_ids: Sequence[int], at: str) -> list[tuple[str, dict[str, Any]]]:
    """What a stored response sets going: fold it into the dashboards, analyse its texts (which
    then evaluates the alert rules), tell the webhooks. Separate jobs, so each retries alone;
    the worker runs many of each kind together (their batch handlers)."""
    ids = [int(i) for i in response_ids]
    return [
        (AGGREGATES_FOLD, {"response_ids": ids}),
        (TEXT_ANALYZE, {"response_ids": ids}),
        (WEBHOOK_EMIT, {"event": RESPONSE_SUBMITTED, "response_ids": ids, "at": at}),
    ]


@batch_job_handler(RESPONSE_ARRIVED)
def fan_out(ctx: Context, jobs: list[ClaimedJob]) -> dict[int, Exception]:
    """Queue the follow-ups of many arrivals in one transaction (still one set per arrival, so
    a response whose follow-up fails holds up no other)."""
    now = ctx.now()
    with ctx.db.write() as conn:
        enqueue_many(conn, [follow_up for job in jobs for follow_up in response_follow_ups(
            job.payload.get("response_ids", []), str(job.payload.get("at") or now.isoformat()))],
            run_at=now)
    return {}


def after_feedback_stored(conn: Connection, batch_id: int, response_ids: Sequence[int],
                          now: dt.datetime) -> None:
    """Feedback records of an import batch were stored: fold them, analyse their texts, tell
    the webhooks; in the bulk lane, so a big import leaves live responses' work alone."""
    ids = [int(i) for i in response_ids]
    if not ids:
        return
    for start in range(0, len(ids), TEXT_JOB_SIZE):
        enqueue(conn, AGGREGATES_FOLD, {"response_ids": ids[start:start + TEXT_JOB_SIZE]},
                run_at=now, lane=BULK)
        enqueue(conn, TEXT_ANALYZE, {"response_ids": ids[start:start + TEXT_JOB_SIZE]},
                run_at=now, lane=BULK)
    enqueue(conn, WEBHOOK_EMIT, {"event": FEEDBACK_IMPORTED, "batch_id": batch_id,
                                 "response_ids": ids, "at": now.isoformat()}, run_at=now,
            lane=BULK)
