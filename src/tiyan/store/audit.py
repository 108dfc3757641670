"""The audit log: who signed in, and who changed surveys, users and roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.store import tables as t
from tiyan.store.scoped import visible


def record(
    conn: Connection, *, at: dt.datetime, user_id: int | None, action: str, entity: str,
    entity_id: object = None, unit_id: int | None = None,
    detail: Mapping[str, Any] | None = None, ip: str | None = None,
) -> None:
    conn.execute(
        sa.insert(t.audit_log).values(
            at=at, user_id=user_id, action=action, entity=entity,
            entity_id=None if entity_id is None else str(entity_id), unit_id=unit_id,
            detail=dict(detail or {}), ip=ip,
        )
    )


def list_entries(conn: Connection, actor: Actor, limit: int = 200) -> list[RowMapping]:
    vis = actor.scope.visibility(Permission.VIEW_AUDIT)
    own_unit = visible(vis, t.audit_log.c.unit_id)
    acting_user_in_scope = t.audit_log.c.user_id.in_(
        sa.select(t.role_grant.c.user_id).where(visible(vis, t.role_grant.c.unit_id))
    )
    query = (
        sa.select(t.audit_log, t.app_user.c.email)
        .outerjoin(t.app_user, t.app_user.c.id == t.audit_log.c.user_id)
        .where(sa.or_(own_unit, sa.and_(t.audit_log.c.unit_id.is_(None), acting_user_in_scope)))
        .order_by(t.audit_log.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).mappings())
