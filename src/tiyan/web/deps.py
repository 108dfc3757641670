"""FastAPI dependencies: the context, who is acting, the UI language, CSRF."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.errors import Forbidden, NotAuthenticated
from tiyan.services.accounts import WebSession, resume_session
from tiyan.services.api_tokens import actor_for_api_token
from tiyan.web.i18n import Translator, negotiate

SESSION_COOKIE = "tiyan_session"
LOGIN_CSRF_COOKIE = "tiyan_login_csrf"
LANG_COOKIE = "tiyan_lang"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_FIELDS = 20_000  # the survey builder posts a field per question text and option


def get_context(request: Request) -> Context:
    return request.app.state.ctx  # type: ignore[no-any-return]


ContextDep = Annotated[Context, Depends(get_context)]


def web_session(request: Request) -> WebSession | None:
    """The signed-in web session, if the request carries a valid session cookie."""
    if hasattr(request.state, "web_session"):
        cached: WebSession | None = request.state.web_session
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    session = None
    if token:
        try:
            session = resume_session(get_context(request), token)
        except NotAuthenticated:
            session = None
    request.state.web_session = session
    return session


async def supplied_csrf(request: Request) -> str | None:
    """The CSRF token an unsafe page request carries: the X-CSRF-Token header (htmx and
    scripts send it, see base.html) or the form field csrf_token."""
    if request.method not in UNSAFE_METHODS:
        return None
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    try:
        value = (await request.form(max_fields=MAX_FORM_FIELDS)).get("csrf_token")
    except Exception:  # noqa: BLE001 - an unreadable form carries no token (refused below)
        return None
    return value if isinstance(value, str) else None


def checked_session(request: Request,
                    supplied: Annotated[str | None, Depends(supplied_csrf)]) -> WebSession | None:
    """The web session, if any; an unsafe request of a session must carry its CSRF token.
    This is the one place where page requests are checked against cross-site forgery."""
    session = web_session(request)
    if session is not None and request.method in UNSAFE_METHODS:
        check_csrf(session, supplied)
    return session


def page_actor(session: Annotated[WebSession | None, Depends(checked_session)]) -> Actor:
    """The signed-in user of a web page (its unsafe requests carry the session's CSRF token)."""
    if session is None:
        raise NotAuthenticated("deps.please_sign")
    return session.actor


def api_actor(request: Request) -> Actor:
    """The caller of /api/v1: a Bearer token, or the browser session with a CSRF header."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        actor = actor_for_api_token(get_context(request), token.strip(), request.method)
        request.state.api_token_actor = actor  # errors speak the token user's language
        return actor
    session = web_session(request)
    if session is None:
        raise NotAuthenticated("deps.send_authorization_bearer_token")
    if request.method in UNSAFE_METHODS:
        check_csrf(session, request.headers.get("x-csrf-token"))
    return session.actor


def check_csrf(session: WebSession, supplied: str | None) -> None:
    if not supplied or not secrets.compare_digest(supplied, session.csrf_token):
        raise Forbidden("deps.form_expired_did_not",
                        where="csrf_token")


PageActor = Annotated[Actor, Depends(page_actor)]
CheckedSession = Annotated[WebSession | None, Depends(checked_session)]
ApiActor = Annotated[Actor, Depends(api_actor)]


def translator(request: Request) -> Translator:
    session = web_session(request)
    ctx = get_context(request)
    locale = negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        session.actor.locale if session else None,
        request.headers.get("accept-language"),
        ctx.settings.default_locale,
    )
    return Translator(locale)


TranslatorDep = Annotated[Translator, Depends(translator)]
