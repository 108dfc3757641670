"""Real `tiyan worker` processes on one database (SQLite and PostgreSQL): lanes, leases, drain.

Each worker here is the real CLI command (`tiyan worker --db … --lanes …`, its signal handling
and lane threads) in a process of its own, with two test job kinds registered first: `test.record`
notes that it ran, `test.slow` (bulk lane) notes its start and end and in between waits for a
file to appear or for its `seconds` to pass. What the jobs did is read back from that notes
file and from the job table; nothing here measures time.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tiyan.context import Context
from tiyan.services import jobs
from tiyan.store import tables as t

HARNESS = textwrap.dedent("""
    import os, sys, time
    from tiyan.services import jobs

    notes, release = os.environ["TEST_JOB_NOTES"], os.environ["TEST_JOB_RELEASE"]

    def note(*words):
        with open(notes, "a") as f:
            f.write(" ".join(str(w) for w in (*words, os.getpid())) + "\\n")
            f.flush()
            os.fsync(f.fileno())

    @jobs.job_handler("test.record")
    def record(ctx, payload):
        note("ran", payload["n"])

    @jobs.job_handler("test.slow", lane=jobs.BULK)
    def slow(ctx, payload):
        note("start", payload["n"])
        until = time.monotonic() + payload.get("seconds", 600)
        while time.monotonic() < until and not os.path.exists(release):
            time.sleep(0.05)
        note("end", payload["n"])

    sys.argv = ["tiyan", "worker", "--db", sys.argv[1], "--lanes", sys.argv[2]]
    from tiyan.cli import main
    main()
""")

LEASE_SECONDS = 2.0  # short, so a lost job comes back soon; renewed every 0.7 s
PATIENCE = 240.0  # seconds a condition may take on a loaded machine before the test gives up


class Workers:
    """Starts worker processes on the test's database and reads what their jobs noted."""

    def __init__(self, ctx: Context, folder: Path, lease_seconds: float) -> None:
        self.ctx = ctx
        self.notes = folder / "notes.txt"
        self.release = folder / "release"
        self.notes.touch()
        self.env = {**os.environ, "TEST_JOB_NOTES": str(self.notes),
                    "TEST_JOB_RELEASE": str(self.release),
                    "TIYAN_JOB_LEASE_SECONDS": str(lease_seconds),
                    "TIYAN_WORKER_POLL_SECONDS": "0.2", "TIYAN_WORKER_DRAIN_SECONDS": "120"}
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, lanes: str = "realtime,bulk") -> subprocess.Popen[str]:
        """A worker process, returned once it says it runs (its signal handlers are set)."""
        process = subprocess.Popen([sys.executable, "-c", HARNESS, self.ctx.settings.db_url,
                                    lanes], env=self.env, stderr=subprocess.PIPE, text=True)
        self.processes.append(process)
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert banner.startswith("tiyan worker "), banner
        return process

    def lines(self, word: str) -> list[tuple[int, int]]:
        """(n, pid) of every note `word` (ran, start, end), in the order written."""
        found = []
        for line in self.notes.read_text().splitlines():
            parts = line.split()
            if parts[0] == word:
                found.append((int(parts[1]), int(parts[2])))
        return found

    def statuses(self) -> dict[int, str]:
        """The test's jobs (a worker also queues the periodic ones, retention's daily run)."""
        with self.ctx.db.read() as conn:
            rows = conn.execute(sa.select(t.job.c.id, t.job.c.status)
                                .where(t.job.c.kind.like("test.%"))).all()
        return {row.id: row.status for row in rows}

    def job(self, job_id: int) -> sa.Row[tuple[object, ...]]:
        with self.ctx.db.read() as conn:
            return conn.execute(sa.select(t.job).where(t.job.c.id == job_id)).one()

    def stop(self, process: subprocess.Popen[str]) -> int:
        """SIGTERM, then the exit status once it drained."""
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=PATIENCE)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


@pytest.fixture
def workers(ctx: Context, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(ctx, tmp_path, LEASE_SECONDS)
    yield started
    started.close()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.1)


def now() -> dt.datetime:
    """The real time: the worker processes run on the real clock, not the test's fake one."""
    return dt.datetime.now(dt.UTC)


def add(ctx: Context, kind: str, payloads: list[dict[str, object]],
        lane: str | None = None) -> list[int]:
    with ctx.db.write() as conn:
        return [jobs.enqueue(conn, kind, payload, run_at=now(), lane=lane) or 0
                for payload in payloads]


def test_three_worker_processes_run_every_job_of_both_lanes_exactly_once(
        ctx: Context, workers: Workers) -> None:
    ids = add(ctx, "test.record", [{"n": n} for n in range(150)])
    ids += add(ctx, "test.record", [{"n": n} for n in range(150, 200)], lane=jobs.BULK)
    started = [workers.start() for _ in range(3)]
    wait_for(lambda: set(workers.statuses().values()) == {"done"}, "every job done")
    assert [workers.stop(process) for process in started] == [0, 0, 0]
    ran = workers.lines("ran")
    assert sorted(n for n, _ in ran) == list(range(200))  # each once, none twice
    assert len(ids) == 200


