"""Removing a person's data from every table, keeping the anonymous scores.

Two levels, both inside the caller's transaction and both safe to run twice:

- `remove_comments(response ids)`: the free texts of these responses (answers to text questions
  and "other" texts) become NULL; their text analyses, aspects and people's corrections are
  deleted, the analyses taken out of the text and driver-aspect aggregates first
  (store/text_analysis.delete_analyses, the same path re-analysis takes); saved survey-session
  answers are emptied and the comment text in stored webhook deliveries and in the case
  notifications that quote it is blanked. Scores
  (`value_num`) stay, so score aggregates, NPS and CSAT do not move.
- `remove_personal_data(response ids)`: the customer snapshot and the imported extra columns of
  these responses are emptied.
- `erase_customer(customer)`: both for every response of the customer, and the customer's
  name, external id, attributes, identities (phones, e-mails), churn scores, invitation
  contacts and event payloads, call notes, callback notes, case notes and case attachments.
  The customer row stays, anonymous, with `erased_at` set, so the responses keep their unit,
  segment and scores and the contact rules keep treating the customer as gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.cases import without_comment_lines
from tiyan.store import tables as t
from tiyan.store import text_corrections
from tiyan.store.text_analysis import delete_analyses, texts_of

ERASED = "[erased]"  # what a removed case note reads
CHUNK = 500
KEPT_META = ("import_id", "line")  # where an imported record came from, not who wrote it
KEPT_INVITATION_DATA = ("event_type", "reminder_days", "suppressed")
R, A = t.response, t.answer


@dataclass
class Erased:
    """What an erasure or a retention run changed (counts only: no personal data)."""

    responses: int = 0
    comments: int = 0
    invitations: int = 0
    events: int = 0
    case_notes: int = 0
    attachments: list[str] = field(default_factory=list)  # case/file ids to delete after commit

    def to_json(self) -> dict[str, int]:
        return {"responses": self.responses, "comments": self.comments,
                "invitations": self.invitations, "events": self.events,
                "case_notes": self.case_notes, "attachments": len(self.attachments)}


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


# --- responses ------------------------------------------------------------------------------

def remove_comments(conn: Connection, response_ids: Sequence[int], now: dt.datetime,
                    cache: dict[object, object] | None = None) -> int:
    """Remove the free texts of these responses (see the module doc); how many texts."""
    removed = 0
    for chunk in _chunks(response_ids):
        texts = texts_of(conn, chunk, cache)
        delete_analyses(conn, chunk)
        text_corrections.delete_for_responses(conn, chunk)  # they hold a copy of the text
        by_question: dict[str, list[int]] = {}
        for text in texts:
            by_question.setdefault(text.question_key, []).append(text.response_id)
        for key, ids in by_question.items():
            conn.execute(sa.update(A).where(A.c.response_id.in_(ids), A.c.question_key == key)
                         .values(value_text=None))
        conn.execute(sa.update(t.survey_session).where(t.survey_session.c.response_id.in_(chunk))
                     .values(answers={}))
        conn.execute(sa.update(R).where(R.c.id.in_(chunk)).values(comments_removed_at=now))
        _blank_deliveries(conn, chunk)
        _blank_notifications(conn, chunk)
        removed += len(texts)
    return removed


def remove_personal_data(conn: Connection, response_ids: Sequence[int],
                         now: dt.datetime) -> None:
    """Empty the customer snapshot and the imported extra columns of these responses."""
    for chunk in _chunks(response_ids):
        metas = conn.execute(sa.select(R.c.id, R.c.meta).where(R.c.id.in_(chunk))).all()
        for response_id, meta in metas:
            kept = {k: v for k, v in (meta or {}).items() if k in KEPT_META}
            if kept != meta:
                conn.execute(sa.update(R).where(R.c.id == response_id).values(meta=kept))
        conn.execute(sa.update(R).where(R.c.id.in_(chunk))
                     .values(customer_snapshot={}, redacted_at=now))


def _mentioning(conn: Connection, table: sa.Table, column: str,
                tokens: Sequence[str]) -> list[RowMapping]:
    """Rows whose JSON `column` contains one of these opaque public ids somewhere."""
    text = sa.cast(table.c[column], sa.Text)
    return list(conn.execute(sa.select(table).where(
        sa.or_(*[text.contains(token, autoescape=True) for token in tokens]))).mappings())


def _blank_notifications(conn: Connection, response_ids: Sequence[int]) -> None:
    """Take the quoted comment out of the stored notifications of these responses' cases."""
    N, C = t.notification, t.cx_case
    rows = conn.execute(sa.select(N.c.id, N.c.body).join(C, C.c.id == N.c.case_id)
                        .where(C.c.response_id.in_(list(response_ids)))).all()
    for notification_id, body in rows:
        kept = without_comment_lines(body or "")
        if kept != body:
            conn.execute(sa.update(N).where(N.c.id == notification_id).values(body=kept))


def _blank_deliveries(conn: Connection, response_ids: Sequence[int]) -> None:
    """Blank the free texts these responses carry in stored webhook deliveries."""
    public_ids = [str(p) for p in conn.execute(
        sa.select(R.c.public_id).where(R.c.id.in_(list(response_ids)))).scalars()]
    if not public_ids:
        return
    wanted, D = set(public_ids), t.webhook_delivery
    for row in _mentioning(conn, D, "payload", public_ids):
        payload = dict(row["payload"])
        listed = payload.get("records")
        records: list[Any] = listed if isinstance(listed, list) else [payload]
        for record in records:
            if isinstance(record, dict) and record.get("id") in wanted:
                record["answers"] = [{**a, "value_text": None} for a in record.get("answers", [])
                                     if isinstance(a, dict)]
        conn.execute(sa.update(D).where(D.c.id == row["id"]).values(payload=payload))


