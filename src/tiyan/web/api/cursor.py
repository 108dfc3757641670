"""Opaque pagination cursors."""

from __future__ import annotations

import base64
import datetime as dt

from tiyan.errors import InvalidInput


def encode_cursor(last_id: int, at: dt.datetime | None = None) -> str:
    raw = f"id:{last_id}" if at is None else f"at:{at.isoformat()}|{last_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """An id cursor (lists ordered by id)."""
    kind, value = _open(cursor)
    if kind is None:
        return None
    if kind != "id" or not value.isdigit() or len(value) > 18:
        raise _foreign()
    return int(value)


def decode_time_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    """A (time, id) cursor (lists ordered by time, newest first)."""
    kind, value = _open(cursor)
    if kind is None:
        return None
    moment, _, last_id = value.partition("|")
    try:
        at = dt.datetime.fromisoformat(moment)
    except ValueError:
        raise _foreign() from None
    if kind != "at" or at.tzinfo is None or not last_id.isdigit() or len(last_id) > 18:
        raise _foreign()
    return at, int(last_id)


def _open(cursor: str | None) -> tuple[str | None, str]:
    if not cursor:
        return None, ""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise _foreign() from None
    return kind, value


def _foreign() -> InvalidInput:
    return InvalidInput("cursor.cursor_not_api_gave", where="cursor")