def test_a_killed_workers_job_runs_again_after_its_lease_and_nothing_done_is_lost(
        ctx: Context, workers: Workers) -> None:
    done_first = add(ctx, "test.record", [{"n": n} for n in range(20)])
    (slow,) = add(ctx, "test.slow", [{"n": 99}], lane=jobs.BULK)
    first = workers.start()
    wait_for(lambda: workers.lines("start") == [(99, first.pid)], "the slow job started")
    wait_for(lambda: all(workers.statuses()[i] == "done" for i in done_first),
             "the quick jobs done")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=PATIENCE)
    assert workers.job(slow).status == "running"  # left behind, on a lease nobody renews
    workers.release.touch()
    second = workers.start()
    wait_for(lambda: workers.statuses()[slow] == "done", "the slow job done by the second")
    assert workers.stop(second) == 0
    assert workers.lines("start") == [(99, first.pid), (99, second.pid)]
    assert workers.lines("end") == [(99, second.pid)]
    assert sorted(n for n, _ in workers.lines("ran")) == list(range(20))  # none ran again
    assert set(workers.statuses().values()) == {"done"}
    assert workers.job(slow).attempts == 2


def test_sigterm_drains_the_running_job_gives_back_the_unstarted_one_and_exits_0(
        ctx: Context, workers: Workers) -> None:
    running, waiting = add(ctx, "test.slow", [{"n": 1}, {"n": 2}], lane=jobs.BULK)
    process = workers.start(lanes="bulk")  # the bulk lane claims two jobs at a time
    wait_for(lambda: workers.lines("start") == [(1, process.pid)], "the first job started")
    assert workers.job(waiting).status == "running"  # claimed along with the first
    process.send_signal(signal.SIGTERM)
    workers.release.touch()  # the running job may finish now
    assert process.wait(timeout=PATIENCE) == 0
    assert workers.lines("end") == [(1, process.pid)]
    assert workers.job(running).status == "done"
    given_back = workers.job(waiting)
    assert (given_back.status, given_back.attempts, given_back.locked_by) == ("queued", 0, None)
    assert [n for n, _ in workers.lines("start")] == [1]  # the second was never started


def test_a_job_running_longer_than_its_lease_on_a_live_worker_runs_once(
        ctx: Context, workers: Workers) -> None:
    (slow,) = add(ctx, "test.slow", [{"n": 7, "seconds": 8}], lane=jobs.BULK)  # 4 leases
    started = [workers.start(), workers.start()]
    wait_for(lambda: workers.statuses()[slow] == "done", "the long job done")
    assert [workers.stop(process) for process in started] == [0, 0]
    assert len(workers.lines("start")) == 1 and len(workers.lines("end")) == 1
    assert workers.job(slow).attempts == 1


def test_realtime_jobs_are_done_while_a_bulk_job_runs_in_the_same_worker(
        ctx: Context, workers: Workers) -> None:
    (bulk,) = add(ctx, "test.slow", [{"n": 1000}], lane=jobs.BULK)
    process = workers.start()
    wait_for(lambda: len(workers.lines("start")) == 1, "the bulk job started")
    live = add(ctx, "test.record", [{"n": n} for n in range(30)])
    wait_for(lambda: all(workers.statuses()[i] == "done" for i in live),
             "the real-time jobs done")
    assert workers.job(bulk).status == "running" and workers.lines("end") == []
    workers.release.touch()
    wait_for(lambda: workers.statuses()[bulk] == "done", "the bulk job done")
    assert workers.stop(process) == 0


SCHEDULER = textwrap.dedent("""
    import os, sys, time
    import datetime as dt
    from tiyan.context import Context
    from tiyan.services import jobs
    from tiyan.settings import load_settings
    from tiyan.store.db import Database

    url, go = sys.argv[1], sys.argv[2]
    db = Database(url)
    ctx = Context(db, load_settings(db_url=url))
    jobs.load_handlers()
    while not os.path.exists(go):
        time.sleep(0.01)
    for _ in range(40):
        jobs.schedule_periodic(ctx)
        with db.write() as conn:
            jobs.enqueue(conn, "test.periodic", {}, run_at=dt.datetime.now(dt.UTC),
                         unique_key="test.periodic")
    db.dispose()
""")


def test_two_processes_scheduling_periodic_work_make_one_row_per_kind(
        ctx: Context, tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "TIYAN_RETENTION_JOB_DAYS": "30"}
    processes = [subprocess.Popen([sys.executable, "-c", SCHEDULER, ctx.settings.db_url,
                                   str(go)], env=env) for _ in range(2)]
    go.touch()
    assert [process.wait(timeout=PATIENCE) for process in processes] == [0, 0]
    with ctx.db.read() as conn:
        kinds = Counter(conn.execute(sa.select(t.job.c.kind)).scalars())
    assert kinds["test.periodic"] == 1
    assert kinds["retention.apply"] == 1
