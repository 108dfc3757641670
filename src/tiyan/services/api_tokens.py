"""API tokens: create (the secret is shown once), authenticate, list and revoke (all audited).

A token acts as its user, narrowed by its scope (`tiyan.domain.access.TokenScope`): read, write
or admin. It expires after `TIYAN_API_TOKEN_DAYS` unless another lifetime, or none, is asked for.
Only the SHA-256 hash of the secret is stored.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission, TokenScope, check_token_request
from tiyan.errors import InvalidInput, NotAuthenticated, NotFound
from tiyan.security import new_token, token_hash
from tiyan.store import api_tokens, audit, users
from tiyan.store.db import committed_now
from tiyan.store.scoped import load_actor

TOKEN_PREFIX = "ty_"
MAX_DAYS = 3650


@dataclass(frozen=True)
class TokenRequest:
    """What a new token should be: a name, a scope, and its lifetime in days (none: the
    configured default), or `never_expires`, which must be asked for explicitly."""

    name: str
    scope: str
    expires_days: int | None = None
    never_expires: bool = False


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # shown once; only its hash is kept
    name: str
    scope: TokenScope
    expires_at: dt.datetime | None


def check_token_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("api_tokens.token_needs_name_characters", where="name")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidInput("api_tokens.token_name_cannot_hold", where="name")
    return name


def check_scope(scope: str) -> TokenScope:
    try:
        return TokenScope(scope)
    except ValueError:
        known = ", ".join(s.value for s in TokenScope)
        raise InvalidInput("api_tokens.not_token_scope_choose", scope=scope, known=known,
                           where="scope") from None


def expiry(ctx: Context, request: TokenRequest) -> dt.datetime | None:
    if request.never_expires:
        if request.expires_days is not None:
            raise InvalidInput("api_tokens.choose_lifetime_days_no",
                               where="expires_days")
        return None
    days = ctx.settings.api_token_days if request.expires_days is None else request.expires_days
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("api_tokens.token_lives_days", max_days=MAX_DAYS, where="expires_days")
    return ctx.now() + dt.timedelta(days=days)


def do_create_token(ctx: Context, by: Actor | None, request: TokenRequest, *,
                    email: str | None = None) -> IssuedToken:
    """A token for the acting user (`by`), or, from the command line (`by=None`), for the user
    with `email`."""
    name, scope = check_token_name(request.name), check_scope(request.scope)
    expires_at, secret, now = expiry(ctx, request), new_token(TOKEN_PREFIX), ctx.now()
    if by is not None:
        by.require_full_credential()
    with ctx.db.write() as conn:
        user_id = by.user_id if by is not None else _user_with_email(conn, email or "")
        token_id = api_tokens.insert_token(conn, user_id=user_id, name=name, scope=scope,
                                           token_hash=token_hash(secret), now=now,
                                           expires_at=expires_at)
        audit.record(conn, at=now, user_id=user_id, action="token.create", entity="api_token",
                     entity_id=token_id, detail={"name": name, "scope": scope.value,
                                                 "expires_at": _iso(expires_at)})
    return IssuedToken(token_id, secret, name, scope, expires_at)


def _user_with_email(conn: Connection, email: str) -> int:
    user = users.user_by_email(conn, email)
    if user is None:
        raise InvalidInput("common.no_user_mail", email=email, where="email")
    return int(user["id"])


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def actor_for_api_token(ctx: Context, token: str, method: str = "GET") -> Actor:
    """The user a Bearer token acts as, narrowed to its scope; 401 for an unknown, revoked or
    expired token or a deactivated user, 403 for a read token asked to write."""
    now = ctx.now()
    with ctx.db.read() as conn:
        row = check_live(api_tokens.token_by_hash(conn, token_hash(token))
                         if len(token) <= 200 else None, now)
        actor = load_actor(conn, row["user_id"], TokenScope(row["scope"]))
    check_token_request(TokenScope(row["scope"]), method)
    if api_tokens.needs_touch(row, now):  # before the request writes, kept if it fails
        with committed_now(ctx.db) as conn:
            api_tokens.touch(conn, row["id"], now)
    return actor


def check_live(row: RowMapping | None, now: dt.datetime) -> RowMapping:
    if row is None:
        raise NotAuthenticated("api_tokens.api_token_unknown", where="token")
    if row["revoked_at"] is not None:
        raise NotAuthenticated("api_tokens.api_token_revoked", revoked_at=row['revoked_at'],
                               where="token")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise NotAuthenticated("api_tokens.api_token_expired_create", expires_at=row['expires_at'],
                               where="token")
    return row


def list_tokens(ctx: Context, by: Actor | None, *, all_users: bool = False) -> list[RowMapping]:
    """The acting user's own tokens; with `all_users`, those of every user they may manage
    (`by=None`, the command line: every token)."""
    with ctx.db.read() as conn:
        if by is None:
            return api_tokens.all_tokens(conn)
        if not all_users:
            return api_tokens.tokens_of(conn, by.user_id)
        by.require_full_credential()
        by.require(Permission.MANAGE_USERS)
        return api_tokens.tokens_in_scope(conn, by)


def do_revoke_token(ctx: Context, by: Actor | None, token_id: int) -> None:
    """Revoke one's own token, or (administrators) one of a user they may manage."""
    now = ctx.now()
    if by is not None:
        by.require_full_credential()
    with ctx.db.write() as conn:
        row = api_tokens.require_token(conn, token_id)
        if by is not None and row["user_id"] != by.user_id:
            _require_manages(conn, by, row["user_id"], token_id)
        api_tokens.revoke(conn, token_id, now)
        audit.record(conn, at=now, user_id=by.user_id if by else None, action="token.revoke",
                     entity="api_token", entity_id=token_id,
                     detail={"owner": row["email"], "name": row["name"]})


def _require_manages(conn: Connection, by: Actor, user_id: int, token_id: int) -> None:
    if not users.may_manage(by, users.grants_of(conn, user_id)):
        raise NotFound("common.api_token_does_not", token_id=token_id, where="token")
