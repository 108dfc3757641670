"""One JSON error shape for the API, a friendly page or redirect for the web UI.

    {"error": {"code": "invalid_input", "key": "responses.not_whole_number",
               "message": "...", "where": "answers.nps"}}

`code` is the kind of error, `key` the message's entry in the error catalogue
(tiyan/error_messages), `message` its text in the caller's language (see error_locale).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tiyan.errors import InvalidInput, NotAuthenticated, TiyanError, error_text
from tiyan.store.db import fail_request
from tiyan.web.i18n import negotiate


def error_body(code: str, message: str, where: str | None = None,
               key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "key": key, "message": message}
    if where:
        body["where"] = where
    return {"error": body}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


HTTP_ERRORS = {404: ("not_found", "http.not_found"),
               405: ("method_not_allowed", "http.method_not_allowed")}


DEFAULT_ERROR_LOCALE = "zh-CN"  # Settings.default_locale's own default


def error_locale(request: Request) -> str:
    """The language of an error: a page's (?lang, cookie, the user's, Accept-Language); an API
    caller with a token is a program, so its Accept-Language comes before the user's."""
    from tiyan.web.deps import LANG_COOKIE, web_session

    # an error is answered whatever else is missing: an app without tiyan's context (a test's
    # bare app, a failure during start-up) answers in the default language of the settings
    ctx = getattr(request.app.state, "ctx", None)
    default = ctx.settings.default_locale if ctx is not None else DEFAULT_ERROR_LOCALE
    accept = request.headers.get("accept-language")
    token_actor = getattr(request.state, "api_token_actor", None)
    if token_actor is not None:
        return negotiate(request.query_params.get("lang"), None, None, accept,
                         token_actor.locale or default)
    session = web_session(request)
    return negotiate(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                     session.actor.locale if session else None, accept, default)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TiyanError)
    async def tiyan_error(request: Request, exc: TiyanError) -> Response:
        fail_request()  # roll back what the request wrote (tiyan.web.transactions)
        if not _is_api(request):
            return _page_error(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        body = error_body(exc.code, exc.text(error_locale(request)), exc.where, exc.key)
        return JSONResponse(body, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return await tiyan_error(request, validation_problem(exc))

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # SQLSTATE class 22 (data exception): a value the database cannot take, e.g. a NUL
        # byte in text or a number out of range. That is bad input, not a server fault.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "invalid value"
        error = InvalidInput("errors.value_cannot_stored_searched", reason=reason)
        return await tiyan_error(request, error)

    @app.exception_handler(OverflowError)
    async def overflow_error(request: Request, exc: OverflowError) -> Response:
        # SQLite's driver refuses integers beyond 64 bits before the database sees them; the
        # routes bound their ids, this keeps any number that slips through a 422, not a 500.
        error = InvalidInput("errors.number_out_range", exc=exc)
        return await tiyan_error(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        fail_request()
        code, key = HTTP_ERRORS.get(exc.status_code, ("http_error", None))
        message = (error_text(key, error_locale(request), {}) if key is not None
                   else str(exc.detail))
        return JSONResponse(error_body(code, message, key=key), exc.status_code,
                            headers=getattr(exc, "headers", None))


# What pydantic calls an error -> the catalogue's entry (validation.*) and the values it names.
VALIDATION_KINDS = {
    "missing": "missing", "extra_forbidden": "extra",
    "int_type": "int", "int_parsing": "int", "int_from_float": "int",
    "float_type": "number", "float_parsing": "number", "finite_number": "number",
    "decimal_type": "number", "decimal_parsing": "number",
    "bool_type": "bool", "bool_parsing": "bool", "string_type": "string",
    "list_type": "list", "tuple_type": "list", "set_type": "list",
    "dict_type": "object", "model_type": "object", "model_attributes_type": "object",
    "date_type": "date", "date_parsing": "date", "date_from_datetime_parsing": "date",
    "datetime_type": "datetime", "datetime_parsing": "datetime",
    "datetime_from_date_parsing": "datetime",
    "string_too_long": "too_long", "too_long": "too_many",
    "string_too_short": "too_short", "too_short": "too_few",
    "greater_than": "greater_than", "greater_than_equal": "at_least",
    "less_than": "less_than", "less_than_equal": "at_most",
    "literal_error": "choice", "enum": "choice", "string_pattern_mismatch": "pattern",
    "json_invalid": "json", "uuid_parsing": "string", "url_parsing": "url",
}
_LIMITS = ("max_length", "min_length", "gt", "ge", "lt", "le", "expected")


def validation_problem(exc: RequestValidationError) -> InvalidInput:
    """The first problem of a request pydantic refused, as an error of the catalogue that
    names the field (`where` keeps pydantic's location, e.g. body.score)."""
    first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ())]
    where = ".".join(loc) or None
    inside = loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc
    field = ".".join(inside) or "body"
    kind = VALIDATION_KINDS.get(str(first.get("type")), "invalid")
    context: dict[str, Any] = dict(first.get("ctx") or {})
    values = {name: context[name] for name in _LIMITS if name in context}
    if kind == "invalid":
        values["detail"] = str(first.get("msg"))
    return InvalidInput(f"validation.{kind}", field=field, where=where, **values)


def _page_error(request: Request, exc: TiyanError) -> Response:
    if isinstance(exc, NotAuthenticated):
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
    from tiyan.web.ui.render import render_error

    return render_error(request, exc)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
