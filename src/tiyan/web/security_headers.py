"""Security headers on every response: a Content-Security-Policy that allows no inline script
and no eval, and the headers that stop sniffing, framing and referrer leaks.

Pages pass data to their scripts only through JSON islands (`tiyan.web.page_data`) and load
scripts only from /static, so `script-src 'self'` holds on every page. Styles may be inline
(`style-src 'unsafe-inline'`): ECharts positions its tooltips with style attributes.

The API's documentation page (Swagger UI, FastAPI's own page) loads its bundle from a CDN and
starts it with one inline script; it gets a policy of its own that allows exactly that script
(by its hash) and that CDN, and nothing else inline.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "font-src 'self'", "connect-src 'self'", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
))
SWAGGER_CDN = "https://cdn.jsdelivr.net"

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"


def docs_policy(app: FastAPI) -> str:
    """The policy of the API documentation page: its one inline script, by hash, and the CDN
    (the page is made here as FastAPI makes it, so the hash is that of the script it serves)."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "", title=app.title,
        oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
        init_oauth=app.swagger_ui_init_oauth, swagger_ui_parameters=app.swagger_ui_parameters)
    html = bytes(page.body).decode()
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in scripts)
    return "; ".join((
        "default-src 'self'", f"script-src 'self' {SWAGGER_CDN} {hashes}",
        f"style-src 'self' 'unsafe-inline' {SWAGGER_CDN}", "img-src 'self' data: https:",
        "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
    ))


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (a handler's own win)."""

    def __init__(self, app: ASGIApp, *, hsts: bool, policies: dict[str, str]) -> None:
        self.app = app
        self.hsts = hsts
        self.policies = policies  # path -> policy for the few pages that need another one

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policies.get(scope["path"], PAGE_POLICY)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                for name, value in COMMON_HEADERS.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
