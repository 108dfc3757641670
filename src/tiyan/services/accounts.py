"""Use cases for users, roles, sign-in, sessions and API tokens (all audited)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission, Role
from tiyan.errors import Forbidden, InvalidInput, NotAuthenticated
from tiyan.security import MIN_PASSWORD_LENGTH, new_token, token_hash
from tiyan.store import audit, users
from tiyan.store.org import unit_by_code
from tiyan.store.scoped import load_actor


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(f'"{role}" is not a role; choose one of {known}', where="role") from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                           where="password")


def do_create_user(ctx: Context, by: Actor | None, *, email: str, name: str, password: str,
                   role: str, unit_code: str, locale: str | None = None) -> int:
    """Create a user with one role at one unit. `by=None` is the command line (an operator)."""
    email = users.check_email(email)
    check_password(password)
    grant_role = check_role(role)
    password_hash = ctx.passwords.hash(password)
    now = ctx.now()
    with ctx.db.write() as conn:
        unit = unit_by_code(conn, unit_code)
        if by is not None:
            by.require(Permission.MANAGE_USERS, unit["id"])
        user_id = users.insert_user(conn, email=email, name=name, password_hash=password_hash,
                                    now=now, locale=locale)
        users.insert_grant(conn, user_id=user_id, role=grant_role, unit_id=unit["id"], now=now)
        audit.record(conn, at=now, user_id=by.user_id if by else None, action="user.create",
                     entity="user", entity_id=user_id, unit_id=unit["id"],
                     detail={"email": email, "role": grant_role.value, "unit": unit_code})
    return user_id


def do_grant_role(ctx: Context, by: Actor | None, *, user_id: int, role: str,
                  unit_code: str) -> None:
    grant_role = check_role(role)
    now = ctx.now()
    with ctx.db.write() as conn:
        unit = unit_by_code(conn, unit_code)
        if by is not None:
            by.require(Permission.MANAGE_USERS, unit["id"])
        users.require_user(conn, user_id)
        users.insert_grant(conn, user_id=user_id, role=grant_role, unit_id=unit["id"], now=now)
        audit.record(conn, at=now, user_id=by.user_id if by else None, action="role.grant",
                     entity="user", entity_id=user_id, unit_id=unit["id"],
                     detail={"role": grant_role.value, "unit": unit_code})


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    session_token: str
    csrf_token: str
    expires_at: dt.datetime


def sign_in(ctx: Context, email: str, password: str, ip: str | None = None) -> SignedIn:
    now = ctx.now()
    with ctx.db.read() as conn:
        user = users.user_by_email(conn, email)
    ok = ctx.passwords.verify(user["password_hash"] if user else None, password)
    if not ok or user is None or not user["active"]:
        with ctx.db.write() as conn:
            audit.record(conn, at=now, user_id=user["id"] if user else None,
                         action="signin.failed", entity="user",
                         detail={"email": email[:320]}, ip=ip)
        raise NotAuthenticated("wrong e-mail or password")
    with ctx.db.write() as conn:
        token, csrf = new_token(), secrets.token_urlsafe(24)
        expires = now + dt.timedelta(hours=ctx.settings.session_hours)
        users.insert_session(conn, token_hash=token_hash(token), user_id=user["id"],
                             csrf_token=csrf, now=now, expires_at=expires)
        users.set_last_login(conn, user["id"], now)
        audit.record(conn, at=now, user_id=user["id"], action="signin", entity="user",
                     entity_id=user["id"], ip=ip)
    return SignedIn(user["id"], token, csrf, expires)


def sign_out(ctx: Context, session_token: str) -> None:
    with ctx.db.write() as conn:
        users.delete_session(conn, token_hash(session_token))


@dataclass(frozen=True)
class WebSession:
    actor: Actor
    csrf_token: str


def resume_session(ctx: Context, session_token: str) -> WebSession:
    with ctx.db.read() as conn:
        row = users.session_by_hash(conn, token_hash(session_token), ctx.now())
        if row is None:
            raise NotAuthenticated("your session has ended; please sign in again")
        return WebSession(load_actor(conn, row["user_id"]), row["csrf_token"])


def actor_for_api_token(ctx: Context, token: str) -> Actor:
    with ctx.db.read() as conn:
        user_id = users.user_id_for_token(conn, token_hash(token))
        if user_id is None:
            raise NotAuthenticated("the API token is unknown or revoked")
        return load_actor(conn, user_id)


def do_create_token(ctx: Context, *, email: str, name: str = "cli") -> str:
    token = new_token("ty_")
    now = ctx.now()
    with ctx.db.write() as conn:
        user = users.user_by_email(conn, email)
        if user is None:
            raise InvalidInput(f'there is no user with e-mail "{email}"', where="email")
        token_id = users.insert_token(conn, user_id=user["id"], name=name,
                                      token_hash=token_hash(token), now=now)
        audit.record(conn, at=now, user_id=user["id"], action="token.create", entity="api_token",
                     entity_id=token_id)
    return token


def do_set_locale(ctx: Context, actor: Actor, locale: str) -> None:
    with ctx.db.write() as conn:
        users.set_locale(conn, actor.user_id, locale)


def require_permission(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden(f"you do not have the '{permission}' permission")
