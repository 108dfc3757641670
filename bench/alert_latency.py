"""Alert latency: from a detractor's answer submitted through the public survey link (/s/{token})
to the case created and its notification handed to the SMTP server.

    .venv/bin/python bench/alert_latency.py [--n 1000] [--rate 20] [--poll 0.05]
        [--backend sqlite|pg] [--background-import ROWS [--bulk-process]]

A fresh SQLite database (or, with --backend pg, a fresh PostgreSQL database) with a store, its
manager and the rule "NPS ≤ 6 → open a case and notify"; the real app (create_app, its worker
thread polling every --poll seconds) is driven in-process: every response is a GET of the link then
a POST of the answers (a detractor score and a comment, so text analysis runs first), sent at
--rate responses per second. A local SMTP server (aiosmtpd) notes when each notification arrives;
the latency of a response is that moment minus the moment its POST started. The case's creation
time is reported too (from the database).

With --background-import ROWS, a feedback import of ROWS online reviews (texts from the demo's
after-sales phrasebook) is queued as a background job just before the first detractor: it runs
in the app's own worker, in the bulk lane, while the detractors' jobs run in the real-time lane.
The report then says how far the import (and its follow-up jobs) had got when the last
notification arrived, and how long the import took. With --bulk-process the bulk lane runs in a
separate `tiyan worker --lanes bulk` process and the app's worker runs the real-time lane only
(the deployment docs/jobs.md recommends on PostgreSQL; on SQLite the second writer process can
make survey submissions wait past the busy timeout).

The last line printed is one JSON object: {"n": …, "p50_s": …, "p95_s": …, …}.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import email
import email.policy
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import database  # noqa: E402 - the benches' fresh SQLite or PostgreSQL database

from tiyan.context import Context
from tiyan.demo.comments import after_sales_comment
from tiyan.domain.surveys import parse_definition
from tiyan.services.accounts import do_create_user
from tiyan.services.alerts import RuleRequest, do_create_rule
from tiyan.services.feedback_import import ImportRequest
from tiyan.services.import_jobs import queue_import_feedback
from tiyan.services.link_guard import do_save_policy
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.services.org import do_create_unit
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade
from tiyan.store.scoped import load_actor
from tiyan.store.surveys import insert_survey
from tiyan.web.app import create_app

SURVEY = {"title": {"zh-CN": "售后回访", "en": "After-sales"}, "questions": [
    {"key": "nps", "type": "nps", "required": True, "item_code": "nps",
     "text": {"zh-CN": "推荐意愿", "en": "Likelihood to recommend"}},
    {"key": "comment", "type": "text", "item_code": "comment",
     "text": {"zh-CN": "意见", "en": "Comments"}}]}
CASE_LINK = re.compile(r"/cases/([0-9a-f]{32})")


def message_text(raw: bytes) -> str:
    """The decoded text of every part of an e-mail (bodies are base64 or quoted-printable)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return "\n".join(part.get_content() for part in message.walk()
                     if part.get_content_maintype() == "text")


