"""Background work: a durable job queue in the database, run inside the app or by `tiyan worker`.

A use case enqueues a job in the same transaction as the change that causes it (so a job exists
exactly when its change was committed); a worker claims due jobs, runs their handler, and either
marks them done or schedules a retry with exponential back-off. A job whose worker died while
running it is claimed again once its lock is older than `STALE_LOCK`.

    @job_handler("email.send")
    def send_email(ctx: Context, payload: dict[str, Any]) -> None: ...

    enqueue(conn, "email.send", {"invitation_id": 7}, run_at=now)
    run_due(ctx)            # or: start_worker(ctx) inside the app
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.store import tables as t
from tiyan.store.driver_insert import driver_insert, insert_rows

log = logging.getLogger(__name__)

JobHandler = Callable[[Context, dict[str, Any]], None]

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)
STALE_LOCK = dt.timedelta(minutes=10)

_HANDLERS: dict[str, JobHandler] = {}

# Modules whose @job_handler functions a worker needs; each capability adds its own here.
HANDLER_MODULES: tuple[str, ...] = (
    "tiyan.services.arrivals",
    "tiyan.services.text_analysis",
    "tiyan.services.webhooks",
    "tiyan.services.alerts",
    "tiyan.services.cases",
    "tiyan.services.notifications",
    "tiyan.services.voc_reports",
    "tiyan.services.invitations",
    "tiyan.services.churn",
    "tiyan.services.aggregates",
    "tiyan.services.import_jobs",
    "tiyan.services.retention",
)


class RetryLater(Exception):  # noqa: N818 - it is an instruction, not an error
    """Raised by a handler that wants to run again at a given time without counting a failure."""

    def __init__(self, at: dt.datetime, reason: str = "") -> None:
        super().__init__(reason)
        self.at = at


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of `kind`."""

    def register(func: JobHandler) -> JobHandler:
        _HANDLERS[kind] = func
        return func

    return register


PeriodicStart = Callable[[sa.Connection, Context], None]
_PERIODIC: list[PeriodicStart] = []


def periodic(func: PeriodicStart) -> PeriodicStart:
    """Register a function that queues a periodic job when it is due and not queued yet; a
    worker runs them all when it starts (`schedule_periodic`)."""
    _PERIODIC.append(func)
    return func


def schedule_periodic(ctx: Context) -> None:
    """Queue every periodic job that should be queued (the worker's start)."""
    load_handlers()
    with ctx.db.write() as conn:
        for start in _PERIODIC:
            start(conn, ctx)


def load_handlers() -> None:
    """Import every module that registers job handlers (a worker calls this before running)."""
    import importlib

    for module in HANDLER_MODULES:
        importlib.import_module(module)


def enqueue(conn: sa.Connection, kind: str, payload: dict[str, Any], *,
            run_at: dt.datetime) -> int:
    """Add a job to the queue, inside the caller's transaction."""
    result = conn.execute(t.job.insert().values(
        kind=kind, payload=payload, status="queued", run_at=run_at, attempts=0,
        created_at=run_at,
    ))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


_JOB_COLUMNS = ("kind", "payload", "status", "run_at", "attempts", "created_at")


def enqueue_many(conn: sa.Connection, jobs: list[tuple[str, dict[str, Any]]], *,
                 run_at: dt.datetime) -> None:
    """Add several jobs in one statement (the cheap way on a hot write path)."""
    if jobs:
        spec = driver_insert(conn.dialect, t.job, _JOB_COLUMNS)
        insert_rows(conn, spec, [spec.row((kind, payload, "queued", run_at, 0, run_at))
                                 for kind, payload in jobs])


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at 6 hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), dt.timedelta(hours=6))


