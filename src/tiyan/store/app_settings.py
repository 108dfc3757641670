"""Installation-wide values kept in the database (shared by the web app and any worker)."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tiyan.store import tables as t
from tiyan.store.db import Database

SIGNING_KEY = "signing_key"


def get_value(conn: sa.Connection, key: str) -> Any | None:
    row = conn.execute(sa.select(t.app_setting.c.value).where(t.app_setting.c.key == key)).first()
    return None if row is None else row.value


def put_value(conn: sa.Connection, key: str, value: Any, now: dt.datetime) -> None:
    updated = conn.execute(t.app_setting.update().where(t.app_setting.c.key == key)
                           .values(value=value, updated_at=now))
    if updated.rowcount == 0:
        conn.execute(t.app_setting.insert().values(key=key, value=value, updated_at=now))


def signing_key(db: Database, now: dt.datetime) -> bytes:
    """The installation's key for signed links, created on first use and shared by all processes."""
    cached = db.immutable_cache.get(SIGNING_KEY)
    if isinstance(cached, bytes):
        return cached
    with db.read() as conn:
        stored = get_value(conn, SIGNING_KEY)
    if stored is None:
        try:
            with db.write_apart() as conn:  # cached below: it must not go with a failed request
                if get_value(conn, SIGNING_KEY) is None:
                    conn.execute(t.app_setting.insert().values(
                        key=SIGNING_KEY, value=secrets.token_urlsafe(48), updated_at=now))
        except IntegrityError:
            pass  # another process created it first
        with db.read() as conn:
            stored = get_value(conn, SIGNING_KEY)
    key = base64.urlsafe_b64decode(str(stored) + "=" * (-len(str(stored)) % 4))
    db.immutable_cache[SIGNING_KEY] = key
    return key
