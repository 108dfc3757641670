"""Outbound webhooks: endpoints managed by admins and CX managers, events delivered and retried.

    response.submitted   one survey response was stored
    feedback.imported    feedback records of an import batch were stored

A stored record enqueues a `webhook.emit` job (tiyan.services.arrivals). That job finds the active
endpoints subscribed to the event whose unit covers the record's unit, writes one delivery per
endpoint (the payload fixed at that moment) and enqueues a `webhook.deliver` job for each. A
delivery that gets no 2xx answer in time is tried again with exponential back-off (30 s, 1 min,
2 min … capped at 6 h) up to MAX_ATTEMPTS; every attempt updates the delivery log. The payload
format is documented in docs/webhooks.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from tiyan.channels import outbound
from tiyan.channels import webhooks as wire
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import InvalidInput
from tiyan.services.arrivals import FEEDBACK_IMPORTED, RESPONSE_SUBMITTED, WEBHOOK_EMIT
from tiyan.services.jobs import (
    ClaimedJob,
    RetryLater,
    batch_job_handler,
    enqueue,
    enqueue_many,
    retry_delay,
)
from tiyan.store import audit, org
from tiyan.store import webhooks as store

EVENTS = (RESPONSE_SUBMITTED, FEEDBACK_IMPORTED)
WEBHOOK_DELIVER = "webhook.deliver"
MAX_ATTEMPTS = 10  # the last one about 8.5 hours after the first
RECORDS_PER_DELIVERY = 500  # a large feedback batch goes out as several messages
# Deliveries of a batch in flight at once (also the connections a batch may open to one
# receiver): a batch waits for its receivers' answers together, not one after the other.
CONCURRENT_POSTS = 8


@dataclass(frozen=True)
class CreatedWebhook:
    public_id: str
    secret: str  # shown once, on creation


def do_create_webhook(ctx: Context, actor: Actor, *, url: str, events: Sequence[str],
                      unit_code: str) -> CreatedWebhook:
    """Register an endpoint for events about `unit_code`'s subtree; returns its secret once."""
    check_url(ctx, url)
    chosen = check_events(events)
    secret = wire.new_secret()
    now = ctx.now()
    with ctx.db.write() as conn:
        unit_id = org.unit_id_by_code(conn, unit_code)
        actor.require(Permission.MANAGE_WEBHOOKS, unit_id)
        endpoint_id, public_id = store.insert_endpoint(
            conn, url=url, secret=secret, events=chosen, unit_id=unit_id,
            created_by=actor.user_id, now=now)
        audit.record(conn, at=now, user_id=actor.user_id, action="webhook.create",
                     entity="webhook", entity_id=public_id, unit_id=unit_id,
                     detail={"url": url, "events": chosen})
    return CreatedWebhook(public_id, secret)


def check_url(ctx: Context, url: str, *, where: str = "url") -> None:
    """An http(s) address without credentials that the outbound policy lets tiyan reach
    (tiyan.channels.outbound); it is checked again on every delivery."""
    outbound.check_target(url, outbound.policy_for(ctx.settings), where=where)


def check_events(events: Sequence[str]) -> list[str]:
    if not events:
        raise InvalidInput("webhooks.choose_least_event", events=', '.join(EVENTS), where="events")
    for event in events:
        if event not in EVENTS:
            raise InvalidInput("webhooks.not_event", event=event, events=", ".join(EVENTS),
                               where="events")
    return sorted(set(events), key=EVENTS.index)


def do_deactivate_webhook(ctx: Context, actor: Actor, public_id: str) -> None:
    """Stop sending to an endpoint; deliveries still waiting are cancelled when they come up."""
    now = ctx.now()
    with ctx.db.write() as conn:
        endpoint = store.get_endpoint(conn, actor, public_id)
        actor.require(Permission.MANAGE_WEBHOOKS, endpoint["unit_id"])
        store.set_active(conn, endpoint["id"], False)
        audit.record(conn, at=now, user_id=actor.user_id, action="webhook.deactivate",
                     entity="webhook", entity_id=public_id, unit_id=endpoint["unit_id"])


def do_redeliver(ctx: Context, actor: Actor, public_id: str, message_id: str) -> RowMapping:
    """Send a delivery again now (same message id, so receivers can deduplicate)."""
    now = ctx.now()
    with ctx.db.write() as conn:
        endpoint = store.get_endpoint(conn, actor, public_id)
        if not endpoint["active"]:
            raise InvalidInput("webhooks.webhook_deactivated", where="webhook")
        delivery = store.get_delivery(conn, endpoint["id"], message_id)
        store.record_attempt(conn, delivery["id"], status="pending", next_attempt_at=now)
        enqueue(conn, WEBHOOK_DELIVER, {"delivery_id": delivery["id"],
                                        "last_attempt": delivery["attempts"] + MAX_ATTEMPTS},
                run_at=now)
        return store.get_delivery(conn, endpoint["id"], message_id)


