"""What follows the arrival of a response or a batch of imported feedback: background jobs.

The write path calls these inside the transaction that stores the record, so the follow-up jobs
exist exactly when the record was committed (an outbox); the work itself — text analysis,
webhook delivery — runs later on the job queue (tiyan.services.jobs) and never slows the
respondent. A capability that must react to new records adds its job here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from tiyan.services.jobs import enqueue, enqueue_many

TEXT_ANALYZE = "text.analyze"
WEBHOOK_EMIT = "webhook.emit"
AGGREGATES_FOLD = "aggregates.fold"  # tiyan.services.aggregates
RESPONSE_SUBMITTED = "response.submitted"
FEEDBACK_IMPORTED = "feedback.imported"
TEXT_JOB_SIZE = 500  # responses per text-analysis job of a feedback batch


def after_response_stored(conn: Connection, response_id: int, now: dt.datetime) -> None:
    """A survey response was stored: fold it into the dashboards, analyse its texts, tell the
    webhooks."""
    enqueue_many(conn, [
        (AGGREGATES_FOLD, {"response_ids": [response_id]}),
        (TEXT_ANALYZE, {"response_ids": [response_id]}),
        (WEBHOOK_EMIT, {"event": RESPONSE_SUBMITTED, "response_ids": [response_id],
                        "at": now.isoformat()}),
    ], run_at=now)


def after_feedback_stored(conn: Connection, batch_id: int, response_ids: Sequence[int],
                          now: dt.datetime) -> None:
    """Feedback records of an import batch were stored: analyse their texts, tell the webhooks."""
    ids = [int(i) for i in response_ids]
    if not ids:
        return
    for start in range(0, len(ids), TEXT_JOB_SIZE):
        enqueue(conn, AGGREGATES_FOLD, {"response_ids": ids[start:start + TEXT_JOB_SIZE]},
                run_at=now)
        enqueue(conn, TEXT_ANALYZE, {"response_ids": ids[start:start + TEXT_JOB_SIZE]},
                run_at=now)
    enqueue(conn, WEBHOOK_EMIT, {"event": FEEDBACK_IMPORTED, "batch_id": batch_id,
                                 "response_ids": ids, "at": now.isoformat()}, run_at=now)
