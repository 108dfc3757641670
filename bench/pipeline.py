"""Pipeline throughput: responses per second from submission to fully processed, with 1 and 3
real `tiyan worker` processes, on SQLite and PostgreSQL.

    PYTHONPATH=src .venv/bin/python bench/pipeline.py [--n 3000] [--backend both|sqlite|pg]
                                                       [--workers 1,3] [--poll 0.05]

For each backend and worker count a fresh database gets two stores under a group, a survey
(NPS + comment; the n-th answer scores n mod 11, so 7 in 11 are detractors), the alert rule
"NPS ≤ 6 → open a case" and a webhook endpoint for
`response.submitted` on a local HTTP receiver that verifies every message with the
`standardwebhooks` library (signature and freshness) and counts distinct `webhook-id`s.
--n responses with real comments (the car-aspects data set's test split) are submitted from
this process through `do_submit_response`, the service behind the API's POST /responses (its
rate is reported too); then the workers start, and the clock runs from the moment every worker
said it is running (handlers loaded; the text model loads on its first batch, inside the
measured time) until every response is fully processed: no job due or running (arrival,
aggregate fold, text analysis, rule evaluation, webhook emit and delivery) and the receiver has
a verified message for each. With --live the workers run first (warmed up by one response) and
the clock runs from the first submission, so the submitting process shares the two cores and
caps the rate. The workers' CPU time per response is reported too (the machine's load changes
the rate far more than it). The results are then checked: every response folded and analysed,
one case per detractor, one delivered message per response, no message twice or unverified.

The last line printed is one JSON object:
{"responses": N, "per_s_1_worker": …, "per_s_3_workers": …, "backend": …} for one backend, or
{"responses": N, "backend": ["sqlite", "pg"], "sqlite": {…}, "pg": {…}} for both.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from standardwebhooks import Webhook

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.surveys import parse_definition
from tiyan.services.accounts import do_create_user
from tiyan.services.alerts import RuleRequest, do_create_rule
from tiyan.services.org import do_create_unit
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.services.webhooks import do_create_webhook
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade
from tiyan.store.scoped import load_actor

PG_ADMIN = os.environ.get("TIYAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATA = Path("/work/shared/data/car_aspects_ccf2018/car_aspects_ccf2018.csv")
FALLBACK = ("服务很好，下次还来", "等了太久，没人理", "价格有点贵", "师傅技术不错", "交车晚了一天")
SURVEY = {"title": {"zh-CN": "售后回访", "en": "After-sales"}, "questions": [
    {"key": "nps", "type": "nps", "required": True, "item_code": "nps",
     "text": {"zh-CN": "推荐意愿", "en": "Likelihood to recommend"}},
    {"key": "comment", "type": "text", "item_code": "comment",
     "text": {"zh-CN": "意见", "en": "Comments"}}]}
STORES = ("sh01", "bj01")


class Receiver:
    """A local webhook receiver: verifies each message with standardwebhooks, notes its id."""

    def __init__(self) -> None:
        self.secret = ""
        self.ids: set[str] = set()
        self.posts = 0
        self.bad = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 64 * 1024  # the answer's head and body in one send: no Nagle stall

            def do_POST(self) -> None:  # noqa: N802 - the http.server naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.take(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a sender that closes its keep-alive connection is not news

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def take(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            Webhook(self.secret).verify(body, headers)
            ok = True
        except Exception:  # noqa: BLE001 - any failure to verify is counted
            ok = False
        with self.lock:
            self.posts += 1
            if ok:
                self.ids.add(headers["webhook-id"])
            else:
                self.bad += 1

    def reset(self, secret: str) -> None:
        with self.lock:
            self.secret, self.ids, self.posts, self.bad = secret, set(), 0, 0

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def comments(n: int) -> list[str]:
    if not DATA.is_file():
        return [FALLBACK[i % len(FALLBACK)] for i in range(n)]
    with DATA.open(encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f) if row["split"] == "test"]
    return [texts[i % len(texts)] for i in range(n)]


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / f'pipeline-{uuid.uuid4().hex[:6]}.db'}"
        return
    name = f"tiyan_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build(url: str, receiver: Receiver) -> tuple[Context, Actor, int]:
    db = Database(url)
    upgrade(db)
    ctx = Context(db, load_settings(db_url=url, worker_in_app=False, argon2_time_cost=1,
                                    argon2_memory_kib=1024, text_industry="car_aftersales",
                                    outbound_allowed_hosts="127.0.0.1"))
    hq = do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="group",
                        parent_code=None)
    for code in STORES:
        do_create_unit(ctx, None, code=code, name_zh=f"{code}店", name_en=code, kind="store",
                       parent_code="hq")
    admin = do_create_user(ctx, None, email="admin@bench.test", name="admin",
                           password="bench-password-1", role="admin", unit_code="hq")
    do_create_user(ctx, None, email="manager@bench.test", name="manager",
                   password="bench-password-1", role="unit_manager", unit_code="sh01")
    with db.read() as conn:
        actor = load_actor(conn, admin)
    do_create_rule(ctx, actor, RuleRequest(
        name="贬损者 detractor", unit_code="hq",
        condition={"score": {"item": "nps", "op": "<=", "value": 6}},
        action={"kind": "case", "route_role": "unit_manager"}))
    from tiyan.store.surveys import insert_survey

    with db.write() as conn:
        survey_id, _ = insert_survey(conn, code="bench", name="Bench", unit_id=hq,
                                     definition=parse_definition(SURVEY), now=ctx.now(),
                                     created_by=None)
    hook = do_create_webhook(ctx, actor, url=receiver.url, events=["response.submitted"],
                             unit_code="hq")
    receiver.reset(hook.secret)
    return ctx, actor, survey_id


def submit(ctx: Context, actor: Actor, survey_id: int, texts: list[str], offset: int) -> None:
    for i, text in enumerate(texts):
        n = offset + i
        do_submit_response(ctx, actor, ResponseRequest(
            survey_id=survey_id, unit_code=STORES[n % len(STORES)],
            answers={"nps": n % 11, "comment": text}))


def pending(ctx: Context) -> tuple[int, int]:
    """(jobs due or running, jobs failed)."""
    with ctx.db.read() as conn:
        now = ctx.now()
        busy = conn.execute(sa.select(sa.func.count()).select_from(t.job).where(
            sa.or_(t.job.c.status == "running",
                   sa.and_(t.job.c.status == "queued", t.job.c.run_at <= now)))).scalar_one()
        failed = conn.execute(sa.select(sa.func.count()).select_from(t.job)
                              .where(t.job.c.status == "failed")).scalar_one()
    return int(busy), int(failed)


def wait_processed(ctx: Context, receiver: Receiver, expected: int, timeout: float) -> float:
    """Wait until nothing is due or running and the receiver has `expected` messages; the
    moment that was first seen."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if len(receiver.ids) >= expected:
            busy, failed = pending(ctx)
            if failed:
                raise SystemExit(f"{failed} jobs failed")
            if busy == 0:
                return time.perf_counter()
        time.sleep(0.05)
    raise SystemExit(f"not processed within {timeout} s: {len(receiver.ids)} of {expected} "
                     f"messages, jobs due or running {pending(ctx)}")


