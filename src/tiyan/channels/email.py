"""E-mail over SMTP (the standard library's smtplib); errors come back as values, never raised."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from tiyan.metrics import delivered

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0


@dataclass(frozen=True)
class EmailOutcome:
    """What the SMTP server said: accepted (error None), or an error that is permanent (a 5xx
    refusal such as an unknown mailbox: sending again will not help) or temporary."""

    error: str | None = None
    permanent: bool = False


def send_email(server: SmtpServer, to: str, subject: str, body: str,
               message_id: str | None = None) -> str | None:
    """Hand one plain-text message to the SMTP server; returns an error text or None."""
    headers = {"Message-ID": message_id} if message_id else None
    return deliver_email(server, to, subject, body, headers).error


def sender_domain(sender: str) -> str:
    """The domain of the From address (for Message-IDs), else "tiyan.invalid"."""
    address = parseaddr(sender)[1]
    return address.rsplit("@", 1)[1] if "@" in address else "tiyan.invalid"


def stable_message_id(kind: str, row_id: int, sender: str) -> str:
    """A Message-ID that stays the same when one row's message is sent again."""
    return f"<{kind}.{row_id}@{sender_domain(sender)}>"


def deliver_email(server: SmtpServer, to: str, subject: str, body: str,
                  headers: Mapping[str, str] | None = None) -> EmailOutcome:
    """Hand one plain-text message to the SMTP server and say how it went. `headers` are
    added as they are (e.g. List-Unsubscribe); every message has a Date and a Message-ID (give
    a stable `Message-ID` in `headers` so a message sent again is known as the same one)."""
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    extra = dict(headers or {})
    message["Message-ID"] = extra.pop("Message-ID", None) or make_msgid(
        domain=sender_domain(server.sender))
    for name, value in extra.items():
        message[name] = value
    message.set_content(body)
    try:
        with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
            if server.starttls:
                smtp.starttls()
            if server.username:
                smtp.login(server.username, server.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        delivered("email", ok=False)
        log.warning("e-mail delivery failed", extra={
            "channel": "email", "error": type(exc).__name__,
            "smtp_code": _smtp_code(exc), "permanent": _is_permanent(exc)})
        return EmailOutcome(f"{type(exc).__name__}: {exc}"[:500], _is_permanent(exc))
    delivered("email", ok=True)
    return EmailOutcome()


def _smtp_code(exc: BaseException) -> int | None:
    """The server's reply code (for refused recipients: the first one's), never the address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return next((int(code) for code, _ in exc.recipients.values()), None)
    code = getattr(exc, "smtp_code", None)
    return int(code) if isinstance(code, int) else None


def _is_permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600 and exc.smtp_code not in (530, 535)
    return False
