"""PostgreSQL with its real parts: PgBouncer in transaction mode and a streaming replica.

PgBouncer and the replica are started by scripts/pgbouncer.sh and scripts/pg-replica.sh (.ci/run
does it); without them these tests are skipped with a notice, except in CI. A real `tiyan serve`
writes through PgBouncer (TIYAN_DB_PGBOUNCER) and reads through the replica (TIYAN_DB_READ_URL):
200 API submissions from 8 clients at once with no error, reads answered by the replica once it
has caught up, and a client that just wrote reading its own write while the replica is paused.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import (
    PGBOUNCER_URL,
    REPLICA_URL,
    pgbouncer_problem,
    postgres_available,
    postgres_problem,
    replica_problem,
    require_service,
)
from tests.integration.processes import environment, served
from tests.snapshots import as_built, world_with
from tiyan.context import Context
from tiyan.store import tables as t
from tiyan.store.db import Database, enter_request_work, leave_request_work
from tiyan.web.transactions import READ_PRIMARY_COOKIE

SUBMISSIONS, CLIENTS = 200, 8
CATCH_UP_S = 30.0


@pytest.fixture
def backend() -> str:
    """These run on PostgreSQL only (the parts in front of and behind it)."""
    require_service("PostgreSQL", postgres_available(), postgres_problem() or "")
    return "postgres"


def same_database(server_url: str, ctx: Context) -> str:
    """`server_url` (PgBouncer's, the replica's) naming the test's database."""
    return server_url.rsplit("/", 1)[0] + "/" + ctx.db.url.rsplit("/", 1)[1]


def responses(ctx: Context) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.response)).scalar_one())


def replica_caught_up(ctx: Context, replica: sa.Engine) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with ctx.db.read() as conn:
        target = conn.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar_one()
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        with replica.connect() as conn:
            if conn.execute(sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                            {"lsn": target}).scalar_one():
                return
        assert time.monotonic() < deadline, f"the replica did not reach {target}"
        time.sleep(0.05)


