"""Imported feedback: import batches, and feedback records stored as responses in the long shape.

A record is a `response` row (source review/hotline/social/complaint, channel "import") with
its text as the answer "comment" and its rating as the answer "rating"; (source, external_id,
unit_id) is unique, which is what makes re-importing a file harmless — per unit, because two
units' records may carry the same external id (each dealer's own review numbers, 0020).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.feedback_rows import RATING_KEY, TEXT_KEY, FeedbackRecord, UnitRef
from tiyan.errors import NotFound
from tiyan.security import new_public_id
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped_refs import CustomerKeys

B = t.import_batch
R = t.response
MAX_STORED_REJECTIONS = 1000   # the batch row keeps the first ones; the CLI writes all to a file
_LOOKUP_CHUNK = 500


def unit_refs(conn: Connection) -> dict[str, UnitRef]:
    rows = conn.execute(sa.select(t.org_unit.c.code, t.org_unit.c.id, t.org_unit.c.timezone))
    return {row.code: UnitRef(row.id, row.timezone) for row in rows}


def insert_batch(conn: Connection, *, source: str, filename: str, file_format: str,
                 sha256: str, mapping: Mapping[str, Any], created_by: int | None,
                 now: dt.datetime, unit_id: int | None = None, bytes_total: int | None = None,
                 status: str = "running") -> tuple[int, str]:
    public_id = new_public_id()
    result = conn.execute(sa.insert(B).values(
        public_id=public_id, source=source, filename=filename[:300], file_format=file_format,
        content_sha256=sha256, mapping=dict(mapping), status=status, created_by=created_by,
        created_at=now, unit_id=unit_id, bytes_total=bytes_total))
    return inserted_id(result), public_id


def set_batch_progress(conn: Connection, batch_id: int, *, bytes_read: int,
                       status: str | None = None) -> None:
    values: dict[str, Any] = {"bytes_read": bytes_read}
    if status is not None:
        values["status"] = status
    conn.execute(sa.update(B).where(B.c.id == batch_id).values(**values))


def batch_by_id(conn: Connection, batch_id: int) -> RowMapping | None:
    return conn.execute(sa.select(B).where(B.c.id == batch_id)).mappings().first()


def add_to_batch(conn: Connection, batch_id: int, *, total: int, stored: int, duplicate: int,
                 rejected: int, rejections: Sequence[Mapping[str, Any]]) -> None:
    """Count one chunk of rows into the batch (in the chunk's transaction)."""
    values: dict[str, Any] = {
        "rows_total": B.c.rows_total + total, "rows_stored": B.c.rows_stored + stored,
        "rows_duplicate": B.c.rows_duplicate + duplicate,
        "rows_rejected": B.c.rows_rejected + rejected}
    if rejections:
        kept = conn.execute(sa.select(B.c.rejections).where(B.c.id == batch_id)).scalar_one()
        room = MAX_STORED_REJECTIONS - len(kept)
        if room > 0:
            values["rejections"] = [*kept, *rejections[:room]]
    conn.execute(sa.update(B).where(B.c.id == batch_id).values(**values))


def finish_batch(conn: Connection, batch_id: int, status: str, now: dt.datetime) -> None:
    conn.execute(sa.update(B).where(B.c.id == batch_id).values(status=status, finished_at=now))


def batch_by_public_id(conn: Connection, public_id: str) -> RowMapping | None:
    query = (sa.select(B, t.app_user.c.email.label("created_by_email"))
             .outerjoin(t.app_user, t.app_user.c.id == B.c.created_by)
             .where(B.c.public_id == public_id))
    return conn.execute(query).mappings().first()


def access_batch(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    """A batch its creator, or someone whose import scope covers its unit, may see."""
    row = batch_by_public_id(conn, public_id)
    vis = actor.scope.visibility(Permission.IMPORT_FEEDBACK)
    unit_id = (row["unit_id"] or (row["mapping"] or {}).get("unit_id")  # before schema 0006
               if row is not None else None)
    if row is None or not (row["created_by"] == actor.user_id
                           or (unit_id is not None and vis.covers_unit(unit_id))
                           or (unit_id is None and _covers_root(conn, vis.unit_ids))):
        raise NotFound("feedback.import_does_not_exist", public_id=public_id,
                       where="import")
    return row


def _covers_root(conn: Connection, unit_ids: frozenset[int]) -> bool:
    roots = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.parent_id.is_(None)))
    return any(root in unit_ids for root in roots.scalars())


