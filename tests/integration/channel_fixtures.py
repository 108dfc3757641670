"""Real local servers for the invitation channel tests: an SMTP server (aiosmtpd) that refuses
some recipients the way real servers do, and an HTTP server acting as an SMS provider."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller

from tests.integration.closed_loop_fixtures import allow_local_targets, free_port
from tests.local_http import QuietHandler, serving
from tiyan.context import Context


@dataclass
class MailServer:
    """Accepts mail, except to addresses starting with `bounce` (550) or `later` (451)."""

    port: int
    messages: list[Message] = field(default_factory=list)
    refusing_later: bool = True

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: Any) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("later") and self.server.refusing_later:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        self.server.messages.append(message_from_bytes(raw, policy=policy.default))
        return "250 OK"


@pytest.fixture
def mail_server(ctx: Context) -> Iterator[MailServer]:
    server = MailServer(free_port())
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port)
    controller.start()
    ctx.settings = ctx.settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_from": "cx@tiyan.test",
        "public_url": "http://testserver"})
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class SmsProvider:
    """Answers each form POST with `status`; records the forms and the headers."""

    url: str = ""
    forms: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def sms_provider(ctx: Context) -> Iterator[SmsProvider]:
    provider = SmsProvider()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            provider.forms.append({k: v[0] for k, v in parse_qs(body).items()})
            provider.headers.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(provider.status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if provider.status == 200 else b'{"error": "bad"}')

    with serving(Handler) as base:
        provider.url = f"{base}/sms/send"
        ctx.settings = ctx.settings.model_copy(update={
            "sms_url": provider.url, "sms_to_field": "mobile", "sms_text_field": "content",
            "sms_reference_field": "msg_ref", "sms_sender": "TIYAN",
            "sms_auth_value": "Bearer sms-secret", "sms_callback_key": "cb-key",
            "public_url": "http://testserver"})
        allow_local_targets(ctx)
        yield provider
