"""Real local servers for the closed-loop tests: an SMTP server (aiosmtpd) and an HTTP receiver."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.local_http import QuietHandler, serving
from tiyan.context import Context


@dataclass
class Mailbox:
    port: int
    messages: list[Message] = field(default_factory=list)

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        self.box.messages.append(message_from_bytes(raw, policy=policy.default))
        return "250 OK"


def allow_local_targets(ctx: Context) -> None:
    """Let webhooks, notifications and the SMS gateway reach this test's servers on 127.0.0.1:
    the outbound policy refuses loopback unless an administrator lists it."""
    ctx.settings = ctx.settings.model_copy(update={"outbound_allowed_hosts": "127.0.0.1"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Inbox:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def http_inbox(ctx: Context) -> Iterator[Inbox]:
    inbox = Inbox("")
    allow_local_targets(ctx)

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            inbox.bodies.append(json.loads(body))
            inbox.headers.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(inbox.status)
            self.end_headers()

    with serving(Handler) as base:
        inbox.url = f"{base}/hook"
        yield inbox
