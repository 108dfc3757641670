"""Invitations: their status timeline (one row per change in invitation_event)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.store import tables as t

# The life of an invitation; a later status never goes back to an earlier one, except that a
# reminder or a retry leaves the status where it is and only adds an event.
STATUS_ORDER = ("queued", "sent", "opened", "started", "completed")
FINAL_STATUSES = frozenset({"completed", "bounced", "failed", "refused", "expired",
                            "suppressed"})
_TIMESTAMP_OF = {"sent": "sent_at", "opened": "opened_at", "started": "started_at",
                 "completed": "completed_at", "bounced": "bounced_at"}


def invitation_by_public_id(conn: Connection, public_id: str) -> RowMapping | None:
    return conn.execute(sa.select(t.invitation).where(t.invitation.c.public_id == public_id)
                        ).mappings().first()


def record_invitation_status(conn: Connection, invitation_id: int, status: str, at: dt.datetime,
                             detail: dict[str, Any] | None = None) -> bool:
    """Move an invitation forward to `status` and log it; False when it is already past it.

    Opening a link twice, or a late "sent" after "opened", logs nothing and changes nothing;
    a final status (completed, bounced, failed, refused, expired) is never left.
    """
    row = conn.execute(sa.select(t.invitation.c.status).where(t.invitation.c.id == invitation_id)
                       ).first()
    if row is None:
        return False
    current = row.status
    if current in FINAL_STATUSES:
        return False
    if status in STATUS_ORDER and current in STATUS_ORDER and \
            STATUS_ORDER.index(status) <= STATUS_ORDER.index(current):
        return False
    values: dict[str, Any] = {"status": status}
    if status in _TIMESTAMP_OF:
        values[_TIMESTAMP_OF[status]] = at
    conn.execute(t.invitation.update().where(t.invitation.c.id == invitation_id).values(**values))
    log_invitation_event(conn, invitation_id, status, at, detail)
    return True


def log_invitation_event(conn: Connection, invitation_id: int, status: str, at: dt.datetime,
                         detail: dict[str, Any] | None = None) -> None:
    """Add an event without changing the status (a reminder sent, a call attempt, a retry)."""
    conn.execute(t.invitation_event.insert().values(
        invitation_id=invitation_id, at=at, status=status, detail=detail or {}))


def invitation_timeline(conn: Connection, invitation_id: int) -> list[RowMapping]:
    events = t.invitation_event
    query = (sa.select(events).where(events.c.invitation_id == invitation_id)
             .order_by(events.c.at, events.c.id))
    return list(conn.execute(query).mappings())
