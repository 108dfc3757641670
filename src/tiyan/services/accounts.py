"""Use cases for users, roles, sign-in, sessions and API tokens (all audited)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission, Role, permission_words
from tiyan.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from tiyan.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, new_token, token_hash
from tiyan.store import api_tokens, audit, signin_limits, users
from tiyan.store.db import committed_now
from tiyan.store.org import unit_by_code
from tiyan.store.scoped import load_actor


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput("accounts.not_role_choose", role=role, known=known,
                           where="role") from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("accounts.password_needs_least_characters",
                           min_password_length=MIN_PASSWORD_LENGTH,
                           where="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("accounts.password_may_most_characters",
                           max_password_length=MAX_PASSWORD_LENGTH,
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
    """A new web session, when the password matches an active account and neither the account
    nor the client address has too many recent failures (counted by every process alike)."""
    attempt = Attempt(email.strip().lower()[:320], (ip or "-")[:64])
    begin_attempt(ctx, attempt)
    with ctx.db.read() as conn:
        user = users.user_by_email(conn, email)
    ok = ctx.passwords.verify(user["password_hash"] if user else None, password)
    if not ok or user is None or not user["active"]:
        fail_attempt(ctx, attempt, user["id"] if user else None, "signin.failed")
        if ok and user is not None:
            raise NotAuthenticated("accounts.account_been_deactivated", where="account")
        raise NotAuthenticated("accounts.wrong_mail_password")
    now = ctx.now()
    with ctx.db.write() as conn:
        signin_limits.forget_account(conn, attempt.account)
        signed = _start_session(ctx, conn, user["id"])
        users.set_last_login(conn, user["id"], now)
        audit.record(conn, at=now, user_id=user["id"], action="signin", entity="user",
                     entity_id=user["id"], ip=ip)
    return signed


@dataclass(frozen=True)
class Attempt:
    """A password check: the account (lower-case e-mail) and the client address it came from."""

    account: str
    address: str


def begin_attempt(ctx: Context, attempt: Attempt) -> None:
    """Count a password check before it runs (committed at once, so parallel tries count too);
    refuse it when the account or the address is over its limit in the window."""
    now = ctx.now()
    since = now - dt.timedelta(minutes=ctx.settings.signin_window_minutes)
    with committed_now(ctx.db) as conn:
        signin_limits.record_failure(conn, at=now, account=attempt.account,
                                     address=attempt.address, keep_since=since)
        per_account, per_address = signin_limits.failures_since(
            conn, since, account=attempt.account, address=attempt.address)
        over_account = per_account > ctx.settings.signin_failures_per_account
        if over_account or per_address > ctx.settings.signin_failures_per_address:
            raise TooManyRequests(
                "accounts.too_many_failed_sign",
                signin_window_minutes=ctx.settings.signin_window_minutes,
                where="account" if over_account else "address")


def fail_attempt(ctx: Context, attempt: Attempt, user_id: int | None, action: str) -> None:
    """The password did not match: the counted attempt stays a failure; audit it at once."""
    with committed_now(ctx.db) as conn:
        audit.record(conn, at=ctx.now(), user_id=user_id, action=action, entity="user",
                     detail={"email": attempt.account}, ip=attempt.address)


def _start_session(ctx: Context, conn: Connection, user_id: int) -> SignedIn:
    now = ctx.now()
    token, csrf = new_token(), secrets.token_urlsafe(24)
    expires = now + dt.timedelta(hours=ctx.settings.session_hours)
    users.insert_session(conn, token_hash=token_hash(token), user_id=user_id, csrf_token=csrf,
                         now=now, expires_at=expires)
    return SignedIn(user_id, token, csrf, expires)


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
            raise NotAuthenticated("accounts.your_session_ended_please")
        return WebSession(load_actor(conn, row["user_id"]), row["csrf_token"])


# --- passwords and deactivation ---------------------------------------------------------------

def do_change_password(ctx: Context, actor: Actor, *, current: str, new: str,
                       session_token: str | None, ip: str | None = None) -> SignedIn | None:
    """Change one's own password (the current one must match). Every session of the user ends;
    the one this change came from (`session_token`) is replaced by a new one, returned."""
    actor.require_full_credential()
    check_password(new)
    if new == current:
        raise InvalidInput("accounts.new_password_must_differ", where="password")
    attempt = Attempt(actor.email, (ip or "-")[:64])
    begin_attempt(ctx, attempt)
    with ctx.db.read() as conn:
        stored = users.require_user(conn, actor.user_id)["password_hash"]
    if not ctx.passwords.verify(stored, current):
        fail_attempt(ctx, attempt, actor.user_id, "password.change_failed")
        raise InvalidInput("accounts.current_password_wrong", where="current_password")
    new_hash, now = ctx.passwords.hash(new), ctx.now()
    with ctx.db.write() as conn:
        signin_limits.forget_account(conn, attempt.account)
        users.set_password_hash(conn, actor.user_id, new_hash)
        ended = users.delete_sessions_of(conn, actor.user_id)
        signed = _start_session(ctx, conn, actor.user_id) if session_token else None
        audit.record(conn, at=now, user_id=actor.user_id, action="password.change",
                     entity="user", entity_id=actor.user_id, ip=ip,
                     detail={"sessions_ended": ended})
    return signed


def do_reset_password(ctx: Context, by: Actor | None, *, user_id: int, new: str,
                      ip: str | None = None) -> None:
    """An administrator (or the operator, `by=None`) sets another user's password; every
    session of that user ends."""
    check_password(new)
    new_hash, now = ctx.passwords.hash(new), ctx.now()
    with ctx.db.write() as conn:
        unit_id = _managed_user(conn, by, user_id)
        users.set_password_hash(conn, user_id, new_hash)
        ended = users.delete_sessions_of(conn, user_id)
        audit.record(conn, at=now, user_id=by.user_id if by else None, action="password.reset",
                     entity="user", entity_id=user_id, unit_id=unit_id, ip=ip,
                     detail={"sessions_ended": ended})


def do_set_active(ctx: Context, by: Actor | None, *, user_id: int, active: bool,
                  ip: str | None = None) -> None:
    """Deactivate a user (they cannot sign in; their sessions end and their API tokens are
    revoked at once) or activate them again. Nobody deactivates themselves or the last active
    administrator."""
    now = ctx.now()
    with ctx.db.write() as conn:
        unit_id = _managed_user(conn, by, user_id)
        detail: dict[str, object] = {}
        if not active:
            check_may_deactivate(conn, by, user_id)
            detail = {"sessions_ended": users.delete_sessions_of(conn, user_id),
                      "tokens_revoked": api_tokens.revoke_all_of(conn, user_id, now)}
        users.set_active(conn, user_id, active)
        audit.record(conn, at=now, user_id=by.user_id if by else None,
                     action="user.activate" if active else "user.deactivate", entity="user",
                     entity_id=user_id, unit_id=unit_id, ip=ip, detail=detail)


def check_may_deactivate(conn: Connection, by: Actor | None, user_id: int) -> None:
    if by is not None and by.user_id == user_id:
        raise Forbidden("accounts.you_cannot_deactivate_your", where="user")
    if users.active_admin_ids(conn) == {user_id}:
        raise Conflict("accounts.last_active_administrator_make",
                       where="user")


def _managed_user(conn: Connection, by: Actor | None, user_id: int) -> int | None:
    """Check that `by` may manage the user; the unit of the user's first grant (for the audit)."""
    if by is None:
        users.require_user(conn, user_id)
    else:
        by.require(Permission.MANAGE_USERS)
        users.access_user(conn, by, user_id)
    grants = users.grants_of(conn, user_id)
    return grants[0]["unit_id"] if grants else None


def user_id_by_email(ctx: Context, email: str) -> int:
    with ctx.db.read() as conn:
        user = users.user_by_email(conn, email)
    if user is None:
        raise NotFound("common.no_user_mail", email=email, where="email")
    return int(user["id"])


def do_set_locale(ctx: Context, actor: Actor, locale: str) -> None:
    with ctx.db.write() as conn:
        users.set_locale(conn, actor.user_id, locale)


def require_permission(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden("accounts.you_do_not_permission",
                        permission=permission_words(permission))
