"""Shared fixtures: real SQLite and PostgreSQL databases, a fake clock, one fixture world.

PostgreSQL and chromium tests are skipped with a visible notice where those are missing,
except in CI (CI=true), where a missing service is a failure.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tiyan.analytics import driver_cache
from tiyan.context import Context
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("TIYAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# PgBouncer (transaction mode) and a streaming replica of the server above, as scripts/
# pgbouncer.sh and scripts/pg-replica.sh start them (and .ci/run does)
PGBOUNCER_URL = os.environ.get("TIYAN_TEST_PGBOUNCER_URL",
                               "postgresql://postgres@127.0.0.1:6432/postgres")
REPLICA_URL = os.environ.get("TIYAN_TEST_REPLICA_URL",
                             "postgresql://postgres@127.0.0.1:5433/postgres")
FIXED_NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
BIG_WORLD = 20_000  # answers beyond which emptying the PostgreSQL database truncates


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = "available" if postgres_available() else "MISSING"
    return [f"PostgreSQL for tests: {PG_ADMIN_URL} ({state})",
            f"PgBouncer for tests: {PGBOUNCER_URL} ({pgbouncer_problem() or 'available'})",
            f"replica for tests: {REPLICA_URL} ({replica_problem() or 'available'})"]


@functools.cache
def postgres_problem() -> str | None:
    """None when the test PostgreSQL server answers, else why it does not."""
    try:
        engine = sa.create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).strip().splitlines()[0]
    return None


def postgres_available() -> bool:
    return postgres_problem() is None


@functools.cache
def pgbouncer_problem() -> str | None:
    """None when PgBouncer answers in transaction mode in front of the test server."""
    if postgres_problem():
        return f"PostgreSQL is not available ({postgres_problem()})"
    import psycopg

    try:
        admin = PGBOUNCER_URL.rsplit("/", 1)[0] + "/pgbouncer"
        with psycopg.connect(admin, autocommit=True, prepare_threshold=None,
                             connect_timeout=3) as conn:
            rows = conn.execute("SHOW CONFIG").fetchall()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return f"{PGBOUNCER_URL}: {str(exc).strip().splitlines()[0]}; run scripts/pgbouncer.sh"
    mode = next((str(row[1]) for row in rows if row[0] == "pool_mode"), None)
    return None if mode == "transaction" else f"PgBouncer's pool_mode is {mode}, not transaction"


@functools.cache
def replica_problem() -> str | None:
    """None when the streaming replica answers and is in recovery (a standby)."""
    if postgres_problem():
        return f"PostgreSQL is not available ({postgres_problem()})"
    try:
        engine = sa.create_engine(REPLICA_URL.replace("postgresql://", "postgresql+psycopg://"),
                                  connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            standby = conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one()
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return f"{REPLICA_URL}: {str(exc).strip().splitlines()[0]}; run scripts/pg-replica.sh"
    return None if standby else f"{REPLICA_URL} is not a standby (not in recovery)"


def require_service(name: str, available: bool, why: str) -> None:
    if available:
        return
    message = f"{name} is not available here ({why})"
    if IN_CI:
        pytest.fail(f"{message}; in CI nothing may be skipped")
    pytest.skip(message)


class Clock:
    """A fake clock the tests move by hand."""

    def __init__(self, start: dt.datetime = FIXED_NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def _create_pg_database() -> str:
    name = f"tiyan_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole run; the tests empty them in between."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'tiyan.db'}"}
    if postgres_available():
        urls["postgres"] = _create_pg_database()
    for url in urls.values():
        db = Database(url)
        upgrade(db)
        db.dispose()
    yield urls
    if "postgres" in urls:
        _drop_pg_database(urls["postgres"])


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        require_service("PostgreSQL", postgres_available(), postgres_problem() or "")
    return str(request.param)


_DATABASES: dict[str, Database] = {}


@pytest.fixture
def ctx(backend: str, database_urls: dict[str, str]) -> Iterator[Context]:
    """A context on an empty, migrated database of the current backend, with a fake clock."""
    url = database_urls[backend]
    db = _DATABASES.get(url) or _DATABASES.setdefault(url, Database(url))
    empty_all_tables(db)
    yield Context(db, test_settings(url), Clock())


def test_settings(url: str):  # type: ignore[no-untyped-def]
    """Real settings with a small minimum n and a cheap (still argon2id) password hash."""
    return load_settings(db_url=url, min_n=5, argon2_time_cost=1, argon2_memory_kib=1024,
                         worker_in_app=False)


def empty_all_tables(db: Database) -> None:
    """Delete every row. On PostgreSQL ids restart at 1 as well; a test's few rows are deleted
    (TRUNCATE of every table costs about 0.4 s there), a big world is truncated."""
    db.immutable_cache.clear()
    driver_cache.clear()  # ids restart on PostgreSQL: a new world may stamp like an old one
    with db.write() as conn:
        big = not db.is_sqlite and conn.execute(
            sa.select(sa.literal(1)).select_from(t.answer).offset(BIG_WORLD).limit(1)
        ).first() is not None
        if big:
            names = ", ".join(f'"{table.name}"' for table in t.metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for table in reversed(t.metadata.sorted_tables):
            conn.execute(table.delete())
        if not db.is_sqlite:
            conn.execute(sa.text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()"))


@pytest.fixture(scope="session", autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    for db in _DATABASES.values():
        db.dispose()


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite database filled by the real `tiyan demo` command, built once per run (with
    parallel workers, by the first worker for all of them) and never written to."""
    from tests.demo_db import shared_demo_database

    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") is not None:
        run_folder = run_folder.parent  # the run's folder, above each worker's own
    return shared_demo_database(run_folder / "demo")


@pytest.fixture(scope="session")
def demo_db_url(built_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """This worker's copy of the demo database, shared by the tests of the session: a test
    that writes to it (a browser test saving an index, say) is seen by the tests after it."""
    from tests.demo_db import copy_of_demo_database

    return copy_of_demo_database(built_demo_db, tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def pristine_demo_db_url(built_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the demo database as `tiyan demo` left it, for a module that judges the demo's
    own pages and must not read what other tests typed into the shared copy."""
    from tests.demo_db import copy_of_demo_database

    return copy_of_demo_database(built_demo_db, tmp_path_factory.mktemp("pristine-demo"))
