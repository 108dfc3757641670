"""API tokens: stored as SHA-256 hashes of the secret, with a scope, an expiry and a last use."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.errors import NotFound
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import visible

# The last use is written at most once a minute per token, not on every request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def insert_token(conn: Connection, *, user_id: int, name: str, scope: str, token_hash: str,
                 now: dt.datetime, expires_at: dt.datetime | None) -> int:
    result = conn.execute(
        sa.insert(t.api_token).values(user_id=user_id, name=name, scope=scope,
                                      token_hash=token_hash, created_at=now,
                                      expires_at=expires_at)
    )
    return inserted_id(result)


def token_by_hash(conn: Connection, token_hash: str) -> RowMapping | None:
    return conn.execute(
        sa.select(t.api_token).where(t.api_token.c.token_hash == token_hash)
    ).mappings().first()


def touch(conn: Connection, token_id: int, now: dt.datetime) -> None:
    conn.execute(sa.update(t.api_token).where(t.api_token.c.id == token_id)
                 .values(last_used_at=now))


def needs_touch(row: RowMapping, now: dt.datetime) -> bool:
    last = row["last_used_at"]
    return last is None or now - last >= LAST_USED_PRECISION


def _listing() -> sa.Select[tuple[object, ...]]:
    token = t.api_token.c
    return (
        sa.select(token.id, token.user_id, token.name, token.scope, token.created_at,
                  token.expires_at, token.last_used_at, token.revoked_at,
                  t.app_user.c.email)
        .join(t.app_user, t.app_user.c.id == token.user_id)
        .order_by(token.id.desc())
    )


def tokens_of(conn: Connection, user_id: int) -> list[RowMapping]:
    return list(conn.execute(_listing().where(t.api_token.c.user_id == user_id)).mappings())


def all_tokens(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(_listing()).mappings())


def tokens_in_scope(conn: Connection, actor: Actor) -> list[RowMapping]:
    """The tokens of every user whose grants all lie in the actor's user-management scope."""
    vis = actor.scope.visibility(Permission.MANAGE_USERS)
    inside = sa.select(t.role_grant.c.user_id).where(visible(vis, t.role_grant.c.unit_id))
    outside = sa.select(t.role_grant.c.user_id).where(~visible(vis, t.role_grant.c.unit_id))
    query = _listing().where(t.api_token.c.user_id.in_(inside),
                             t.api_token.c.user_id.not_in(outside))
    return list(conn.execute(query).mappings())


def require_token(conn: Connection, token_id: int) -> RowMapping:
    row = conn.execute(_listing().where(t.api_token.c.id == token_id)).mappings().first()
    if row is None:
        raise NotFound("common.api_token_does_not", token_id=token_id, where="token")
    return row


def revoke(conn: Connection, token_id: int, now: dt.datetime) -> None:
    conn.execute(sa.update(t.api_token)
                 .where(t.api_token.c.id == token_id, t.api_token.c.revoked_at.is_(None))
                 .values(revoked_at=now))


def revoke_all_of(conn: Connection, user_id: int, now: dt.datetime) -> int:
    """Revoke every live token of a user; how many were revoked."""
    return conn.execute(
        sa.update(t.api_token)
        .where(t.api_token.c.user_id == user_id, t.api_token.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
