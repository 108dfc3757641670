"""The rows each retention period reaches (services/retention.py decides when and how many).

Every function takes a cutoff (rows older than it are due) and either counts the rows due
(`dry run`) or changes them; each change is one that a second run finds nothing left to do for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import erasure
from tiyan.store import tables as t

R = t.response
DONE_JOBS = ("done",)
DONE_DELIVERIES = ("delivered",)
DONE_NOTIFICATIONS = ("sent",)
FAILED = "failed"
DELETE_BATCH = 5000  # rows per statement: a big purge never holds the write lock for long


def _due_responses(flag: sa.ColumnElement[object], cutoff: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(R.c.submitted_at < cutoff, flag.is_(None))


def response_ids(conn: Connection, kind: str, cutoff: dt.datetime, limit: int) -> list[int]:
    """The next responses due: kind "personal" (data not yet removed) or "comments"."""
    flag = R.c.redacted_at if kind == "personal" else R.c.comments_removed_at
    query = sa.select(R.c.id).where(_due_responses(flag, cutoff)).order_by(R.c.id).limit(limit)
    return [int(i) for i in conn.execute(query).scalars()]


def count_responses(conn: Connection, kind: str, cutoff: dt.datetime) -> int:
    flag = R.c.redacted_at if kind == "personal" else R.c.comments_removed_at
    return _count(conn, R, _due_responses(flag, cutoff))


def _count(conn: Connection, table: sa.Table, where: sa.ColumnElement[bool]) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(where))
               .scalar_one())


def _invitations(cutoff: dt.datetime) -> sa.ColumnElement[bool]:
    I = t.invitation  # noqa: E741 - the table's usual short name
    return sa.and_(I.c.created_at < cutoff,
                   sa.or_(I.c.contact.is_not(None), I.c.last_error.is_not(None)))


def count_invitations(conn: Connection, cutoff: dt.datetime) -> int:
    return (_count(conn, t.invitation, _invitations(cutoff))
            + _count(conn, t.inbound_event, t.inbound_event.c.received_at < cutoff))


def clear_invitations(conn: Connection, cutoff: dt.datetime, limit: int) -> int:
    """Contacts, data and call notes of old invitations, and old received events; how many."""
    ids = [int(i) for i in conn.execute(sa.select(t.invitation.c.id)
                                        .where(_invitations(cutoff)).limit(limit)).scalars()]
    erasure.clear_invitations(conn, ids)
    events = conn.execute(sa.delete(t.inbound_event)
                          .where(t.inbound_event.c.received_at < cutoff)).rowcount
    return len(ids) + int(events or 0)


def _finished(cutoff: dt.datetime) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    J, D, N = t.job, t.webhook_delivery, t.notification
    return [(J, sa.and_(J.c.created_at < cutoff, J.c.status.in_(DONE_JOBS))),
            (D, sa.and_(D.c.created_at < cutoff, D.c.status.in_(DONE_DELIVERIES))),
            (N, sa.and_(N.c.created_at < cutoff, N.c.status.in_(DONE_NOTIFICATIONS)))]


def _failed(cutoff: dt.datetime) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    J, D, N = t.job, t.webhook_delivery, t.notification
    return [(table, sa.and_(table.c.created_at < cutoff, table.c.status == FAILED))
            for table in (J, D, N)]


def _sessions(cutoff: dt.datetime) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    return [(t.web_session, t.web_session.c.expires_at < cutoff),
            (t.survey_session, t.survey_session.c.updated_at < cutoff),
            (t.link_submission, t.link_submission.c.submitted_at < cutoff)]


def _audit(cutoff: dt.datetime) -> list[tuple[sa.Table, sa.ColumnElement[bool]]]:
    return [(t.audit_log, t.audit_log.c.at < cutoff)]


DELETIONS = {"jobs": _finished, "failed_jobs": _failed, "sessions": _sessions,
             "audit": _audit}


def count_deletions(conn: Connection, kind: str, cutoff: dt.datetime) -> int:
    return sum(_count(conn, table, where) for table, where in DELETIONS[kind](cutoff))


def delete_rows(conn: Connection, kind: str, cutoff: dt.datetime,
                limit: int = DELETE_BATCH) -> int:
    """Delete up to `limit` due rows of each table of `kind`; how many went (call again until
    none goes)."""
    total = 0
    for table, where in DELETIONS[kind](cutoff):
        (key,) = table.primary_key.columns
        pick = sa.select(key).where(where).limit(limit).scalar_subquery()
        total += int(conn.execute(sa.delete(table).where(key.in_(pick))).rowcount or 0)
    return total


def redact_responses(conn: Connection, kind: str, ids: Sequence[int], now: dt.datetime,
                     cache: dict[object, object] | None = None) -> int:
    """Remove personal data or comments (store/erasure, aggregates adjusted) of these."""
    if kind == "personal":
        erasure.remove_personal_data(conn, ids, now)
        return len(ids)
    erasure.remove_comments(conn, ids, now, cache)
    return len(ids)
