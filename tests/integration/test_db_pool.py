"""PostgreSQL connection pool: a pooled connection the server dropped while it sat idle is
replaced before use, without the caller noticing."""

import time

import pytest
import sqlalchemy as sa

from tests.conftest import PG_ADMIN_URL, postgres_available, postgres_problem, require_service
from tiyan.store import db as db_module
from tiyan.store.db import Database


@pytest.fixture
def pg_url(database_urls: dict[str, str]) -> str:
    require_service("PostgreSQL", postgres_available(), postgres_problem() or "")
    return database_urls["postgres"]


def _backend_pid(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def test_an_idle_connection_the_server_dropped_is_replaced(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        first = _backend_pid(db)
        assert _backend_pid(db) == first  # back in use at once: the same pooled connection
        admin = sa.create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                                {"pid": first}).scalar_one()
        admin.dispose()
        time.sleep(db_module.PING_AFTER_IDLE_S + 0.2)  # the connection has now been idle
        second = _backend_pid(db)
        assert second != first
        with db.write() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()
