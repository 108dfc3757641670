"""API submissions through PgBouncer (transaction mode) with and without TIYAN_DB_PGBOUNCER, and
how soon a streaming replica shows what was written.

    .venv/bin/python bench/pg_topology.py [--n 400] [--clients 8] [--lag-samples 50]

Needs the local PostgreSQL, PgBouncer and the replica that scripts/pgbouncer.sh and
scripts/pg-replica.sh start. A fresh database with one store, an admin, a survey and an API
token; for each way of connecting a real `tiyan serve` (no worker in it) takes --n POST
/api/v1/responses from --clients clients at once: directly, through PgBouncer as before
(psycopg's prepared statements on), and through PgBouncer with TIYAN_DB_PGBOUNCER=true. Then
--lag-samples responses, one at a time: the time from the 201 answer until the replica returns
the row.

The last line printed is one JSON object: {"submissions": …, "per_s_direct": …,
"per_s_pgbouncer": …, "errors_pgbouncer_prepared": …, "errors_pgbouncer": …,
"replica_visible_p50_ms": …, "replica_visible_p95_ms": …, "backend": "postgresql"}.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa

from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.services.accounts import do_create_user
from tiyan.services.api_tokens import TokenRequest, do_create_token
from tiyan.services.org import do_create_unit
from tiyan.settings import load_settings
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade
from tiyan.store.surveys import insert_survey

PG = os.environ.get("TIYAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PGBOUNCER = os.environ.get("TIYAN_TEST_PGBOUNCER_URL",
                           "postgresql://postgres@127.0.0.1:6432/postgres")
REPLICA = os.environ.get("TIYAN_TEST_REPLICA_URL",
                         "postgresql://postgres@127.0.0.1:5433/postgres")
TIYAN = str(Path(sys.executable).parent / "tiyan")
SURVEY = {"title": {"zh-CN": "到店", "en": "Visit"},
          "questions": [{"key": "nps", "type": "nps", "required": True,
                         "text": {"zh-CN": "推荐?", "en": "Recommend?"}}]}


def named(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                            isolation_level="AUTOCOMMIT")


@contextmanager
def database() -> Iterator[str]:
    name = f"tiyan_bench_{uuid.uuid4().hex[:10]}"
    admin = engine(PG)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build(url: str) -> tuple[int, str]:
    db = Database(url)
    upgrade(db)
    ctx = Context(db, load_settings(db_url=url, worker_in_app=False, argon2_time_cost=1,
                                    argon2_memory_kib=1024))
    hq = do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="group",
                        parent_code=None)
    do_create_unit(ctx, None, code="s1", name_zh="一店", name_en="s1", kind="store",
                   parent_code="hq")
    do_create_user(ctx, None, email="admin@bench.test", name="admin",
                   password="bench-password-1", role="admin", unit_code="hq")
    with db.write() as conn:
        survey_id, _ = insert_survey(conn, code="bench", name="Bench", unit_id=hq,
                                     definition=parse_definition(SURVEY), now=ctx.now(),
                                     created_by=None)
    token = do_create_token(ctx, None, TokenRequest("bench", "admin", never_expires=True),
                            email="admin@bench.test").secret
    db.dispose()
    return survey_id, token


@contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with log.open("a") as out:
        process = subprocess.Popen([TIYAN, "serve", "--port", str(port)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"tiyan serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def submit(base: str, token: str, survey_id: int, n: int, clients: int) -> tuple[float, int]:
    """(submissions per second, failed submissions) for n submissions from `clients`."""
    failures = [0] * clients

    def client(index: int) -> None:
        with httpx.Client(base_url=base, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            for i in range(index, n, clients):
                try:
                    reply = http.post("/api/v1/responses", json={
                        "survey_id": survey_id, "unit_code": "s1", "answers": {"nps": i % 11}})
                except httpx.HTTPError:  # the server dropped the connection: a failure too
                    failures[index] += 1
                    continue
                failures[index] += reply.status_code != 201

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return n / (time.perf_counter() - started), sum(failures)


def replica_visible_ms(base: str, token: str, survey_id: int, replica_url: str,
                       samples: int) -> list[float]:
    replica = engine(replica_url)
    found = sa.text("SELECT 1 FROM response WHERE public_id = :id")
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http, \
            replica.connect() as conn:
        for i in range(samples):
            reply = http.post("/api/v1/responses", json={
                "survey_id": survey_id, "unit_code": "s1", "answers": {"nps": i % 11}})
            answered = time.perf_counter()
            public_id = reply.json()["id"]
            while conn.execute(found, {"id": public_id}).first() is None:
                if time.perf_counter() - answered > 30:
                    raise SystemExit("the replica did not show a row within 30 s")
                time.sleep(0.001)
            times.append((time.perf_counter() - answered) * 1000)
    replica.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--lag-samples", type=int, default=50)
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TIYAN_")}
    with database() as name, tempfile.TemporaryDirectory() as tmp:
        survey_id, token = build(named(PG, name))
        log = Path(tmp) / "serve.log"
        results: dict[str, tuple[float, int]] = {}
        for label, url, flag in (("direct", named(PG, name), "false"),
                                 ("pgbouncer_prepared", named(PGBOUNCER, name), "false"),
                                 ("pgbouncer", named(PGBOUNCER, name), "true")):
            env = {**base_env, "TIYAN_DB_URL": url, "TIYAN_DB_PGBOUNCER": flag,
                   "TIYAN_WORKER_IN_APP": "false"}
            with served(env, log) as base:
                results[label] = submit(base, token, survey_id, args.n, args.clients)
            print(f"{label}: {results[label][0]:.1f} submissions/s, "
                  f"{results[label][1]} failed of {args.n}", flush=True)
        env = {**base_env, "TIYAN_DB_URL": named(PGBOUNCER, name), "TIYAN_DB_PGBOUNCER": "true",
               "TIYAN_DB_READ_URL": named(REPLICA, name), "TIYAN_WORKER_IN_APP": "false"}
        with served(env, log) as base:
            lag = replica_visible_ms(base, token, survey_id, named(REPLICA, name),
                                     args.lag_samples)
    quantiles = statistics.quantiles(lag, n=20)
    print(json.dumps({
        "submissions": args.n, "clients": args.clients,
        "per_s_direct": round(results["direct"][0], 1),
        "per_s_pgbouncer": round(results["pgbouncer"][0], 1),
        "errors_pgbouncer_prepared": results["pgbouncer_prepared"][1],
        "errors_pgbouncer": results["pgbouncer"][1],
        "replica_visible_p50_ms": round(statistics.median(lag), 1),
        "replica_visible_p95_ms": round(quantiles[18], 1),
        "backend": "postgresql"}))


if __name__ == "__main__":
    main()