# --- one customer ---------------------------------------------------------------------------

def erase_customer(conn: Connection, customer: RowMapping, now: dt.datetime,
                   cache: dict[object, object] | None = None) -> Erased:
    """Remove this customer's personal data everywhere (see the module doc)."""
    cid = int(customer["id"])
    response_ids = [int(i) for i in conn.execute(
        sa.select(R.c.id).where(R.c.customer_id == cid).order_by(R.c.id)).scalars()]
    done = Erased(responses=len(response_ids))
    done.comments = remove_comments(conn, response_ids, now, cache)
    remove_personal_data(conn, response_ids, now)
    conn.execute(sa.delete(t.customer_identity).where(t.customer_identity.c.customer_id == cid))
    conn.execute(sa.delete(t.churn_score).where(t.churn_score.c.customer_id == cid))
    conn.execute(sa.update(t.customer_transaction)
                 .where(t.customer_transaction.c.customer_id == cid).values(attributes={}))
    conn.execute(sa.update(t.survey_session).where(t.survey_session.c.customer_id == cid)
                 .values(answers={}))
    done.invitations = _erase_invitations(conn, cid)
    done.events = _erase_events(conn, str(customer["public_id"]))
    done.case_notes, done.attachments = _erase_cases(conn, cid, response_ids)
    _erase_callbacks(conn, cid, response_ids)
    conn.execute(sa.update(t.customer).where(t.customer.c.id == cid).values(
        name=None, external_id=None, attributes={}, erased_at=now))
    return done


def _erase_invitations(conn: Connection, customer_id: int) -> int:
    INV = t.invitation
    ids = [int(i) for i in conn.execute(
        sa.select(INV.c.id).where(INV.c.customer_id == customer_id)).scalars()]
    clear_invitations(conn, ids)
    return len(ids)


def clear_invitations(conn: Connection, invitation_ids: Sequence[int]) -> None:
    """These invitations keep their survey, unit, channel, status and times; their contact,
    event data, send errors and call notes go."""
    INV, E = t.invitation, t.invitation_event
    for chunk in _chunks(invitation_ids):
        for invitation_id, data in conn.execute(
                sa.select(INV.c.id, INV.c.data).where(INV.c.id.in_(chunk))).all():
            kept = {k: v for k, v in (data or {}).items() if k in KEPT_INVITATION_DATA}
            conn.execute(sa.update(INV).where(INV.c.id == invitation_id).values(
                contact=None, data=kept, last_error=None))
        for event_id, detail in conn.execute(sa.select(E.c.id, E.c.detail).where(
                E.c.invitation_id.in_(chunk))).all():
            if isinstance(detail, dict) and detail.get("error") not in (None, ERASED):
                conn.execute(sa.update(E).where(E.c.id == event_id).values(
                    detail={**detail, "error": ERASED}))
        conn.execute(sa.update(t.call_attempt).where(t.call_attempt.c.invitation_id.in_(chunk))
                     .values(note=None))


def _erase_events(conn: Connection, public_id: str) -> int:
    """Inbound events that named this customer keep their type, unit and outcome only."""
    found = 0
    for row in _mentioning(conn, t.inbound_event, "outcome", [public_id]):
        if (row["outcome"] or {}).get("customer_id") != public_id:
            continue
        payload = row["payload"] or {}
        kept = {k: payload.get(k) for k in ("id", "type", "unit", "staff", "touchpoint", "at")}
        conn.execute(sa.update(t.inbound_event).where(t.inbound_event.c.id == row["id"])
                     .values(payload={**kept, "customer": {"erased": True}, "data": {}}))
        found += 1
    return found


def _case_ids(conn: Connection, customer_id: int, response_ids: Sequence[int]) -> list[RowMapping]:
    K = t.cx_case
    where = K.c.customer_id == customer_id
    if response_ids:
        where = sa.or_(where, K.c.response_id.in_(list(response_ids)))
    return list(conn.execute(sa.select(K.c.id, K.c.public_id).where(where)).mappings())


def _erase_cases(conn: Connection, customer_id: int, response_ids: Sequence[int]
                 ) -> tuple[int, list[str]]:
    """Case notes read ERASED; attachments are listed (case/file) to be deleted after commit."""
    E = t.case_event
    notes, files = 0, []
    for case in _case_ids(conn, customer_id, response_ids):
        for event in conn.execute(sa.select(E.c.id, E.c.kind, E.c.detail)
                                  .where(E.c.case_id == case["id"])).mappings():
            detail = dict(event["detail"] or {})
            if event["kind"] == "attachment" and not detail.get("erased"):
                files.append(f"{case['public_id']}/{detail.get('file_id', '')}")
                detail = {"file_id": detail.get("file_id"), "name": ERASED, "erased": True}
            elif isinstance(detail.get("note"), str) and detail["note"] != ERASED:
                detail["note"] = ERASED
                notes += 1
            else:
                continue
            conn.execute(sa.update(E).where(E.c.id == event["id"]).values(detail=detail))
    return notes, files


def _erase_callbacks(conn: Connection, customer_id: int, response_ids: Sequence[int]) -> None:
    CT = t.callback_task
    where = CT.c.customer_id == customer_id
    if response_ids:
        where = sa.or_(where, CT.c.response_id.in_(list(response_ids)))
    tasks = sa.select(CT.c.id).where(where)
    conn.execute(sa.update(t.callback_call).where(t.callback_call.c.task_id.in_(tasks))
                 .values(note=None))
