"""Your account (password, API tokens) and the administrators' user page (deactivate,
activate, reset a password). Every change goes through `tiyan.services.accounts` and
`tiyan.services.api_tokens` (checked, scoped, audited); errors are shown translated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import InvalidInput, TiyanError
from tiyan.security import MIN_PASSWORD_LENGTH
from tiyan.services import accounts
from tiyan.services import api_tokens as tokens
from tiyan.store import users
from tiyan.web.api.params import MAX_ID
from tiyan.web.client_address import client_address
from tiyan.web.cookies import remember_session
from tiyan.web.deps import (
    SESSION_COOKIE,
    ContextDep,
    PageActor,
    translator,
)
from tiyan.web.ui.messages import error_text
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
# Longer than any password may be: a too long one is refused by the service, in words.
Secret = Annotated[str, Form(max_length=4096)]


def _message(request: Request, ctx: Context, exc: TiyanError) -> str:
    return error_text(translator(request), exc, "account.error.",
                      minutes=ctx.settings.signin_window_minutes, days=tokens.MAX_DAYS)


def _row_id(value: int) -> int:
    return value if 1 <= value <= MAX_ID else 0


# --- your own account ----------------------------------------------------------------------

@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, ctx: ContextDep, actor: PageActor,
                 done: str | None = None) -> HTMLResponse:
    return _account(request, ctx, actor, done=done if done in ("password", "revoked") else None)


def _account(request: Request, ctx: Context, actor: Actor, *, status_code: int = 200,
             **values: object) -> HTMLResponse:
    rows = tokens.list_tokens(ctx, actor)
    return render(request, "account.html", actor=actor, tokens=rows, now=ctx.now(),
                  default_days=ctx.settings.api_token_days, min_password=MIN_PASSWORD_LENGTH,
                  status_code=status_code, **values)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, ctx: ContextDep, actor: PageActor, current: Secret,
                    new: Secret, confirm: Secret) -> Response:
    try:
        if new != confirm:
            raise InvalidInput("account_pages.two_new_passwords_differ", where="confirm")
        signed = accounts.do_change_password(
            ctx, actor, current=current, new=new,
            session_token=request.cookies.get(SESSION_COOKIE), ip=client_address(request))
    except TiyanError as exc:
        return _account(request, ctx, actor, status_code=exc.status,
                        password_error=_message(request, ctx, exc))
    response = RedirectResponse("/account?done=password", status_code=303)
    if signed is not None:
        remember_session(request, response, signed)
    return response


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(request: Request, ctx: ContextDep, actor: PageActor,
                 name: Annotated[str, Form(max_length=200)],
                 scope: Annotated[str, Form(max_length=16)] = "read",
                 expires_days: Annotated[str, Form(max_length=8)] = "",
                 never_expires: Annotated[str, Form(max_length=8)] = "") -> HTMLResponse:
    try:
        wanted = tokens.TokenRequest(name, scope, _days(expires_days), never_expires == "on")
        issued = tokens.do_create_token(ctx, actor, wanted)
    except TiyanError as exc:
        form = {"name": name, "scope": scope, "expires_days": expires_days}
        return _account(request, ctx, actor, status_code=exc.status, form=form,
                        token_error=_message(request, ctx, exc))
    return _account(request, ctx, actor, issued=issued)


def _days(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit():
        raise InvalidInput("account_pages.not_number_days", text=text, where="expires_days")
    return int(text)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, ctx: ContextDep, actor: PageActor) -> Response:
    tokens.do_revoke_token(ctx, actor, _row_id(token_id))
    return RedirectResponse("/account?done=revoked", status_code=303)


# --- administrators: users -------------------------------------------------------------------

@router.get("/admin/users", response_class=HTMLResponse)
def user_list(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.MANAGE_USERS)
    return _users(request, ctx, actor)


def _users(request: Request, ctx: Context, actor: Actor, *, status_code: int = 200,
           **values: object) -> HTMLResponse:
    with ctx.db.read() as conn:
        rows = users.list_users(conn, actor)
        grants = users.grants_for(conn, [r["id"] for r in rows])
    manageable = {uid for uid, held in grants.items() if users.may_manage(actor, held)}
    return render(request, "users.html", actor=actor, rows=rows, grants=grants,
                  manageable=manageable, min_password=MIN_PASSWORD_LENGTH,
                  status_code=status_code, **values)


@router.post("/admin/users/{user_id}/deactivate", response_class=HTMLResponse)
def deactivate(request: Request, user_id: int, ctx: ContextDep, actor: PageActor) -> Response:
    return _set_active(request, ctx, actor, user_id, False)


@router.post("/admin/users/{user_id}/activate", response_class=HTMLResponse)
def activate(request: Request, user_id: int, ctx: ContextDep, actor: PageActor) -> Response:
    return _set_active(request, ctx, actor, user_id, True)


def _set_active(request: Request, ctx: Context, actor: Actor, user_id: int,
                active: bool) -> Response:
    actor.require(Permission.MANAGE_USERS)
    try:
        accounts.do_set_active(ctx, actor, user_id=_row_id(user_id), active=active,
                               ip=client_address(request))
    except TiyanError as exc:
        return _users(request, ctx, actor, status_code=exc.status,
                      error=_message(request, ctx, exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(request: Request, user_id: int, ctx: ContextDep, actor: PageActor,
                   new: Secret) -> Response:
    actor.require(Permission.MANAGE_USERS)
    try:
        accounts.do_reset_password(ctx, actor, user_id=_row_id(user_id), new=new,
                                   ip=client_address(request))
    except TiyanError as exc:
        return _users(request, ctx, actor, status_code=exc.status,
                      error=_message(request, ctx, exc))
    return _users(request, ctx, actor, reset_done=_row_id(user_id))
