"""Every web request gets an id, an access-log line and its place in the metrics.

The id is the caller's `X-Request-ID` when it looks like one (a reverse proxy's, say), else a
new one; it is sent back in the answer's `X-Request-ID` header and carried by every log line
written while the request runs (tiyan.logs.REQUEST_ID; worker threads inherit it). The
access line and the metrics name the route's template (`/api/v1/responses/{response_id}`),
never the path as sent, which may hold a survey token or anything a client makes up.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiyan.logs import REQUEST_ID, request_id_for
from tiyan.metrics import observe_request
from tiyan.web.client_address import client_address

access = logging.getLogger("tiyan.access")
UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (`unmatched` when none did)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_for(Headers(scope=scope).get("x-request-id"))
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            observe_request(scope["method"], route, status, seconds)
            _access_line(scope, route, status, seconds)
            REQUEST_ID.reset(token)


def _access_line(scope: Scope, route: str, status: int, seconds: float) -> None:
    request = Request(scope)
    if not request.app.state.ctx.settings.access_log:
        return
    access.info("request", extra={
        "method": scope["method"], "route": route, "status": status,
        "duration_ms": round(seconds * 1000, 1), "client": client_address(request),
    })