def _claim(ctx: Context, worker: str, limit: int) -> list[ClaimedJob]:
    """Take up to `limit` due jobs for `worker` in one UPDATE … RETURNING, whose subquery picks
    the jobs: the statement is atomic on SQLite too (it holds the database's write lock from
    the pick to the change), so two processes never take the same job; on PostgreSQL the pick
    skips rows another worker has locked (FOR UPDATE SKIP LOCKED)."""
    now = ctx.now()
    due = sa.or_(
        sa.and_(t.job.c.status == "queued", t.job.c.run_at <= now),
        sa.and_(t.job.c.status == "running", t.job.c.locked_at < now - STALE_LOCK),
    )
    pick = sa.select(t.job.c.id).where(due).order_by(t.job.c.run_at, t.job.c.id).limit(limit)
    if not ctx.db.is_sqlite:
        pick = pick.with_for_update(skip_locked=True)
    claim = (t.job.update().where(t.job.c.id.in_(pick.scalar_subquery()))
             .values(status="running", locked_by=worker, locked_at=now,
                     attempts=t.job.c.attempts + 1)
             .returning(t.job.c.id, t.job.c.kind, t.job.c.payload, t.job.c.attempts,
                        t.job.c.run_at))
    with ctx.db.write() as conn:
        rows = sorted(conn.execute(claim).all(), key=lambda row: (row.run_at, row.id))
    return [ClaimedJob(row.id, row.kind, dict(row.payload), row.attempts) for row in rows]


def _finish(ctx: Context, job: ClaimedJob, **values: Any) -> None:
    with ctx.db.write() as conn:
        conn.execute(t.job.update().where(t.job.c.id == job.id).values(
            locked_by=None, locked_at=None, **values))


def run_job(ctx: Context, job: ClaimedJob) -> bool:
    """Run one claimed job; True when it is done."""
    handler = _HANDLERS.get(job.kind)
    if handler is None:
        _finish(ctx, job, status="failed", last_error=f"no handler for job kind {job.kind!r}")
        return False
    try:
        handler(ctx, job.payload)
    except RetryLater as later:
        _finish(ctx, job, status="queued", run_at=later.at, attempts=job.attempts - 1,
                last_error=str(later) or None)
        return False
    except Exception as exc:  # noqa: BLE001 - a failing job must never stop the worker
        log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, exc)
        if job.attempts >= MAX_ATTEMPTS:
            _finish(ctx, job, status="failed", last_error=repr(exc)[:2000])
        else:
            _finish(ctx, job, status="queued", run_at=ctx.now() + retry_delay(job.attempts),
                    last_error=repr(exc)[:2000])
        return False
    _finish(ctx, job, status="done", last_error=None)
    return True


def run_due(ctx: Context, *, worker: str | None = None, limit: int = 50) -> int:
    """Claim and run the jobs that are due now; returns how many ran (done or not)."""
    load_handlers()
    name = worker or f"{socket.gethostname()}:{os.getpid()}"
    jobs = _claim(ctx, name, limit)
    for job in jobs:
        run_job(ctx, job)
    return len(jobs)


def run_until_idle(ctx: Context, *, max_rounds: int = 100) -> int:
    """Run due jobs until none is due (jobs may enqueue further jobs); for tests and the CLI."""
    total = 0
    for _ in range(max_rounds):
        ran = run_due(ctx)
        total += ran
        if ran == 0:
            break
    return total


def job_counts(ctx: Context) -> dict[str, int]:
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.job.c.status, sa.func.count())
                            .group_by(t.job.c.status)).all()
    return {status: int(count) for status, count in rows}


class Worker:
    """Runs due jobs every `poll_seconds` on a daemon thread until stopped."""

    def __init__(self, ctx: Context, poll_seconds: float = 1.0, name: str = "app") -> None:
        self._ctx = ctx
        self._poll = poll_seconds
        self._name = f"{name}:{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="tiyan-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for work now instead of at the next poll (after enqueueing something urgent)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            schedule_periodic(self._ctx)  # here, not in start(): that runs on the event loop
        except Exception:  # noqa: BLE001 - the loop below tries the jobs table again
            log.exception("background worker: could not schedule periodic jobs")
        while not self._stop.is_set():
            try:
                ran = run_due(self._ctx, worker=self._name)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again later
                log.exception("background worker: could not claim jobs")
                ran = 0
            if ran == 0:
                self._wake.wait(self._poll)
                self._wake.clear()
