"""API: one's password and API tokens; administrators reset passwords, deactivate users and
list or revoke the tokens of the users they manage. These endpoints need the browser session
or an admin-scoped token (see `tiyan.domain.access.TokenScope`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tiyan.services import accounts
from tiyan.services import api_tokens as tokens
from tiyan.web.api import account_schemas as s
from tiyan.web.api.params import RowId
from tiyan.web.api.v1 import ERRORS
from tiyan.web.client_address import client_address
from tiyan.web.cookies import remember_session
from tiyan.web.deps import SESSION_COOKIE, ApiActor, ContextDep

router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]


@router.post("/me/password", status_code=204, tags=["access"])
def change_password(body: s.PasswordChange, request: Request, ctx: ContextDep,
                    actor: ApiActor) -> Response:
    """Change your password. Every other session of yours ends; called from the browser, its
    session continues under a new cookie."""
    by_session = actor.token_scope is None  # not a Bearer token: the browser's session
    signed = accounts.do_change_password(
        ctx, actor, current=body.current_password, new=body.new_password,
        session_token=request.cookies.get(SESSION_COOKIE) if by_session else None,
        ip=client_address(request))
    response = Response(status_code=204)
    if signed is not None:
        remember_session(request, response, signed)
    return response


@router.post("/users/{user_id}/password", status_code=204, tags=["access"])
def reset_password(user_id: RowId, body: s.PasswordReset, request: Request, ctx: ContextDep,
                   actor: ApiActor) -> Response:
    """Set another user's password (administrators); all their sessions end."""
    accounts.do_reset_password(ctx, actor, user_id=user_id, new=body.new_password,
                               ip=client_address(request))
    return Response(status_code=204)


@router.post("/users/{user_id}/deactivate", status_code=204, tags=["access"])
def deactivate_user(user_id: RowId, request: Request, ctx: ContextDep,
                    actor: ApiActor) -> Response:
    """The user can no longer sign in; their sessions end and their API tokens are revoked."""
    accounts.do_set_active(ctx, actor, user_id=user_id, active=False, ip=client_address(request))
    return Response(status_code=204)


@router.post("/users/{user_id}/activate", status_code=204, tags=["access"])
def activate_user(user_id: RowId, request: Request, ctx: ContextDep,
                  actor: ApiActor) -> Response:
    accounts.do_set_active(ctx, actor, user_id=user_id, active=True, ip=client_address(request))
    return Response(status_code=204)


@router.get("/tokens", response_model=list[s.TokenOut], tags=["access"])
def list_tokens(ctx: ContextDep, actor: ApiActor,
                all_users: Annotated[bool, Query(description="administrators: the tokens of "
                                                 "every user they manage")] = False,
                ) -> list[s.TokenOut]:
    rows = tokens.list_tokens(ctx, actor, all_users=all_users)
    return [s.TokenOut.model_validate(dict(r)) for r in rows]


@router.post("/tokens", response_model=s.TokenCreated, status_code=201, tags=["access"])
def create_token(body: s.TokenIn, ctx: ContextDep, actor: ApiActor) -> s.TokenCreated:
    """A new token acting as you; its secret is in this answer only."""
    issued = tokens.do_create_token(ctx, actor, tokens.TokenRequest(
        body.name, body.scope, body.expires_days, body.never_expires))
    return s.TokenCreated(id=issued.id, token=issued.secret, name=issued.name,
                          scope=issued.scope.value, expires_at=issued.expires_at)


@router.delete("/tokens/{token_id}", status_code=204, tags=["access"])
def revoke_token(token_id: RowId, ctx: ContextDep, actor: ApiActor) -> Response:
    tokens.do_revoke_token(ctx, actor, token_id)
    return Response(status_code=204)
