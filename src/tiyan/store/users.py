"""Users, role grants and web sessions (API tokens: `tiyan.store.api_tokens`)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission, Role
from tiyan.errors import Conflict, InvalidInput, NotFound
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import visible


def user_by_email(conn: Connection, email: str) -> RowMapping | None:
    return conn.execute(
        sa.select(t.app_user).where(sa.func.lower(t.app_user.c.email) == email.strip().lower())
    ).mappings().first()


def insert_user(
    conn: Connection, *, email: str, name: str, password_hash: str, now: dt.datetime,
    locale: str | None = None,
) -> int:
    if user_by_email(conn, email) is not None:
        raise Conflict("users.user_mail_already_exists", email=email, where="email")
    result = conn.execute(
        sa.insert(t.app_user).values(
            email=email.strip().lower(), name=name, password_hash=password_hash, locale=locale,
            created_at=now,
        )
    )
    return inserted_id(result)


def insert_grant(conn: Connection, *, user_id: int, role: Role, unit_id: int,
                 now: dt.datetime) -> int:
    exists = conn.execute(
        sa.select(t.role_grant.c.id).where(
            t.role_grant.c.user_id == user_id, t.role_grant.c.role == role,
            t.role_grant.c.unit_id == unit_id,
        )
    ).first()
    if exists:
        raise Conflict("users.user_already_role_unit", role=role, where="role")
    result = conn.execute(
        sa.insert(t.role_grant).values(user_id=user_id, role=str(role), unit_id=unit_id,
                                       created_at=now)
    )
    return inserted_id(result)


def list_users(conn: Connection, actor: Actor) -> list[RowMapping]:
    """Users with at least one grant inside the actor's user-management scope."""
    vis = actor.scope.visibility(Permission.MANAGE_USERS)
    in_scope = sa.select(t.role_grant.c.user_id).where(visible(vis, t.role_grant.c.unit_id))
    query = (
        sa.select(t.app_user.c.id, t.app_user.c.email, t.app_user.c.name, t.app_user.c.active,
                  t.app_user.c.last_login_at)
        .where(t.app_user.c.id.in_(in_scope))
        .order_by(t.app_user.c.id)
    )
    return list(conn.execute(query).mappings())


def grants_of(conn: Connection, user_id: int) -> list[RowMapping]:
    return grants_for(conn, [user_id])[user_id]


def grants_for(conn: Connection, user_ids: list[int]) -> dict[int, list[RowMapping]]:
    """The role grants of several users in one query, keyed by user id."""
    query = (
        sa.select(t.role_grant.c.user_id, t.role_grant.c.role,
                  t.org_unit.c.code.label("unit_code"), t.org_unit.c.name_zh,
                  t.org_unit.c.name_en, t.role_grant.c.unit_id)
        .join(t.org_unit, t.org_unit.c.id == t.role_grant.c.unit_id)
        .where(t.role_grant.c.user_id.in_(user_ids))
        .order_by(t.role_grant.c.id)
    )
    grouped: dict[int, list[RowMapping]] = {uid: [] for uid in user_ids}
    for row in conn.execute(query).mappings():
        grouped[row["user_id"]].append(row)
    return grouped


def set_last_login(conn: Connection, user_id: int, now: dt.datetime) -> None:
    conn.execute(sa.update(t.app_user).where(t.app_user.c.id == user_id).values(last_login_at=now))


def set_locale(conn: Connection, user_id: int, locale: str) -> None:
    conn.execute(sa.update(t.app_user).where(t.app_user.c.id == user_id).values(locale=locale))


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(sa.update(t.app_user).where(t.app_user.c.id == user_id)
                 .values(password_hash=password_hash))


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    conn.execute(sa.update(t.app_user).where(t.app_user.c.id == user_id).values(active=active))


def active_admin_ids(conn: Connection) -> set[int]:
    """Active users holding the admin role at some unit."""
    query = (
        sa.select(t.role_grant.c.user_id).distinct()
        .join(t.app_user, t.app_user.c.id == t.role_grant.c.user_id)
        .where(t.role_grant.c.role == str(Role.ADMIN), t.app_user.c.active)
    )
    return set(conn.execute(query).scalars())


def access_user(conn: Connection, actor: Actor, user_id: int) -> RowMapping:
    """A user the actor may manage: every one of their grants lies in the actor's
    user-management scope (a user with a grant above or beside it is out of reach)."""
    user = require_user(conn, user_id)
    if not may_manage(actor, grants_of(conn, user_id)):
        raise NotFound("users.user_does_not_exist", user_id=user_id, where="user")
    return user


def may_manage(actor: Actor, grants: list[RowMapping]) -> bool:
    """Whether the actor's user-management scope covers every one of these grants."""
    units = {g["unit_id"] for g in grants}
    return bool(units) and units <= actor.scope.visibility(Permission.MANAGE_USERS).unit_ids


# --- sessions ------------------------------------------------------------------------------

def insert_session(conn: Connection, *, token_hash: str, user_id: int, csrf_token: str,
                   now: dt.datetime, expires_at: dt.datetime) -> None:
    conn.execute(sa.delete(t.web_session).where(t.web_session.c.expires_at < now))
    conn.execute(
        sa.insert(t.web_session).values(
            token_hash=token_hash, user_id=user_id, csrf_token=csrf_token, created_at=now,
            expires_at=expires_at,
        )
    )


def session_by_hash(conn: Connection, token_hash: str, now: dt.datetime) -> RowMapping | None:
    return conn.execute(
        sa.select(t.web_session).where(
            t.web_session.c.token_hash == token_hash, t.web_session.c.expires_at > now
        )
    ).mappings().first()


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(sa.delete(t.web_session).where(t.web_session.c.token_hash == token_hash))


def delete_sessions_of(conn: Connection, user_id: int, *, keep: str | None = None) -> int:
    """End every session of a user, but the one whose token hash is `keep`; how many ended."""
    query = sa.delete(t.web_session).where(t.web_session.c.user_id == user_id)
    if keep is not None:
        query = query.where(t.web_session.c.token_hash != keep)
    return conn.execute(query).rowcount


def require_user(conn: Connection, user_id: int) -> RowMapping:
    row = conn.execute(sa.select(t.app_user).where(t.app_user.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFound("users.user_does_not_exist", user_id=user_id, where="user")
    return row


def check_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 320:
        raise InvalidInput("users.not_mail_address", email=email, where="email")
    return email
