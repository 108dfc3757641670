"""Organisation units and staff, read and written within the actor's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.errors import Conflict, InvalidInput, NotFound
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import visible

UNIT_KINDS = ("company", "region", "store", "department", "group")


_UNIT_BY_CODE = sa.select(t.org_unit).where(t.org_unit.c.code == sa.bindparam("code"))


_UNIT_ID_BY_CODE = sa.select(t.org_unit.c.id).where(t.org_unit.c.code == sa.bindparam("code"))


def unit_id_by_code(conn: Connection, code: str) -> int:
    found = conn.execute(_UNIT_ID_BY_CODE, {"code": code}).scalar_one_or_none()
    if found is None:
        raise NotFound("org.no_unit_code", code=code, where="unit")
    return int(found)


def unit_by_code(conn: Connection, code: str) -> RowMapping:
    row = conn.execute(_UNIT_BY_CODE, {"code": code}).mappings().first()
    if row is None:
        raise NotFound("org.no_unit_code", code=code, where="unit")
    return row


def insert_unit(
    conn: Connection,
    *,
    code: str,
    name_zh: str,
    name_en: str,
    kind: str,
    parent_id: int | None,
    now: dt.datetime,
    attributes: Mapping[str, Any] | None = None,
) -> int:
    if kind not in UNIT_KINDS:
        raise InvalidInput(
            "org.unit_kind_not", kind=kind, unit_kinds=", ".join(UNIT_KINDS), where="kind"
        )
    exists = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == code)).first()
    if exists:
        raise Conflict("org.unit_code_already_exists", code=code, where="code")
    if (
        parent_id is None
        and conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.parent_id.is_(None))).first()
    ):
        raise InvalidInput("org.already_root_unit_unit", where="parent")
    result = conn.execute(
        sa.insert(t.org_unit).values(
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            kind=kind,
            parent_id=parent_id,
            attributes=dict(attributes or {}),
            created_at=now,
        )
    )
    return inserted_id(result)


def list_units(conn: Connection, actor: Actor) -> list[RowMapping]:
    units = actor.scope.visibility(Permission.VIEW_DASHBOARD).all_units
    query = (
        sa.select(t.org_unit).where(t.org_unit.c.id.in_(sorted(units))).order_by(t.org_unit.c.id)
    )
    return list(conn.execute(query).mappings())


def get_unit(conn: Connection, actor: Actor, unit_id: int) -> RowMapping:
    units = actor.scope.visibility(Permission.VIEW_DASHBOARD).all_units
    row = None
    if unit_id in units:
        row = (
            conn.execute(sa.select(t.org_unit).where(t.org_unit.c.id == unit_id)).mappings().first()
        )
    if row is None:
        raise NotFound("org.unit_does_not_exist", unit_id=unit_id, where="unit")
    return row


def insert_staff(
    conn: Connection,
    *,
    unit_id: int,
    code: str,
    name: str,
    title: str | None,
    now: dt.datetime,
    user_id: int | None = None,
    email: str | None = None,
) -> int:
    if conn.execute(sa.select(t.staff.c.id).where(t.staff.c.code == code)).first():
        raise Conflict("org.staff_member_code_already", code=code, where="code")
    result = conn.execute(
        sa.insert(t.staff).values(
            unit_id=unit_id,
            code=code,
            name=name,
            title=title,
            user_id=user_id,
            email=email,
            created_at=now,
        )
    )
    return inserted_id(result)


def list_staff(conn: Connection, actor: Actor, unit_id: int | None = None) -> list[RowMapping]:
    vis = actor.scope.visibility(Permission.VIEW_STAFF)
    query = sa.select(t.staff).where(visible(vis, t.staff.c.unit_id))
    if unit_id is not None:
        query = query.where(t.staff.c.unit_id == unit_id)
    return list(conn.execute(query.order_by(t.staff.c.id)).mappings())
