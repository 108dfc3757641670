"""The composition root: settings, database and clock that every use case runs with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from tiyan.security import Passwords
from tiyan.settings import Settings, load_settings
from tiyan.store.db import Database


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    db: Database
    settings: Settings = field(default_factory=load_settings)
    clock: Callable[[], dt.datetime] = utc_now
    passwords: Passwords = field(init=False)

    def __post_init__(self) -> None:
        self.passwords = Passwords(self.settings.argon2_time_cost, self.settings.argon2_memory_kib)

    def now(self) -> dt.datetime:
        return self.clock()

    def signing_key(self) -> bytes:
        """The key for signed survey links and invitation tokens (see tiyan.security)."""
        from tiyan.store.app_settings import signing_key

        return signing_key(self.db, self.now())


def open_database(settings: Settings) -> Database:
    """The database of the settings (with PgBouncer, read replica and pool sizes), proven to
    answer."""
    from tiyan.store.db import connect_or_explain

    return connect_or_explain(settings.db_url, pgbouncer=settings.db_pgbouncer,
                              read_url=settings.db_read_url or None,
                              pool_size=settings.db_pool_size,
                              max_overflow=settings.db_max_overflow)


def open_context(db_url: str | None = None, *, check_schema: bool = True) -> Context:
    settings = load_settings(**({"db_url": db_url} if db_url else {}))
    db = open_database(settings)
    if check_schema:
        db.check_schema()
    return Context(db, settings)
