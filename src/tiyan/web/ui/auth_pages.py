"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.errors import Forbidden, NotAuthenticated, TooManyRequests
from tiyan.services.accounts import do_set_locale, sign_in, sign_out
from tiyan.web.client_address import client_address
from tiyan.web.cookies import forget_cookie, remember_session, set_cookie
from tiyan.web.deps import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedSession,
    ContextDep,
    translator,
    web_session,
)
from tiyan.web.i18n import LOCALES
from tiyan.web.ui.messages import error_text
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ctx: ContextDep, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", next=_safe_next(next), login_csrf=token)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request, ctx: ContextDep,
    email: Annotated[str, Form(max_length=320)], password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "", next: Annotated[str, Form()] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    try:
        if not cookie or not secrets.compare_digest(cookie, csrf_token):
            raise Forbidden("auth_pages.sign_form_expired_please")
        signed = sign_in(ctx, email, password, ip=client_address(request))
    except (NotAuthenticated, Forbidden, TooManyRequests) as exc:
        message = error_text(translator(request), exc, "login.error.",
                             minutes=ctx.settings.signin_window_minutes)
        return render(request, "login.html", status_code=exc.status, next=_safe_next(next),
                      login_csrf=cookie or secrets.token_urlsafe(24), error=message, email=email)
    response = RedirectResponse(_safe_next(next), status_code=303)
    remember_session(request, response, signed)
    forget_cookie(request, response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, ctx: ContextDep, session: CheckedSession) -> Response:
    if session is not None:
        sign_out(ctx, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    forget_cookie(request, response, SESSION_COOKIE)
    return response


@router.get("/lang/{locale}")
def switch_language(request: Request, ctx: ContextDep, locale: str, next: str = "/") -> Response:
    chosen = locale if locale in LOCALES else LOCALES[0]
    session = web_session(request)
    if session is not None:
        do_set_locale(ctx, session.actor, chosen)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, response, LANG_COOKIE, chosen, max_age=365 * 86400)
    return response


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