class Arrivals:
    """aiosmtpd handler: the wall-clock moment each case's notification arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.done = threading.Event()
        self.expected = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        now = time.time()
        found = CASE_LINK.search(message_text(envelope.original_content or b""))
        if found:
            self.at[found.group(1)] = now
            if len(self.at) >= self.expected:
                self.done.set()
        return "250 OK"


def build(url: str, smtp_port: int, poll: float,
          lanes: str = "realtime,bulk") -> tuple[Context, str]:
    db = Database(url)
    upgrade(db)
    settings = load_settings(db_url=url, worker_in_app=True, worker_poll_seconds=poll,
                             worker_lanes=lanes,
                             smtp_host="127.0.0.1", smtp_port=smtp_port,
                             text_industry="car_aftersales", argon2_time_cost=1,
                             argon2_memory_kib=1024)
    ctx = Context(db, settings)
    hq = do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="group",
                        parent_code=None)
    store = do_create_unit(ctx, None, code="sh01", name_zh="上海一店", name_en="Shanghai 1",
                           kind="store", parent_code="hq")
    admin = do_create_user(ctx, None, email="admin@bench.test", name="admin",
                           password="bench-password-1", role="admin", unit_code="hq")
    do_create_user(ctx, None, email="manager@bench.test", name="manager",
                   password="bench-password-1", role="unit_manager", unit_code="sh01")
    with db.read() as conn:
        actor = load_actor(conn, admin)
    do_create_rule(ctx, actor, RuleRequest(
        name="贬损者 detractor", unit_code="hq",
        condition={"score": {"item": "nps", "op": "<=", "value": 6}},
        action={"kind": "both", "route_role": "unit_manager"}))
    with db.write() as conn:
        survey_id, _ = insert_survey(conn, code="bench", name="Bench", unit_id=hq,
                                     definition=parse_definition(SURVEY), now=ctx.now(),
                                     created_by=None)
    token = anonymous_url(ctx, AnonymousTarget(survey_id, store)).rsplit("/", 1)[1]
    # one link answered by a thousand people in under a minute, all from this process's one
    # address and browser: set up as a manager sets a kiosk's link (no per-device or burst
    # limit), else the link guard rightly flags them and no case opens
    do_save_policy(ctx, actor, "bench", "sh01", {"device_limit": 0, "burst_limit": 0})
    return ctx, f"/s/{token}"


def write_reviews(path: Path, rows: int, seed: int = 11) -> None:
    """ROWS online reviews of store sh01 with after-sales comments (a pool of 5,000 distinct
    texts, each row its own review id), ratings 1-5, times over the past year."""
    rng = random.Random(seed)
    pool: list[str] = []
    while len(pool) < 5000:
        text = after_sales_comment(rng, {"nps": rng.randint(0, 10)})
        if text:
            pool.append(text)
    start = dt.datetime(2025, 12, 1, 8, 0)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["评价ID", "评价内容", "评价时间", "门店编码", "评分"])
        for i in range(rows):
            at = start + dt.timedelta(seconds=rng.randrange(365 * 86400))
            out.writerow([f"bg-{i}", pool[i % len(pool)], at.strftime("%Y-%m-%d %H:%M:%S"),
                          "sh01", rng.randint(1, 5)])


def queue_background_import(ctx: Context, folder: Path, rows: int) -> int:
    """Queue the import as the web page does for a large file; its batch id."""
    upload = folder / "upload"
    upload.mkdir()
    path = upload / "reviews.csv"
    write_reviews(path, rows)
    report = queue_import_feedback(ctx, None, ImportRequest(path=path, source="review",
                                                            filename="reviews.csv"))
    return report.batch_id


def import_state(ctx: Context, batch_id: int, queued_at: float) -> dict[str, Any]:
    """How far the import and the bulk lane had got."""
    from tiyan.services.jobs import job_backlog

    with ctx.db.read() as conn:
        batch = conn.execute(sa.select(t.import_batch).where(
            t.import_batch.c.id == batch_id)).one()
    finished = batch.finished_at
    backlog = job_backlog(ctx)["bulk"]
    return {"import_status": batch.status, "import_rows_stored": batch.rows_stored,
            "import_s": round(finished.timestamp() - queued_at, 1) if finished else None,
            "bulk_jobs_due_at_end": backlog.due + backlog.running}


def start_bulk_worker(ctx: Context, poll: float) -> subprocess.Popen[str]:
    """`tiyan worker --lanes bulk` on the bench's database, once it says it runs."""
    env = {**os.environ, "TIYAN_WORKER_POLL_SECONDS": str(poll),
           "TIYAN_DB_URL": ctx.settings.db_url}
    process = subprocess.Popen([sys.executable, "-c", "from tiyan.entry import main; main()",
                                "worker", "--lanes", "bulk"], env=env, stderr=subprocess.PIPE,
                               text=True)
    assert process.stderr is not None
    process.stderr.readline()
    threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained
    return process


def detractor_comments(n: int, seed: int = 5) -> list[str]:
    """n different after-sales complaints, as n people would write them (the link guard flags
    the third identical set of answers)."""
    rng, comments = random.Random(seed), dict[str, None]()  # a dict keeps the written order
    while len(comments) < n:
        comments[after_sales_comment(rng, {"nps": rng.randint(0, 6)}) or "等了很久，没人理"] = None
    return list(comments)