# --- emitting: one delivery per subscribed endpoint ---------------------------------------

@batch_job_handler(WEBHOOK_EMIT)
def emit_batch(ctx: Context, jobs: list[ClaimedJob]) -> dict[int, Exception]:
    """Write the deliveries of many emit jobs in one transaction: each job's messages are the
    ones it would make alone (same bodies, same message ids)."""
    with ctx.db.read() as conn:
        listeners = store.Listeners.load(conn)
        heard = [job for job in jobs if listeners.hear(str(job.payload["event"]))]
        if not heard:
            return {}
        ids = sorted({int(i) for job in heard for i in job.payload.get("response_ids", [])})
        records = {r["id"]: r for r in store.records_for_event(conn, ids)}
        answers = store.answers_of(conn, ids)
        messages = [m for job in heard
                    for m in _messages(conn, ctx, job.payload, listeners, records, answers)]
    if messages:
        with ctx.db.write() as conn:
            _queue_deliveries(conn, messages, ctx.now())
    return {}


def emit_job(ctx: Context, payload: dict[str, Any]) -> None:
    """Run one emit job's payload (as a worker does, alone)."""
    emit_batch(ctx, [ClaimedJob(0, WEBHOOK_EMIT, payload, 1)])


Message = tuple[int, str, str, dict[str, Any]]  # endpoint id, message id, event, body


def _messages(conn: Connection, ctx: Context, payload: dict[str, Any],
              listeners: store.Listeners, records: dict[int, RowMapping],
              answers: dict[int, list[RowMapping]]) -> list[Message]:
    event = str(payload["event"])
    at = str(payload.get("at") or ctx.now().isoformat())
    mine = [records[i] for i in sorted({int(i) for i in payload.get("response_ids", [])})
            if i in records]
    targets = listeners.covering(event, [r["unit_id"] for r in mine],
                                 dt.datetime.fromisoformat(at))
    if not targets:
        return []
    batch = store.batch_summary(conn, int(payload["batch_id"])) \
        if payload.get("batch_id") is not None else None
    out: list[Message] = []
    for endpoint_id, units in targets.items():
        covered = [r for r in mine if r["unit_id"] in units]
        for start in range(0, len(covered), RECORDS_PER_DELIVERY):
            part = covered[start:start + RECORDS_PER_DELIVERY]
            body = envelope(event, at, _data(event, part, answers, batch))
            out.append((endpoint_id, message_id_for(event, at, [r["id"] for r in part],
                                                    endpoint_id), event, body))
    return out


def envelope(event: str, at: str, data: dict[str, Any]) -> dict[str, Any]:
    """The Standard Webhooks payload shape: type, timestamp, data."""
    return {"type": event, "timestamp": at, "data": data}


def _data(event: str, records: Sequence[RowMapping], answers: dict[int, list[RowMapping]],
          batch: RowMapping | None) -> dict[str, Any]:
    items = [record_data(r, answers.get(r["id"], [])) for r in records]
    if event == RESPONSE_SUBMITTED:
        return items[0]
    return {"import_id": batch["public_id"] if batch else None,
            "source": batch["source"] if batch else None, "records": items}


def record_data(row: RowMapping, answers: Sequence[RowMapping]) -> dict[str, Any]:
    """One response or feedback record as integrators get it (free text PII-redacted)."""
    from tiyan.text.redact import redact

    def stamp(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": row["public_id"], "source": row["source"], "survey": row["survey_code"],
        "survey_version": row["survey_version"], "unit": row["unit_code"],
        "touchpoint": row["touchpoint_code"], "staff": row["staff_code"],
        "customer": row["customer_id"], "channel": row["channel"], "language": row["language"],
        "external_id": row["external_id"], "submitted_at": stamp(row["submitted_at"]),
        "answers": [{
            "question_key": a["question_key"], "item_code": a["item_code"],
            "value_num": a["value_num"],
            "value_text": redact(a["value_text"]).text if a["value_text"] else a["value_text"],
            "value_json": a["value_json"],
        } for a in answers],
    }


def message_id_for(event: str, at: str, record_ids: Sequence[int], endpoint_id: int) -> str:
    """A message's id, from what it carries: the same event about the same records at the same
    time to the same endpoint is the same message, however often its emit job runs."""
    key = json.dumps([event, at, sorted(record_ids), endpoint_id], separators=(",", ":"))
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _queue_deliveries(conn: Connection, messages: Sequence[Message], now: dt.datetime) -> None:
    """One delivery per message and a job to send it; a message an earlier run of its emit job
    made (same endpoint and message id) is skipped: it was queued then."""
    unique = {(m[0], m[1]): m for m in messages}
    added = store.insert_deliveries(conn, [
        {"endpoint_id": endpoint_id, "message_id": message_id, "event_type": event,
         "payload": body} for endpoint_id, message_id, event, body in unique.values()], now)
    enqueue_many(conn, [(WEBHOOK_DELIVER, {"delivery_id": delivery_id,
                                           "last_attempt": MAX_ATTEMPTS})
                        for delivery_id in added], run_at=now)