def recent_batches(conn: Connection, actor: Actor, limit: int = 20) -> list[RowMapping]:
    query = (sa.select(B).where(B.c.created_by == actor.user_id)
             .order_by(B.c.id.desc()).limit(limit))
    return list(conn.execute(query).mappings())


def existing_keys(conn: Connection, source: str, ids: Iterable[str]) -> set[tuple[int, str]]:
    """(unit id, external id) of the stored records of `source` with one of these external ids."""
    found: set[tuple[int, str]] = set()
    wanted = list(ids)
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        part = wanted[start:start + _LOOKUP_CHUNK]
        found.update((unit_id, eid) for unit_id, eid in conn.execute(sa.select(
            R.c.unit_id, R.c.external_id).where(R.c.source == source, R.c.external_id.in_(part))))
    return found


_INSERT_RECORD = sa.insert(R)
_INSERT_ANSWER = sa.insert(t.answer)


def insert_records(conn: Connection, records: Sequence[FeedbackRecord], *, batch_public_id: str,
                   customers: CustomerKeys, now: dt.datetime) -> list[int]:
    """Store records and their answers; the new response ids, in the records' order. A record
    whose customer reference names no customer the importer may see, on its unit's branch, is
    stored without a customer (as an unknown reference is), keeping the reference as typed.

    A plain executemany (no RETURNING, which SQLite would run row by row to keep the order),
    then the ids read back by their new public ids."""
    if not records:
        return []
    rows = [_response_row(r, batch_public_id, customers, now) for r in records]
    conn.execute(_INSERT_RECORD, rows)
    public_ids = [row["public_id"] for row in rows]
    by_public: dict[str, int] = {}
    for start in range(0, len(public_ids), _LOOKUP_CHUNK):
        part = public_ids[start:start + _LOOKUP_CHUNK]
        by_public.update(conn.execute(sa.select(R.c.public_id, R.c.id)
                                      .where(R.c.public_id.in_(part))).all())
    ids = [by_public[p] for p in public_ids]
    answers: list[dict[str, Any]] = []
    for response_id, record in zip(ids, records, strict=True):
        answers.append({"response_id": response_id, "question_key": TEXT_KEY,
                        "item_code": TEXT_KEY, "value_num": None, "value_text": record.text,
                        "value_json": None})
        if record.rating is not None:
            answers.append({"response_id": response_id, "question_key": RATING_KEY,
                            "item_code": RATING_KEY, "value_num": record.rating,
                            "value_text": None, "value_json": None})
    conn.execute(_INSERT_ANSWER, answers)
    return ids


def _response_row(record: FeedbackRecord, batch_public_id: str, customers: CustomerKeys,
                  now: dt.datetime) -> dict[str, Any]:
    meta: dict[str, Any] = {"import_id": batch_public_id, "line": record.line, **record.meta}
    customer = customers.at(record.customer, record.unit_id) if record.customer else None
    return {
        "public_id": new_public_id(), "source": str(record.source), "survey_id": None,
        "survey_version_id": None, "channel": "import", "unit_id": record.unit_id,
        "staff_id": None, "touchpoint_id": None,
        "customer_id": customer.id if customer else None,
        "invitation_id": None, "agent_user_id": None, "language": None, "status": "complete",
        "started_at": None, "submitted_at": record.submitted_at, "received_at": now,
        "external_id": record.external_id, "idempotency_key": None,
        "customer_snapshot": {"ref": record.customer} if record.customer else {},
        "meta": meta,
    }


def reset_batch(conn: Connection, batch_id: int) -> None:
    """A batch about to be (re)run by its job: counts from zero, status running."""
    conn.execute(sa.update(B).where(B.c.id == batch_id).values(
        status="running", rows_total=0, rows_stored=0, rows_duplicate=0, rows_rejected=0,
        rejections=[], bytes_read=0))