def start_workers(url: str, count: int, poll: float) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "TIYAN_DB_URL": url, "TIYAN_WORKER_POLL_SECONDS": str(poll),
           "TIYAN_TEXT_INDUSTRY": "car_aftersales", "TIYAN_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
           "TIYAN_WORKER_IN_APP": "false"}
    tiyan = Path(sys.executable).with_name("tiyan")
    workers = [subprocess.Popen([str(tiyan), "worker"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for _ in range(count)]
    for worker in workers:  # "tiyan worker … on …" (stderr): it runs, it claims now
        assert worker.stderr is not None
        for line in worker.stderr:
            if line.startswith("tiyan worker"):
                break
        threading.Thread(target=worker.stderr.read, daemon=True).start()  # the rest: drained
    return workers


def cpu_seconds(workers: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU the worker processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for worker in workers:
        fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGINT)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def check(ctx: Context, receiver: Receiver, responses: int) -> None:
    """Every stage really happened for every response."""
    with ctx.db.read() as conn:
        def count(query: Any) -> int:
            return int(conn.execute(query).scalar_one())

        folded = count(sa.select(sa.func.count()).select_from(t.score_agg_folded))
        analysed = count(sa.select(sa.func.count(sa.distinct(t.text_analysis.c.response_id))))
        detractors = count(sa.select(sa.func.count()).select_from(t.answer).where(
            t.answer.c.item_code == "nps", t.answer.c.value_num <= 6))
        cases = count(sa.select(sa.func.count()).select_from(t.cx_case))
        delivered = count(sa.select(sa.func.count()).select_from(t.webhook_delivery)
                          .where(t.webhook_delivery.c.status == "delivered"))
    problems = [f"{name}: {got} != {want}" for name, got, want in (
        ("folded", folded, responses), ("analysed", analysed, responses),
        ("cases", cases, detractors), ("delivered", delivered, responses),
        ("received", len(receiver.ids), responses), ("unverified", receiver.bad, 0))
        if got != want]
    if problems:
        raise SystemExit("incomplete: " + "; ".join(problems))


def run_once(backend: str, workers: int, n: int, poll: float, receiver: Receiver,
             tmp: Path, live: bool) -> dict[str, float]:
    texts = comments(n)
    with database(backend, tmp) as url:
        ctx, actor, survey_id = build(url, receiver)
        procs = start_workers(url, workers, poll) if live else []
        try:
            if live:
                submit(ctx, actor, survey_id, texts[:1], 0)  # warm-up: models loaded
                wait_processed(ctx, receiver, 1, 120)
                texts = texts[1:]
            began = time.perf_counter()
            submit(ctx, actor, survey_id, texts, n - len(texts))
            submitted = time.perf_counter() - began
            if not live:
                procs = start_workers(url, workers, poll)
                began = time.perf_counter()
            cpu = cpu_seconds(procs)
            ended = wait_processed(ctx, receiver, n, 1800)
            cpu = cpu_seconds(procs) - cpu
            load = os.getloadavg()[0]
        finally:
            stop_workers(procs)
        check(ctx, receiver, n)
        ctx.db.dispose()
    return {"per_s": round(len(texts) / (ended - began), 1),
            "submit_per_s": round(len(texts) / submitted, 1),
            "seconds": round(ended - began, 2),
            "worker_cpu_ms": round(1000 * cpu / len(texts), 2), "load": round(load, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="responses per run")
    parser.add_argument("--backend", choices=("both", "sqlite", "pg"), default="both")
    parser.add_argument("--workers", default="1,3", help="worker counts to run, e.g. 1,3")
    parser.add_argument("--poll", type=float, default=0.05, help="worker poll interval (s)")
    parser.add_argument("--live", action="store_true",
                        help="submit while the workers run (the submitting process then shares "
                             "the cores and caps the rate) instead of before they start")
    args = parser.parse_args()
    backends = ["sqlite", "pg"] if args.backend == "both" else [args.backend]
    counts = [int(c) for c in args.workers.split(",")]
    receiver = Receiver()
    results: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for backend in backends:
                out: dict[str, Any] = {}
                for workers in counts:
                    got = run_once(backend, workers, args.n, args.poll, receiver, Path(tmp),
                                   args.live)
                    key = "per_s_1_worker" if workers == 1 else f"per_s_{workers}_workers"
                    out[key] = got["per_s"]
                    out[f"submit_per_s_{workers}"] = got["submit_per_s"]
                    out[f"worker_cpu_ms_per_response_{workers}"] = got["worker_cpu_ms"]
                    out[f"load_1min_{workers}"] = got["load"]
                    print(f"{backend}, {workers} worker(s): {args.n} responses fully processed "
                          f"in {got['seconds']} s = {got['per_s']}/s (submitted at "
                          f"{got['submit_per_s']}/s); workers' CPU {got['worker_cpu_ms']} ms "
                          f"per response; load {got['load']}", flush=True)
                results[backend] = out
    finally:
        receiver.close()
    if len(backends) == 1:
        line: dict[str, Any] = {"responses": args.n, **results[backends[0]],
                                "backend": backends[0]}
    else:
        line = {"responses": args.n, "backend": backends, **results}
    print(json.dumps(line))


if __name__ == "__main__":
    main()
