"""The one place where a user's unit scope becomes SQL.

Every repository function that reads or writes unit-owned rows builds its WHERE clause with
`visible()`, so a store manager's query can only ever reach their own subtree.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.domain.access import (
    Actor,
    Grant,
    Permission,
    Role,
    TokenScope,
    Visibility,
    build_scope,
)
from tiyan.errors import NotAuthenticated
from tiyan.store import tables as t


def visible(
    vis: Visibility, unit_col: sa.ColumnElement[int], staff_col: sa.ColumnElement[int] | None = None
) -> sa.ColumnElement[bool]:
    """A WHERE clause that admits only rows the visibility covers (nothing when it is empty)."""
    clauses: list[sa.ColumnElement[bool]] = []
    if vis.unit_ids:
        clauses.append(unit_col.in_(sorted(vis.unit_ids)))
    if staff_col is not None:
        for units, staff_id in vis.staff_rows:
            clauses.append(sa.and_(unit_col.in_(sorted(units)), staff_col == staff_id))
    return sa.or_(*clauses) if clauses else sa.false()


def parent_map(conn: Connection) -> dict[int, int | None]:
    return dict(conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.parent_id)).all())


def load_actor(conn: Connection, user_id: int, token_scope: TokenScope | None = None) -> Actor:
    user = conn.execute(
        sa.select(t.app_user).where(t.app_user.c.id == user_id, t.app_user.c.active)
    ).mappings().first()
    if user is None:
        raise NotAuthenticated("scoped.account_does_not_exist")
    grants = [
        Grant(Role(row.role), row.unit_id)
        for row in conn.execute(
            sa.select(t.role_grant.c.role, t.role_grant.c.unit_id).where(
                t.role_grant.c.user_id == user_id
            )
        )
    ]
    staff_id = conn.execute(
        sa.select(t.staff.c.id).where(t.staff.c.user_id == user_id)
    ).scalar_one_or_none()
    scope = build_scope(user_id, grants, parent_map(conn), staff_id, token_scope)
    return Actor(user_id, user["email"], user["name"], scope, user["locale"], token_scope)


def visibility(actor: Actor, permission: Permission) -> Visibility:
    return actor.scope.visibility(permission)


def home_zones(conn: Connection, user_ids: Iterable[int], default: str) -> dict[int, str]:
    """Each user's time zone: their home unit's (`Scope.home_unit_id`, as pages show their
    times), else `default` (TIYAN_TIMEZONE) for a user without grants or a unit without one."""
    ids = sorted(set(user_ids))
    grants: dict[int, list[Grant]] = {user_id: [] for user_id in ids}
    if ids:
        for row in conn.execute(sa.select(t.role_grant.c.user_id, t.role_grant.c.role,
                                          t.role_grant.c.unit_id)
                                .where(t.role_grant.c.user_id.in_(ids))):
            grants[row.user_id].append(Grant(Role(row.role), row.unit_id))
    parents = parent_map(conn) if any(grants.values()) else {}
    homes = {user_id: build_scope(user_id, found, parents).home_unit_id
             for user_id, found in grants.items()}
    wanted = sorted({u for u in homes.values() if u is not None})
    zones = {int(row.id): row.timezone for row in conn.execute(
        sa.select(t.org_unit.c.id, t.org_unit.c.timezone).where(t.org_unit.c.id.in_(wanted)))
        } if wanted else {}
    return {user_id: str(zones.get(home) or default) if home is not None else default
            for user_id, home in homes.items()}
