"""Use cases for the organisation tree."""

from __future__ import annotations

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.store import audit
from tiyan.store.org import insert_unit, unit_by_code


def do_create_unit(ctx: Context, by: Actor | None, *, code: str, name_zh: str, name_en: str,
                   kind: str, parent_code: str | None) -> int:
    now = ctx.now()
    with ctx.db.write() as conn:
        parent_id = unit_by_code(conn, parent_code)["id"] if parent_code else None
        if by is not None:
            by.require(Permission.MANAGE_UNITS, parent_id)
        unit_id = insert_unit(conn, code=code, name_zh=name_zh, name_en=name_en, kind=kind,
                              parent_id=parent_id, now=now)
        audit.record(conn, at=now, user_id=by.user_id if by else None, action="unit.create",
                     entity="org_unit", entity_id=unit_id, unit_id=unit_id,
                     detail={"code": code, "parent": parent_code})
    return unit_id