def submit_all(client: TestClient, path: str, n: int, rate: float) -> list[float]:
    """POST n detractor answers at `rate` per second; the moment each POST started."""
    started: list[float] = []
    comments = detractor_comments(n)
    begin = time.perf_counter()
    for i in range(n):
        pause = begin + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        client.cookies.clear()
        page = client.get(path)
        sid = re.search(r'name="sid" value="(\w+)"', page.text)
        assert sid is not None, page.text[:300]
        started.append(time.time())
        sent = client.post(path, data={"sid": sid.group(1), "page": "1", "lang": "zh-CN",
                                       "a.nps": str(i % 7), "a.comment": comments[i]},
                           follow_redirects=False)
        assert sent.status_code in (200, 303), sent.text[:300]
    return started


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="responses")
    parser.add_argument("--rate", type=float, default=20.0, help="responses per second")
    parser.add_argument("--poll", type=float, default=0.05, help="worker poll interval (s)")
    parser.add_argument("--background-import", type=int, default=0, metavar="ROWS",
                        help="rows of a feedback import running in the background (0: none)")
    parser.add_argument("--backend", choices=("sqlite", "pg"), default="sqlite",
                        help="a fresh SQLite file, or a fresh PostgreSQL database on "
                             "$TIYAN_TEST_PG_URL's server (dropped at the end)")
    parser.add_argument("--bulk-process", action="store_true",
                        help="run the bulk lane in a separate `tiyan worker --lanes bulk` "
                             "process (the app's worker then runs the real-time lane only)")
    args = parser.parse_args()
    arrivals = Arrivals()
    arrivals.expected = args.n
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(arrivals, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, database(args.backend, Path(tmp)) as url:
            ctx, path = build(url, port, args.poll,
                              "realtime" if args.bulk_process else "realtime,bulk")
            bulk = start_bulk_worker(ctx, args.poll) if args.bulk_process else None
            batch_id, queued_at = 0, time.time()
            if args.background_import:
                batch_id = queue_background_import(ctx, Path(tmp), args.background_import)
                queued_at = time.time()
            with TestClient(create_app(ctx), base_url="http://bench") as client:
                started = submit_all(client, path, args.n, args.rate)
                arrivals.done.wait(timeout=600 if args.background_import else 120)
                report = measure(ctx, started, arrivals.at)
                if batch_id:
                    report.update(import_state(ctx, batch_id, queued_at))
            if bulk is not None:
                bulk.send_signal(signal.SIGTERM)
                bulk.wait(timeout=120)
            report.update({"rate": args.rate, "background_import_rows": args.background_import,
                           "bulk_lane": "own process" if bulk else "same process",
                           "backend": args.backend})
            ctx.db.dispose()
    finally:
        controller.stop()
    print(f"{report['n']} of {args.n} responses reached the SMTP server; notification "
          f"latency p50 {report['p50_s']} s, p95 {report['p95_s']} s; case opened p95 "
          f"{report['case_p95_s']} s (at {args.rate}/s, worker poll {args.poll} s)")
    if args.background_import:
        print(f"background import of {args.background_import:,} rows: {report['import_status']}"
              f", {report['import_rows_stored']:,} stored, took {report['import_s']} s; "
              f"{report['bulk_jobs_due_at_end']} bulk jobs still to run at the end")
    print(json.dumps(report))


def measure(ctx: Context, started: list[float], arrived: dict[str, float]) -> dict[str, Any]:
    with ctx.db.read() as conn:
        survey = t.response.c.channel != "import"  # not the background import's feedback
        rows = conn.execute(sa.select(t.response.c.id, t.cx_case.c.public_id,
                                      t.cx_case.c.created_at)
                            .join(t.cx_case, t.cx_case.c.response_id == t.response.c.id)
                            .where(survey).order_by(t.response.c.id)).all()
        ids = list(conn.execute(sa.select(t.response.c.id).where(survey)
                                .order_by(t.response.c.id)).scalars())
    order = {rid: i for i, rid in enumerate(ids)}  # the i-th response is the i-th POST
    mail, case = [], []
    for response_id, case_id, created in rows:
        begin = started[order[response_id]]
        case.append(created.replace(tzinfo=dt.UTC).timestamp() - begin)
        if case_id in arrived:
            mail.append(arrived[case_id] - begin)
    return {"n": len(mail), "p50_s": round(percentile(mail, 0.5), 3),
            "p95_s": round(percentile(mail, 0.95), 3), "max_s": round(max(mail), 3),
            "mean_s": round(statistics.fmean(mail), 3), "cases": len(rows),
            "case_p50_s": round(percentile(case, 0.5), 3),
            "case_p95_s": round(percentile(case, 0.95), 3)}


if __name__ == "__main__":
    main()