@pytest.mark.pgbouncer
def test_prepared_statements_collide_behind_pgbouncer_unless_turned_off(ctx: Context) -> None:
    require_service("PgBouncer", pgbouncer_problem() is None, pgbouncer_problem() or "")
    url = same_database(PGBOUNCER_URL, ctx)

    def two_clients(db: Database) -> None:
        """Two pooled connections taking turns, each running one statement often enough for
        psycopg to prepare it; each transaction may get any server connection."""
        first, second = db.engine.connect(), db.engine.connect()
        try:
            for conn in (first, second, first, second):
                for _ in range(8):
                    conn.execute(sa.text("SELECT count(*) FROM org_unit WHERE id > :n"), {"n": 0})
                    conn.commit()
        finally:
            first.close()
            second.close()

    plain = Database(url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught:
            two_clients(plain)
        assert type(caught.value.orig).__name__ in ("DuplicatePreparedStatement",
                                                    "InvalidSqlStatementName")
    finally:
        plain.dispose()
    for db in (Database(url, pgbouncer=True), Database(url + "?pgbouncer=true")):
        try:
            two_clients(db)  # no prepared statements: no collision
        finally:
            db.dispose()


@pytest.mark.pgbouncer
@pytest.mark.replica
def test_a_server_writes_through_pgbouncer_and_reads_from_the_replica(
        ctx: Context, tmp_path: Path) -> None:
    require_service("PgBouncer", pgbouncer_problem() is None, pgbouncer_problem() or "")
    require_service("the PostgreSQL replica", replica_problem() is None, replica_problem() or "")
    world = world_with(ctx, as_built)
    replica = sa.create_engine(same_database(REPLICA_URL, ctx).replace(
        "postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    env = environment(TIYAN_DB_URL=same_database(PGBOUNCER_URL, ctx), TIYAN_DB_PGBOUNCER="true",
                      TIYAN_DB_READ_URL=same_database(REPLICA_URL, ctx),
                      TIYAN_WORKER_IN_APP="false", TIYAN_DATA_DIR=str(tmp_path / "data"))
    headers = {"Authorization": f"Bearer {world.tokens['agent@t.test']}"}
    before = responses(ctx)
    try:
        with served(env, tmp_path / "serve.log") as base:
            created = submit_at_once(base, headers, world.survey_id)
            assert len(created) == SUBMISSIONS and responses(ctx) == before + SUBMISSIONS

            replica_caught_up(ctx, replica)
            with httpx.Client(base_url=base, headers=headers) as reader:
                for public_id in created[:20]:
                    assert reader.get(f"/api/v1/responses/{public_id}").status_code == 200

                # the replica stops replaying: what is written now is only on the primary
                with replica.connect() as conn:
                    conn.execute(sa.text("SELECT pg_wal_replay_pause()"))
                with httpx.Client(base_url=base, headers=headers) as writer:
                    wrote = writer.post("/api/v1/responses", json=answer(world.survey_id, 3))
                    assert wrote.status_code == 201, wrote.text
                    assert READ_PRIMARY_COOKIE in wrote.cookies
                    new = f"/api/v1/responses/{wrote.json()['id']}"
                    # the writer reads its own write (its cookie sends it to the primary)
                    mine = writer.get(new).json()["answers"]
                    assert [(a["question_key"], a["value_num"]) for a in mine] == [("nps", 3)]
                # another client reads from the replica, which does not have it yet
                assert reader.get(new).status_code == 404
                with replica.connect() as conn:
                    conn.execute(sa.text("SELECT pg_wal_replay_resume()"))
                replica_caught_up(ctx, replica)
                assert reader.get(new).status_code == 200
    finally:
        with replica.connect() as conn:
            conn.execute(sa.text("SELECT pg_wal_replay_resume()"))
        replica.dispose()


def answer(survey_id: int, nps: int) -> dict[str, object]:
    return {"survey_id": survey_id, "unit_code": "s1", "answers": {"nps": nps},
            "channel": "phone"}


def submit_at_once(base: str, headers: dict[str, str], survey_id: int) -> list[str]:
    """SUBMISSIONS API submissions from CLIENTS clients at once; the ids created (every
    failure is kept and shown)."""
    created: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            for n in range(index, SUBMISSIONS, CLIENTS):
                try:
                    reply = http.post("/api/v1/responses", json=answer(survey_id, n % 11))
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(repr(exc))
                    continue
                with lock:
                    if reply.status_code == 201:
                        created.append(reply.json()["id"])
                    else:
                        failures.append(f"{reply.status_code}: {reply.text[:300]}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return created


def test_reads_go_to_the_primary_while_the_replica_does_not_answer(
        ctx: Context) -> None:
    """A replica that is down costs nothing but a warning: its reads go to the primary."""
    db = Database(ctx.db.url, read_url="postgresql://postgres@127.0.0.1:1/nowhere")
    work, token = enter_request_work()
    work.may_use_replica = True
    try:
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one() is False
        with db.read() as conn:  # not asked again for a while
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        work.finish()
        leave_request_work(token)
        db.dispose()


@pytest.mark.replica
def test_what_a_read_only_request_writes_apart_it_reads_back_from_the_primary(
        ctx: Context) -> None:
    """The signing key is made on first use, by whichever request needs it first (a GET of a
    survey link, say), in a transaction of its own; that request reads it back from the primary
    although the replica does not have it yet."""
    from tiyan.store import app_settings

    require_service("the PostgreSQL replica", replica_problem() is None, replica_problem() or "")
    replica = sa.create_engine(same_database(REPLICA_URL, ctx).replace(
        "postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    db = Database(ctx.db.url, read_url=same_database(REPLICA_URL, ctx))
    try:
        replica_caught_up(ctx, replica)   # the emptied database: no key anywhere yet
        with replica.connect() as conn:
            conn.execute(sa.text("SELECT pg_wal_replay_pause()"))
        work, token = enter_request_work()
        work.may_use_replica = True       # as for a GET
        try:
            key = app_settings.signing_key(db, ctx.now())
        finally:
            work.finish()
            leave_request_work(token)
        with ctx.db.read() as conn:
            stored = app_settings.get_value(conn, app_settings.SIGNING_KEY)
        with replica.connect() as conn:
            on_replica = conn.execute(sa.select(t.app_setting.c.key)).scalars().all()
        assert app_settings.SIGNING_KEY not in on_replica   # the replica lags, truly
        assert isinstance(stored, str) and len(key) == 48
        ctx.db.immutable_cache.clear()
        assert key == app_settings.signing_key(ctx.db, ctx.now())   # the primary's key
    finally:
        with replica.connect() as conn:
            conn.execute(sa.text("SELECT pg_wal_replay_resume()"))
        replica.dispose()
        db.dispose()
