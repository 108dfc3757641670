"""One JSON error shape for the API, a friendly page or redirect for the web UI.

    {"error": {"code": "invalid_input", "message": "...", "where": "answers.nps"}}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tiyan.errors import InvalidInput, NotAuthenticated, TiyanError
from tiyan.store.db import fail_request


def error_body(code: str, message: str, where: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if where:
        body["where"] = where
    return {"error": body}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TiyanError)
    async def tiyan_error(request: Request, exc: TiyanError) -> Response:
        fail_request()  # roll back what the request wrote (tiyan.web.transactions)
        if not _is_api(request):
            return _page_error(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse(error_body(exc.code, exc.message, exc.where), exc.status,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fail_request()
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return JSONResponse(error_body("invalid_input", str(first.get("msg")), where or None), 422)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # SQLSTATE class 22 (data exception): a value the database cannot take, e.g. a NUL
        # byte in text or a number out of range. That is bad input, not a server fault.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "invalid value"
        error = InvalidInput(f"a value cannot be stored or searched: {reason}")
        return await tiyan_error(request, error)

    @app.exception_handler(OverflowError)
    async def overflow_error(request: Request, exc: OverflowError) -> Response:
        # SQLite's driver refuses integers beyond 64 bits before the database sees them; the
        # routes bound their ids, this keeps any number that slips through a 422, not a 500.
        error = InvalidInput(f"a number is out of range: {exc}")
        return await tiyan_error(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        fail_request()
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code,
                            headers=getattr(exc, "headers", None))


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
