"""Bulk writing of responses and answers, shared by `tiyan demo` and `tiyan generate`.

This is the one place that bypasses the row-by-row write path, for loading volumes: it talks to
the driver directly (SQLite `executemany` with ids taken under the write lock, PostgreSQL
`COPY` with ids drawn from the sequence). Each call is one transaction of one batch, so memory
stays bounded and a crash loses at most the batch in flight.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.domain.responses import AnswerValue
from tiyan.store import tables as t

RESPONSE_COLUMNS = (
    "id", "public_id", "source", "survey_id", "survey_version_id", "channel", "unit_id",
    "staff_id", "touchpoint_id", "customer_id", "agent_user_id", "language", "status",
    "started_at", "submitted_at", "received_at", "customer_snapshot", "meta",
)
ANSWER_COLUMNS = ("response_id", "question_key", "item_code", "value_num", "value_text",
                  "value_json")
Stamp = Callable[[dt.datetime | None], Any]


@dataclass
class ResponseDraft:
    survey_id: int
    survey_version_id: int
    unit_id: int
    channel: str
    language: str
    submitted_at: dt.datetime
    answers: Sequence[AnswerValue]
    touchpoint_id: int | None = None
    staff_id: int | None = None
    customer_id: int | None = None
    agent_user_id: int | None = None
    started_at: dt.datetime | None = None
    customer_snapshot: dict[str, Any] = field(default_factory=dict)


def write_responses(conn: Connection, drafts: Sequence[ResponseDraft],
                    received_at: dt.datetime) -> list[int]:
    """Insert responses and their answers inside the caller's transaction; returns the ids."""
    if not drafts:
        return []
    if conn.dialect.name == "postgresql":
        return _write_postgres(conn, drafts, received_at)
    return _write_sqlite(conn, drafts, received_at)


def new_ids(conn: Connection, table: sa.Table, count: int) -> list[int]:
    """Ids for `count` rows of `table` written with their ids: on SQLite the next ones after
    the largest (the caller holds the write lock), on PostgreSQL drawn from the sequence."""
    if conn.dialect.name == "postgresql":
        return [int(r[0]) for r in conn.execute(sa.text(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, :n)"), {"n": count})]
    first = (conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0) + 1
    return list(range(first, first + count))


def _write_sqlite(conn: Connection, drafts: Sequence[ResponseDraft],
                  received_at: dt.datetime) -> list[int]:
    ids = new_ids(conn, t.response, len(drafts))
    stamp = _sqlite_time
    responses = [_response_values(i, d, received_at, stamp) for i, d in zip(ids, drafts,
                                                                            strict=True)]
    answers = [_answer_values(i, a) for i, d in zip(ids, drafts, strict=True) for a in d.answers]
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    cursor.executemany(_insert_sql("response", RESPONSE_COLUMNS, "?"), responses)
    cursor.executemany(_insert_sql("answer", ANSWER_COLUMNS, "?"), answers)
    cursor.close()
    return ids


def _write_postgres(conn: Connection, drafts: Sequence[ResponseDraft],
                    received_at: dt.datetime) -> list[int]:
    ids = new_ids(conn, t.response, len(drafts))
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY response ({', '.join(RESPONSE_COLUMNS)}) FROM STDIN") as copy:
            for i, d in zip(ids, drafts, strict=True):
                copy.write_row(_response_values(i, d, received_at, _identity))
        with cursor.copy(f"COPY answer ({', '.join(ANSWER_COLUMNS)}) FROM STDIN") as copy:
            for i, d in zip(ids, drafts, strict=True):
                for a in d.answers:
                    copy.write_row(_answer_values(i, a))
    return ids


def time_stamp(conn: Connection) -> Stamp:
    """How a row for `write_rows` carries a moment: as it is for PostgreSQL's COPY, as the
    text SQLAlchemy's DateTime stores on SQLite."""
    return _identity if conn.dialect.name == "postgresql" else _sqlite_time


def write_rows(conn: Connection, table: sa.Table, columns: Sequence[str],
               rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert rows (moments made with `time_stamp`, JSON as text) inside the caller's
    transaction: executemany on SQLite, COPY on PostgreSQL."""
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, \
                cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor = raw.cursor()
    cursor.executemany(_insert_sql(table.name, columns, "?"), rows)
    cursor.close()


def _insert_sql(table: str, columns: Sequence[str], mark: str) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(mark for _ in columns)})")


def demo_public_id(kind: str, key: object, at: dt.datetime) -> str:
    """The demo's opaque id of a row: the shape of security.new_public_id (48 bits of time, 80
    bits that look random) but made from the row's kind, key and time, so that the same seed
    and date build the same world."""
    digest = hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=10).hexdigest()
    return f"{int(at.timestamp() * 1000):012x}{digest}"


def _response_values(response_id: int, d: ResponseDraft, received_at: dt.datetime,
                     stamp: Any) -> tuple[Any, ...]:
    public_id = demo_public_id("response", response_id, d.submitted_at)
    return (response_id, public_id, "survey", d.survey_id, d.survey_version_id, d.channel,
            d.unit_id, d.staff_id, d.touchpoint_id, d.customer_id, d.agent_user_id, d.language,
            "complete", stamp(d.started_at), stamp(d.submitted_at), stamp(received_at),
            json.dumps(d.customer_snapshot, ensure_ascii=False), "{}")


def _answer_values(response_id: int, a: AnswerValue) -> tuple[Any, ...]:
    value_json = None if a.value_json is None else json.dumps(a.value_json, ensure_ascii=False)
    return (response_id, a.question_key, a.item_code, a.value_num, a.value_text, value_json)


def _sqlite_time(moment: dt.datetime | None) -> str | None:
    """The text form SQLAlchemy's DateTime uses on SQLite, in UTC."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _identity(moment: dt.datetime | None) -> dt.datetime | None:
    return moment