# --- delivering: one attempt per job run ---------------------------------------------------

@batch_job_handler(WEBHOOK_DELIVER)
def deliver_batch(ctx: Context, jobs: list[ClaimedJob]) -> dict[int, Exception]:
    """One attempt for each job's delivery, several at a time over one HTTP client (its
    connections kept open between messages to the same receiver); the attempts are logged in
    one transaction. A delivery to be tried again comes back as RetryLater for its job alone."""
    with ctx.db.read() as conn:
        found = store.deliveries_to_send(conn, [int(job.payload["delivery_id"]) for job in jobs])
    each = [(found.get(int(job.payload["delivery_id"])), job) for job in jobs]
    sending = [(delivery, job) for delivery, job in each
               if delivery is not None and delivery["status"] not in ("delivered", "cancelled")]
    outcomes = _attempt_all(ctx, [delivery for delivery, _ in sending])
    attempts = [(delivery, outcome, job)
                for (delivery, job), outcome in zip(sending, outcomes, strict=True)]
    stopped: dict[int, Exception] = {}
    logged: list[dict[str, Any]] = []
    for delivery, attempt, job in attempts:
        values, retry_at = _outcome(ctx, delivery, attempt,
                                    int(job.payload.get("last_attempt", MAX_ATTEMPTS)))
        logged.append(values)
        if retry_at is not None:
            stopped[job.id] = RetryLater(retry_at, (attempt.error if attempt else None) or "")
    with ctx.db.write() as conn:
        store.record_attempts(conn, logged)
        for delivery, attempt, _ in attempts:
            if attempt is not None and attempt.status_code == 410:
                store.set_active(conn, delivery["endpoint_id"], False)  # Gone: stop (the spec)
    return stopped


def deliver_job(ctx: Context, payload: dict[str, Any]) -> None:
    """Run one delivery job's payload (as a worker does, alone)."""
    stopped = deliver_batch(ctx, [ClaimedJob(0, WEBHOOK_DELIVER, payload, 1)])
    if stopped:
        raise stopped[0]


def _attempt_all(ctx: Context, deliveries: Sequence[RowMapping]
                 ) -> list[outbound.Outcome | None]:
    """One attempt for each delivery (None for one whose endpoint was deactivated), up to
    CONCURRENT_POSTS at a time over one client: a batch waits for its slowest receivers
    together instead of one after the other."""
    policy = outbound.policy_for(ctx.settings)
    with outbound.client(policy, ctx.settings.webhook_timeout_seconds) as http:
        def attempt(delivery: RowMapping) -> outbound.Outcome | None:
            return _attempt(ctx, delivery, policy, http) if delivery["endpoint_active"] \
                else None

        if len(deliveries) <= 1:
            return [attempt(delivery) for delivery in deliveries]
        with ThreadPoolExecutor(min(CONCURRENT_POSTS, len(deliveries)),
                                thread_name_prefix="tiyan-webhook") as pool:
            return list(pool.map(attempt, deliveries))


def _attempt(ctx: Context, delivery: RowMapping, policy: outbound.Policy,
             http: outbound.Client) -> outbound.Outcome:
    now = ctx.now()
    body = json.dumps(delivery["payload"], ensure_ascii=False, separators=(",", ":")).encode()
    headers = wire.signed_headers(delivery["secret"], delivery["message_id"], now, body)
    return wire.post(delivery["url"], body, headers, ctx.settings.webhook_timeout_seconds,
                     policy, http)


def _outcome(ctx: Context, delivery: RowMapping, attempt: outbound.Outcome | None,
             last_attempt: int) -> tuple[dict[str, Any], dt.datetime | None]:
    """The delivery's log after the attempt (None: the endpoint was deactivated, the delivery
    is cancelled), and the time of the next attempt when it should be tried again."""
    values: dict[str, Any] = {"id": delivery["id"], "status": "cancelled",
                              "attempts": delivery["attempts"], "next_attempt_at": None,
                              "last_status_code": delivery["last_status_code"],
                              "last_error": delivery["last_error"],
                              "delivered_at": delivery["delivered_at"]}
    if attempt is None:
        return values, None
    now = ctx.now()
    attempts = delivery["attempts"] + 1
    values.update(attempts=attempts, last_status_code=attempt.status_code,
                  last_error=attempt.error)
    retry_at = None
    if attempt.delivered:
        values.update(status="delivered", delivered_at=now)
    elif attempt.status_code == 410 or attempts >= last_attempt:
        values.update(status="failed")
    else:
        retry_at = now + retry_delay(attempts)
        values.update(status="pending", next_attempt_at=retry_at)
    return values, retry_at
