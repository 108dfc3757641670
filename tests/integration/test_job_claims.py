"""Several worker processes on one database run each job once (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.services.jobs import enqueue_many
from tiyan.store import tables as t

JOBS = 300
WORKERS = 3

# A worker process: runs due jobs in small batches until none is left, each job of kind
# "test.record" appending its id to a file shared by all the workers.
WORKER = textwrap.dedent("""
    import os, sys, time
    from tiyan.context import Context
    from tiyan.services import jobs
    from tiyan.settings import load_settings
    from tiyan.store.db import Database

    url, out, go = sys.argv[1], sys.argv[2], sys.argv[3]

    @jobs.job_handler("test.record")
    def record(ctx, payload):
        with open(out, "a") as f:
            f.write(f"{payload['n']} {os.getpid()}\\n")
        time.sleep(0.002)  # a little work, so the claims interleave

    db = Database(url)
    ctx = Context(db, load_settings(db_url=url))
    while not os.path.exists(go):
        time.sleep(0.01)
    idle = 0
    while idle < 3:
        ran = jobs.run_due(ctx, worker=f"w{os.getpid()}", limit=5)
        idle = idle + 1 if ran == 0 else 0
    db.dispose()
""")


def test_three_worker_processes_run_each_of_300_jobs_exactly_once(ctx: Context,
                                                                  tmp_path: Path) -> None:
    with ctx.db.write() as conn:
        enqueue_many(conn, [("test.record", {"n": n}) for n in range(JOBS)], run_at=ctx.now())
    out, go = tmp_path / "ran.txt", tmp_path / "go"
    processes = [subprocess.Popen([sys.executable, "-c", WORKER, ctx.settings.db_url,
                                   str(out), str(go)]) for _ in range(WORKERS)]
    go.touch()
    for process in processes:
        assert process.wait(timeout=120) == 0
    ran = [line.split() for line in out.read_text().splitlines()]
    assert sorted(int(n) for n, _ in ran) == list(range(JOBS))  # each once, none twice
    assert len({pid for _, pid in ran}) > 1  # the work was shared
    with ctx.db.read() as conn:
        statuses = conn.execute(sa.select(t.job.c.status, sa.func.count())
                                .group_by(t.job.c.status)).all()
    assert dict(statuses) == {"done": JOBS}
