"""Log lines for operators: text for a terminal or one JSON object a line (`TIYAN_LOG_FORMAT`),
each carrying the id of the web request it belongs to.

    configure_logging(settings)          # once per process: serve, worker, dev-cluster
    log.info("worker started", extra={"worker": name})

Structured values go into `extra` (they become JSON fields, or `key=value` after a text line),
not into the message. No personal data belongs in a log line: call sites pass ids, kinds and
error classes, never e-mail addresses, phone numbers or comments; as a second line of defence
the message and any traceback have e-mail addresses and long digit runs (phone numbers)
masked before they are written.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import uuid
from typing import Any, TextIO

from tiyan.settings import Settings

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tiyan_request_id", default=None)
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)\+?(?:\d{10,15}|\d{3}[ -]\d{4}[ -]\d{4})(?!\d)")

# The attributes every LogRecord has (and uvicorn's terminal colours); anything else on a
# record came from `extra`.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message", "asctime", "request_id", "color_message"}


def request_id_for(incoming: str | None) -> str:
    """The id of a request: the caller's X-Request-ID when it looks like an id (8-64 letters,
    digits or `._:-`, so it cannot forge log lines or carry a message), else a new one."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def scrub(text: str) -> str:
    """Mask e-mail addresses and phone numbers (10 to 15 digits in a row, or written as
    138 1234 5678); dates, times and ids stay readable."""
    return _PHONE.sub("[number]", _EMAIL.sub("[e-mail]", text))


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items()
            if key not in _RECORD_FIELDS and not key.startswith("_")}


def _message_and_trace(formatter: logging.Formatter,
                       record: logging.LogRecord) -> tuple[str, str | None]:
    message = scrub(record.getMessage())
    trace = formatter.formatException(record.exc_info) if record.exc_info else None
    return message, scrub(trace) if trace else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, the
    record's extra fields, and the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        message, trace = _message_and_trace(self, record)
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": message,
        }
        if getattr(record, "request_id", None):
            line["request_id"] = record.request_id  # type: ignore[attr-defined]
        line.update(_extras(record))
        if trace:
            line["exception"] = trace
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value …` and the traceback below."""

    def format(self, record: logging.LogRecord) -> str:
        message, trace = _message_and_trace(self, record)
        when = dt.datetime.fromtimestamp(record.created, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        rid = getattr(record, "request_id", None)
        parts = [when, record.levelname, record.name, f"[{rid}]" if rid else "", message]
        parts += [f"{key}={value}" for key, value in _extras(record).items()]
        text = " ".join(part for part in parts if part)
        return f"{text}\n{trace}" if trace else text


def configure_logging(settings: Settings) -> None:
    """Send tiyan's, uvicorn's and the libraries' log records to stderr in the chosen format
    (replacing whatever handlers the root logger had)."""
    handler = log_handler(settings, sys.stderr)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # tiyan.access replaces it


def log_handler(settings: Settings, stream: TextIO) -> logging.Handler:
    """A handler writing to `stream` in the format the settings ask for, with request ids."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    return handler
