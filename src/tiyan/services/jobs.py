"""Background work: a durable job queue in the database, run inside the app or by `tiyan worker`.

A use case enqueues a job in the same transaction as the change that causes it (so a job exists
exactly when its change was committed); a worker claims due jobs, runs their handler, and either
marks them done or schedules a retry with exponential back-off.

Every job kind belongs to a lane (domain/jobs.py: `realtime` or `bulk`); a worker runs each of
its lanes on a thread of its own, so a long import never holds up an alert. A claimed job carries
a lease (`lease_until`, TIYAN_JOB_LEASE_SECONDS) that the worker's heartbeat renews while the job
runs; a job whose lease ran out (its worker died) is claimable again, and a job that runs longer
than a lease on a live worker is never run twice. A job's end is recorded only by the claim
that still holds it (its worker and attempt number), so a worker that lost its lease cannot
overwrite the outcome of the one that took the job over.

The queue's own bookkeeping (claims, ends, lease renewals) commits without waiting for the disk
on PostgreSQL (`Database.write_unflushed`): a crash of the database server can undo only the
last of these, which puts a job back to run again, as a worker's crash would; handlers' side
effects are idempotent for that reason already, and their own commits stay durable.

    @job_handler("email.send")                     # lane=BULK for work that may take minutes
    def send_email(ctx: Context, payload: dict[str, Any]) -> None: ...

    enqueue(conn, "email.send", {"invitation_id": 7}, run_at=now)
    run_due(ctx)            # or: Worker(ctx).start() inside the app, `tiyan worker` outside

A kind whose jobs are cheap and many (a response's follow-ups) registers a batch handler
instead: the worker tops its claim up to `BATCH_SIZE` due jobs of that kind and hands them over
together, so the handler can do their work in one transaction; a batch that raises is run again
one job at a time, so a bad job fails (or retries) alone with its own reason.

    @batch_job_handler("aggregates.fold")
    def fold_batch(ctx: Context, jobs: list[ClaimedJob]) -> dict[int, Exception]: ...
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.domain.jobs import BULK, LANES, REALTIME
from tiyan.errors import Phrase
from tiyan.metrics import job_ran
from tiyan.store import tables as t
from tiyan.store.db import Database, yielding_writes
from tiyan.store.driver_insert import driver_insert, insert_rows
from tiyan.store.id_lists import among

log = logging.getLogger(__name__)

JobHandler = Callable[[Context, dict[str, Any]], None]
# Runs claimed jobs of one kind together; returns {job id: what stopped it} for the jobs that
# did not finish (RetryLater or an error), and raises when the batch as a whole failed.
BatchHandler = Callable[[Context, list["ClaimedJob"]], Mapping[int, Exception]]

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(seconds=30)
CLAIM_LIMIT = {REALTIME: 20, BULK: 2}  # jobs a lane's thread takes at a time
# Jobs of one kind a batch handler gets at most. A batch has fixed costs (its claim and end,
# the handler's reads and aggregate statements, one model call): 500 instead of 200 took a
# PostgreSQL worker's thread CPU from 2.3 to 1.6 ms per response in bench/pipeline.py.
BATCH_SIZE = 500
# How long bulk work of a process waits, at each of its slices, for the process's real-time
# lane to go idle (`yield_to_realtime`) before it takes its turn anyway.
REALTIME_FIRST_MAX_WAIT_S = 2.0
# An idle bulk lane looks for work at most this often, whatever the poll setting: nobody waits
# for bulk work to start within a second, and each look costs CPU in every worker process.
BULK_POLL_MIN_S = 1.0

_HANDLERS: dict[str, JobHandler] = {}
_BATCH_HANDLERS: dict[str, BatchHandler] = {}
_LANE_OF: dict[str, str] = {}
_ONE_AT_A_TIME: set[str] = set()  # kinds queued with unique_key=kind (periodic and purge jobs)
_RUNNING_LANE: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_lane",
                                                                          default=None)

# Modules whose @job_handler functions a worker needs; each capability adds its own here.
HANDLER_MODULES: tuple[str, ...] = (
    "tiyan.services.arrivals",
    "tiyan.services.text_analysis",
    "tiyan.services.text_corrections",
    "tiyan.services.webhooks",
    "tiyan.services.alerts",
    "tiyan.services.cases",
    "tiyan.services.notifications",
    "tiyan.services.voc_reports",
    "tiyan.services.invitations",
    "tiyan.services.churn",
    "tiyan.services.aggregates",
    "tiyan.services.import_jobs",
    "tiyan.services.storage",
    "tiyan.services.retention",
)

__all__ = ["BULK", "LANES", "REALTIME", "ClaimedJob", "JobFailed", "LaneBacklog", "RetryLater",
           "Worker", "batch_job_handler", "enqueue", "enqueue_many", "job_backlog", "job_counts",
           "job_handler", "lane_of", "periodic", "run_due", "run_until_idle", "runs_one_at_a_time",
           "in_bulk_work", "schedule_periodic", "yield_to_realtime"]


class RetryLater(Exception):  # noqa: N818 - it is an instruction, not an error
    """Raised by a handler that wants to run again at a given time without counting a failure
    (a periodic job re-queues itself this way, keeping its row and unique key)."""

    def __init__(self, at: dt.datetime, reason: str = "") -> None:
        super().__init__(reason)
        self.at = at


class JobFailed(Exception):  # noqa: N818 - it is a verdict on the job
    """Raised by a handler whose job can never succeed (the file it needs is gone): the job is
    failed at once with this reason, without the retries an unexpected error gets. `why`: the
    same reason as a message of the error catalogue, for the reader's language."""

    def __init__(self, reason: str, *, why: Phrase | None = None) -> None:
        super().__init__(reason)
        self.why = why


def job_handler(kind: str, *, lane: str = REALTIME,
                one_at_a_time: bool = False) -> Callable[[JobHandler], JobHandler]:
    """Register the function that runs jobs of `kind`, and the lane they are queued in.
    `one_at_a_time`: the kind is queued with `unique_key=kind` (a periodic job), so at most one
    row of it is queued or running; a retry of a failed one takes the key back."""
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r}")

    def register(func: JobHandler) -> JobHandler:
        _HANDLERS[kind] = func
        _LANE_OF[kind] = lane
        if one_at_a_time:
            _ONE_AT_A_TIME.add(kind)
        return func

    return register


def runs_one_at_a_time(kind: str) -> bool:
    """Whether `kind` is queued under its own unique key (after `load_handlers`)."""
    return kind in _ONE_AT_A_TIME


def batch_job_handler(kind: str, *,
                      lane: str = REALTIME) -> Callable[[BatchHandler], BatchHandler]:
    """Register the function that runs claimed jobs of `kind` together (see the module doc)."""
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r}")

    def register(func: BatchHandler) -> BatchHandler:
        _BATCH_HANDLERS[kind] = func
        _LANE_OF[kind] = lane
        return func

    return register


def lane_of(kind: str) -> str:
    """The lane of a job kind (real-time unless its handler says otherwise); a job queued by a
    bulk job is bulk work too (an import's alerts do not crowd out a live response's)."""
    return BULK if _RUNNING_LANE.get() == BULK else _LANE_OF.get(kind, REALTIME)


class _RealtimeActivity:
    """Whether this process's real-time lane is running jobs: bulk work of the same process
    waits for it between slices (`yield_to_realtime`), so an alert never queues behind an
    import for the CPU (the threads share one interpreter lock) or SQLite's writer."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = 0

    def begin(self) -> None:
        with self._cond:
            self._busy += 1

    def end(self) -> None:
        with self._cond:
            self._busy -= 1
            if not self._busy:
                self._cond.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no real-time job runs (at most `timeout` s); True when it is idle."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy, timeout)


_REALTIME = _RealtimeActivity()


def _wait_for_realtime(max_wait: float = REALTIME_FIRST_MAX_WAIT_S) -> None:
    if _REALTIME.busy:
        _REALTIME.wait_idle(max_wait)


def in_bulk_work() -> bool:
    """Whether this code runs as part of a bulk-lane job (it then works in slices)."""
    return _RUNNING_LANE.get() == BULK


def yield_to_realtime(max_wait: float | None = None) -> None:
    """Called by bulk work between its slices (an import's chunks, a bulk lane's batches): when
    this process's real-time lane is running jobs, wait until it is idle (at most `max_wait`,
    REALTIME_FIRST_MAX_WAIT_S by default, so bulk work still moves under a constant real-time
    stream). Outside bulk work it returns at once."""
    if in_bulk_work():
        _wait_for_realtime(REALTIME_FIRST_MAX_WAIT_S if max_wait is None else max_wait)


@contextlib.contextmanager
def _in_lane(lane: str) -> Iterator[None]:
    """Run a job's handler as work of `lane`: the jobs it queues are of that lane too, and a bulk
    job's SQLite writes let real-time writers of the process go first."""
    token = _RUNNING_LANE.set(lane)
    try:
        if lane == BULK:
            with yielding_writes():
                yield
        else:
            yield
    finally:
        _RUNNING_LANE.reset(token)


PeriodicStart = Callable[[sa.Connection, Context], None]
_PERIODIC: list[PeriodicStart] = []


def periodic(func: PeriodicStart) -> PeriodicStart:
    """Register a function that queues a periodic job when it is due; a worker runs them all
    when it starts (`schedule_periodic`). They enqueue with `unique_key=` the kind, so two
    processes starting at once make one row."""
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
            run_at: dt.datetime, lane: str | None = None,
            unique_key: str | None = None) -> int | None:
    """Add a job to the queue, inside the caller's transaction; its id. With `unique_key`,
    nothing is added (None) while a queued or running job holds that key."""
    lane = lane or lane_of(kind)
    values = {"kind": kind, "payload": payload, "status": "queued", "run_at": run_at,
              "attempts": 0, "created_at": run_at, "lane": lane, "unique_key": unique_key}
    _note_enqueued(conn, lane)
    if unique_key is None:
        result = conn.execute(t.job.insert().values(**values))
        return int(result.inserted_primary_key[0])  # type: ignore[index]
    insert: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    added = conn.execute(insert(t.job).values(**values)
                         .on_conflict_do_nothing(index_elements=["unique_key"])
                         .returning(t.job.c.id)).first()
    return None if added is None else int(added.id)


# --- waking this process's workers when a transaction that enqueued work commits --------------
# A worker of this process (the app's own) looks for work when a transaction that queued a job
# of its lane commits, instead of at its next poll (1 s by default): a survey answer's alert
# starts within milliseconds. Workers of other processes still find it at their next poll.

_ENQUEUED = "tiyan.jobs.enqueued_lanes"  # on the connection: lanes this transaction queued into
_COMMITTED = "tiyan.jobs.committed_lanes"  # …and that its commit made visible, to tell on


def _note_enqueued(conn: sa.Connection, lane: str) -> None:
    conn.info.setdefault(_ENQUEUED, set()).add(lane)


class _CommitWakes:
    """Per database: the wake-ups of this process's workers, called after a commit on its
    engine that queued work of their lane (a rollback forgets what was queued).

    SQLAlchemy's `commit` event comes *before* the database commits: a worker woken there
    could claim, not see the job yet (PostgreSQL), and sleep until its next poll. So the commit
    only marks the lanes, and they are told when the connection goes back to the pool, which
    every transaction of the store does right after its commit (`Database.write`,
    `RequestWork.finish`)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()
        sa.event.listen(engine, "commit", self._committing)
        sa.event.listen(engine, "rollback", self._rolled_back)
        sa.event.listen(engine, "checkin", self._checked_in)

    @staticmethod
    def _committing(conn: sa.Connection) -> None:
        lanes = conn.info.pop(_ENQUEUED, None)
        if lanes:
            conn.info.setdefault(_COMMITTED, set()).update(lanes)

    @staticmethod
    def _rolled_back(conn: sa.Connection) -> None:
        conn.info.pop(_ENQUEUED, None)

    def _checked_in(self, dbapi_connection: object, record: Any) -> None:
        if record is None:  # a connection detached from the pool
            return
        lanes = record.info.pop(_COMMITTED, None)
        if lanes:
            with self._lock:
                listeners = list(self.listeners)
            for lane in lanes:
                for listener in listeners:
                    listener(lane)

    def add(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            self.listeners.append(listener)

    def remove(self, listener: Callable[[str], None]) -> None:
        with self._lock:
            if listener in self.listeners:
                self.listeners.remove(listener)


_commit_wakes: weakref.WeakKeyDictionary[Database, _CommitWakes] = weakref.WeakKeyDictionary()
_commit_wakes_lock = threading.Lock()


def _wakes_of(db: Database) -> _CommitWakes:
    with _commit_wakes_lock:
        wakes = _commit_wakes.get(db)
        if wakes is None:
            wakes = _commit_wakes[db] = _CommitWakes(db.engine)
        return wakes


_JOB_COLUMNS = ("kind", "payload", "status", "run_at", "attempts", "created_at", "lane")


def enqueue_many(conn: sa.Connection, jobs: list[tuple[str, dict[str, Any]]], *,
                 run_at: dt.datetime, lane: str | None = None) -> None:
    """Add several jobs in one statement (the cheap way on a hot write path)."""
    if jobs:
        for lane_named in {lane or lane_of(kind) for kind, _ in jobs}:
            _note_enqueued(conn, lane_named)
        spec = driver_insert(conn.dialect, t.job, _JOB_COLUMNS)
        insert_rows(conn, spec, [spec.row((kind, payload, "queued", run_at, 0, run_at,
                                           lane or lane_of(kind)))
                                 for kind, payload in jobs])


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    worker: str = ""  # who claimed it; with `attempts`, the claim that may record its end
    lane: str = REALTIME


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at 6 hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), dt.timedelta(hours=6))


def lease(ctx: Context) -> dt.timedelta:
    return dt.timedelta(seconds=ctx.settings.job_lease_seconds)


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    """Queued and due, or running on a lease that ran out (its worker stopped renewing it)."""
    return sa.or_(sa.and_(t.job.c.status == "queued", t.job.c.run_at <= now),
                  sa.and_(t.job.c.status == "running", t.job.c.lease_until < now))


def _claim(ctx: Context, worker: str, limit: int, lanes: Sequence[str] = LANES,
           kind: str | None = None) -> list[ClaimedJob]:
    """Take up to `limit` due jobs of `lanes` (real-time ones first) for `worker` in one
    UPDATE … RETURNING, whose subquery picks the jobs: the statement is atomic on SQLite too
    (it holds the database's write lock from the pick to the change), so two processes never
    take the same job; on PostgreSQL the pick skips rows another worker has locked (FOR UPDATE
    SKIP LOCKED). Each claim counts an attempt and starts a lease. `kind`: only jobs of it."""
    now = ctx.now()
    first = sa.case((t.job.c.lane == REALTIME, 0), else_=1)
    pick = (sa.select(t.job.c.id).where(_due(now), t.job.c.lane.in_(list(lanes)))
            .order_by(first, t.job.c.run_at, t.job.c.id).limit(limit))
    if kind is not None:
        pick = pick.where(t.job.c.kind == kind)
    if len(lanes) == 1:
        pick = pick.order_by(None).order_by(t.job.c.run_at, t.job.c.id)
    if not ctx.db.is_sqlite:
        pick = pick.with_for_update(skip_locked=True)
    claim = (t.job.update().where(t.job.c.id.in_(pick.scalar_subquery()))
             .values(status="running", locked_by=worker, locked_at=now,
                     lease_until=now + lease(ctx), attempts=t.job.c.attempts + 1)
             .returning(t.job.c.id, t.job.c.kind, t.job.c.payload, t.job.c.attempts,
                        t.job.c.run_at, t.job.c.lane))
    with ctx.db.write_unflushed() as conn:
        rows = sorted(conn.execute(claim).all(),
                      key=lambda row: (row.lane != REALTIME, row.run_at, row.id))
    return [ClaimedJob(row.id, row.kind, dict(row.payload), row.attempts, worker, row.lane)
            for row in rows]


def _anything_due(ctx: Context, lane: str) -> bool:
    """Whether a job of `lane` is due (a read: what an idle worker polls)."""
    with ctx.db.read() as conn:
        return conn.execute(sa.select(t.job.c.id).where(_due(ctx.now()), t.job.c.lane == lane)
                            .limit(1)).first() is not None


def _held(job: ClaimedJob) -> sa.ColumnElement[bool]:
    """The job's row while this claim still holds it."""
    return sa.and_(t.job.c.id == job.id, t.job.c.status == "running",
                   t.job.c.locked_by == job.worker, t.job.c.attempts == job.attempts)


def _finish(ctx: Context, job: ClaimedJob, **values: Any) -> bool:
    """Record a job's end, if this claim still holds it; a job that ends keeps no unique key
    (the next periodic run may be queued)."""
    if values.get("status") in ("done", "failed"):
        values["unique_key"] = None
    if "last_error" in values and "last_error_key" not in values:  # a reason of another kind
        values.update(last_error_key=None, last_error_params=None)
    with ctx.db.write_unflushed() as conn:
        changed = conn.execute(t.job.update().where(_held(job)).values(
            locked_by=None, locked_at=None, lease_until=None, **values)).rowcount
    if not changed:
        log.warning("job %s (%s): its lease ran out and another worker took it over; this "
                    "run's outcome (%s) is not recorded", job.id, job.kind, values.get("status"))
    return bool(changed)


def release(ctx: Context, jobs: Iterable[ClaimedJob]) -> int:
    """Give claimed jobs that were not started back to the queue, due now (a draining worker);
    the claim's attempt is not counted."""
    count = 0
    with ctx.db.write_unflushed() as conn:
        for job in jobs:
            count += int(conn.execute(t.job.update().where(_held(job)).values(
                status="queued", locked_by=None, locked_at=None, lease_until=None,
                attempts=job.attempts - 1)).rowcount or 0)
    return count


def run_job(ctx: Context, job: ClaimedJob) -> bool:
    """Run one claimed job; True when it is done."""
    if job.kind not in _HANDLERS and job.kind in _BATCH_HANDLERS:
        return run_batch(ctx, [job]) == 1
    started = time.perf_counter()
    outcome = _run_job(ctx, job)
    job_ran(job.kind, outcome, time.perf_counter() - started)
    return outcome == "done"


def _run_job(ctx: Context, job: ClaimedJob) -> str:
    """Run the job's handler and record how it went: done, retry or failed."""
    handler = _HANDLERS.get(job.kind)
    if handler is None:
        log.error("job failed: no handler for its kind", extra=_about(job))
        _finish(ctx, job, status="failed", last_error=f"no handler for job kind {job.kind!r}")
        return "failed"
    try:
        with _in_lane(job.lane):
            handler(ctx, job.payload)
    except RetryLater as later:
        _finish(ctx, job, status="queued", run_at=later.at, attempts=job.attempts - 1,
                last_error=str(later) or None)
        return "retry"
    except JobFailed as failed:
        log.warning("job failed, not to be retried: %s", failed, extra=_about(job))
        _finish(ctx, job, status="failed", **_reason(failed))
        return "failed"
    except Exception as exc:  # noqa: BLE001 - a failing job must never stop the worker
        final = job.attempts >= MAX_ATTEMPTS
        log.warning("job failed%s", ", no attempts left" if final else ", will retry",
                    exc_info=True, extra={**_about(job), "error": type(exc).__name__})
        if final:
            _finish(ctx, job, status="failed", **_reason(exc))
            return "failed"
        _finish(ctx, job, status="queued", run_at=ctx.now() + retry_delay(job.attempts),
                **_reason(exc))
        return "retry"
    _finish(ctx, job, status="done", last_error=None)
    return "done"


def _about(job: ClaimedJob) -> dict[str, Any]:
    """What a log line says about a job: its id, kind and attempt, never its payload."""
    return {"job_id": job.id, "kind": job.kind, "lane": job.lane, "attempt": job.attempts}


def run_batch(ctx: Context, jobs: list[ClaimedJob]) -> int:
    """Run claimed jobs of one kind through its batch handler; how many are done. When the
    handler raises, each job is run again alone, so only the bad one fails or retries."""
    started = time.perf_counter()
    try:
        with _in_lane(jobs[0].lane):
            stopped = _BATCH_HANDLERS[jobs[0].kind](ctx, jobs)
    except Exception as exc:  # noqa: BLE001 - a failing batch must never stop the worker
        if len(jobs) > 1:
            log.warning("a batch of %s jobs failed, running them one by one", len(jobs),
                        exc_info=True, extra={"kind": jobs[0].kind,
                                              "error": type(exc).__name__})
            return sum(run_batch(ctx, [job]) for job in jobs)
        stopped = {jobs[0].id: exc}
    done = [job for job in jobs if job.id not in stopped]
    job_ran(jobs[0].kind, "done", (time.perf_counter() - started) / len(jobs), len(done))
    if done:
        with ctx.db.write_unflushed() as conn:  # the jobs this worker's claims still hold
            conn.execute(t.job.update().where(
                _claims(conn, done), t.job.c.status == "running",
                t.job.c.locked_by == jobs[0].worker,
            ).values(status="done", last_error=None, last_error_key=None,
                     last_error_params=None, unique_key=None, locked_by=None,
                     locked_at=None, lease_until=None))
    for job in jobs:
        if job.id in stopped:
            _not_done(ctx, job, stopped[job.id])
    return len(done)


def _claims(conn: sa.Connection, jobs: Sequence[ClaimedJob]) -> sa.ColumnElement[bool]:
    """The rows of these jobs at the attempt each was claimed for: the ids grouped by attempt
    (one group, as a rule), each group's ids as one parameter on PostgreSQL (`among`)."""
    by_attempt: dict[int, list[int]] = {}
    for job in jobs:
        by_attempt.setdefault(job.attempts, []).append(job.id)
    return sa.or_(*(sa.and_(t.job.c.attempts == attempt, among(conn, t.job.c.id, ids))
                    for attempt, ids in sorted(by_attempt.items())))


def _not_done(ctx: Context, job: ClaimedJob, exc: Exception) -> None:
    """Queue the job again (RetryLater: at its time; an error: after a back-off) or mark it
    failed with the reason (JobFailed, or MAX_ATTEMPTS errors)."""
    if isinstance(exc, RetryLater):
        job_ran(job.kind, "retry", None)
        _finish(ctx, job, status="queued", run_at=exc.at, attempts=job.attempts - 1,
                last_error=str(exc) or None)
        return
    if isinstance(exc, JobFailed):  # a retry cannot help
        job_ran(job.kind, "failed", None)
        log.warning("job failed, not to be retried: %s", exc, extra=_about(job))
        _finish(ctx, job, status="failed", **_reason(exc))
        return
    final = job.attempts >= MAX_ATTEMPTS
    job_ran(job.kind, "failed" if final else "retry", None)
    log.warning("job failed%s: %s", ", no attempts left" if final else ", will retry",
                type(exc).__name__, extra=_about(job))
    if final:
        _finish(ctx, job, status="failed", **_reason(exc))
    else:
        _finish(ctx, job, status="queued", run_at=ctx.now() + retry_delay(job.attempts),
                **_reason(exc))


def _reason(exc: Exception) -> dict[str, Any]:
    """What went wrong, for the jobs page: the English text (`last_error`, for logs and the
    command line) and, for tiyan's own messages, their key and values (the reader's language);
    an unexpected exception as it is."""
    from tiyan.errors import TiyanError, params_json

    why = exc.why if isinstance(exc, JobFailed) else \
        exc.phrase() if isinstance(exc, TiyanError) else None
    if isinstance(exc, TiyanError):
        text = f"{exc.message} ({exc.where})" if exc.where else exc.message
    else:
        text = str(exc) if isinstance(exc, JobFailed) else repr(exc)
    return {"last_error": text[:2000], "last_error_key": why.key if why else None,
            "last_error_params": params_json(why.params) if why else None}


class Leases:
    """The jobs one worker holds, whose leases a heartbeat thread renews every third of a
    lease until they end (`hold` / `drop`)."""

    def __init__(self, ctx: Context, worker: str) -> None:
        self._ctx = ctx
        self._worker = worker
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Leases:
        self._thread = threading.Thread(target=self._beat, name="tiyan-lease", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def hold(self, jobs: Iterable[ClaimedJob]) -> None:
        with self._lock:
            self._ids.update(job.id for job in jobs)

    def drop(self, jobs: Iterable[ClaimedJob]) -> None:
        with self._lock:
            self._ids.difference_update(job.id for job in jobs)

    def renew(self) -> int:
        """Push the held jobs' leases one lease past now; how many were still ours."""
        with self._lock:
            ids = sorted(self._ids)
        if not ids:
            return 0
        until = self._ctx.now() + lease(self._ctx)
        with self._ctx.db.write_unflushed() as conn:
            return int(conn.execute(t.job.update().where(
                among(conn, t.job.c.id, ids), t.job.c.status == "running",
                t.job.c.locked_by == self._worker).values(lease_until=until)).rowcount or 0)

    def _beat(self) -> None:
        every = max(self._ctx.settings.job_lease_seconds / 3, 0.5)
        while not self._stop.wait(every):
            try:
                self.renew()
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again
                log.exception("background worker: could not renew the leases of its jobs")


def worker_name(prefix: str = "worker") -> str:
    """Unique for this claimer: host, process and a random part (a restarted process with the
    same pid is another claimer)."""
    return f"{prefix}:{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(3)}"


def _run_claimed(ctx: Context, jobs: list[ClaimedJob], leases: Leases,
                 stop: threading.Event | None = None) -> int:
    """Run claimed jobs in order while their leases are renewed, the jobs of a batch kind
    together (`_batches`); when `stop` is set, give the ones not started back. How many ran."""
    runs = _batches(ctx, jobs)
    leases.hold(job for run in runs for job in run)
    started = 0
    try:
        for run in runs:
            if run[0].lane == BULK:
                _wait_for_realtime()
            if stop is not None and stop.is_set():
                break
            try:
                if run[0].kind in _BATCH_HANDLERS:
                    run_batch(ctx, run)
                else:
                    run_job(ctx, run[0])
            finally:
                leases.drop(run)
            started += 1
    finally:
        rest = [job for run in runs[started:] for job in run]
        if rest:
            leases.drop(rest)
            release(ctx, rest)
    return sum(len(run) for run in runs[:started])


def _batches(ctx: Context, jobs: list[ClaimedJob]) -> list[list[ClaimedJob]]:
    """The claimed jobs as runs: one per job, or one per batch kind and lane (at the place of
    its first job), in the real-time lane topped up by a claim of more due jobs of that kind,
    to BATCH_SIZE."""
    runs: list[list[ClaimedJob]] = []
    batched: dict[tuple[str, str], list[ClaimedJob]] = {}
    for job in jobs:
        if job.kind not in _BATCH_HANDLERS:
            runs.append([job])
        elif (job.kind, job.lane) in batched:
            batched[job.kind, job.lane].append(job)
        else:
            runs.append(batched.setdefault((job.kind, job.lane), [job]))
    for (kind, lane), run in batched.items():  # bulk jobs come in large chunks already
        if lane == REALTIME and len(run) < BATCH_SIZE:
            run += _claim(ctx, run[0].worker, BATCH_SIZE - len(run), (lane,), kind)
    return runs


def run_due(ctx: Context, *, worker: str | None = None, limit: int = 50,
            lanes: Sequence[str] = LANES) -> int:
    """Claim and run the jobs of `lanes` that are due now, real-time ones first; returns how
    many ran (done or not). Their leases are renewed while they run."""
    load_handlers()
    name = worker or worker_name("run")
    jobs = _claim(ctx, name, limit, lanes)
    if not jobs:
        return 0
    leases = Leases(ctx, name).start()
    try:
        return _run_claimed(ctx, jobs, leases)
    finally:
        leases.stop()


def run_until_idle(ctx: Context, *, max_rounds: int = 100,
                   lanes: Sequence[str] = LANES) -> int:
    """Run due jobs until none is due (jobs may enqueue further jobs); for tests and the CLI."""
    total = 0
    for _ in range(max_rounds):
        ran = run_due(ctx, lanes=lanes)
        total += ran
        if ran == 0:
            break
    return total


def job_counts(ctx: Context) -> dict[str, int]:
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.job.c.status, sa.func.count())
                            .group_by(t.job.c.status)).all()
    return {status: int(count) for status, count in rows}


@dataclass(frozen=True)
class LaneBacklog:
    lane: str
    due: int                        # queued and due, or running on a lease that ran out
    running: int                    # running on a live lease
    oldest_due_seconds: float       # how long the oldest due job has waited (0: none due)


def job_backlog(ctx: Context) -> dict[str, LaneBacklog]:
    """Per lane: the due jobs, the running ones and the age of the oldest due one (for
    /readyz, metrics and the jobs page). Every lane is listed, busy or not."""
    now = ctx.now()
    J = t.job
    live = sa.and_(J.c.status == "running", J.c.lease_until >= now)
    query = (sa.select(J.c.lane,
                       sa.func.count().filter(_due(now)),
                       sa.func.count().filter(live),
                       sa.func.min(J.c.run_at).filter(_due(now)))
             .where(J.c.status.in_(("queued", "running"))).group_by(J.c.lane))
    with ctx.db.read() as conn:
        rows = {row[0]: row for row in conn.execute(query).all()}
    backlog: dict[str, LaneBacklog] = {}
    for lane in LANES:
        row = rows.get(lane)
        oldest = _as_utc(row[3]) if row is not None and row[3] is not None else None
        backlog[lane] = LaneBacklog(
            lane, int(row[1]) if row else 0, int(row[2]) if row else 0,
            max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
    return backlog


def _as_utc(value: Any) -> dt.datetime:
    """min() over a UtcDateTime column comes back untyped on SQLite (a string or a naive
    datetime); make it an aware datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Worker:
    """Runs due jobs on one daemon thread per lane (real-time work never waits behind a bulk
    job), with a heartbeat thread renewing the leases of what it runs, until stopped.

    `stop()` drains: no more claims, the jobs running finish (up to the timeout), the claimed
    ones not started go back to the queue."""

    def __init__(self, ctx: Context, poll_seconds: float = 1.0, name: str = "app", *,
                 lanes: Sequence[str] = LANES) -> None:
        self._ctx = ctx
        self._poll = poll_seconds
        self._lanes = tuple(lanes)
        self.name = worker_name(name)
        self._stop = threading.Event()
        self._wake = {lane: threading.Event() for lane in self._lanes}
        self._threads: list[threading.Thread] = []
        self._leases = Leases(ctx, self.name)

    @property
    def lanes(self) -> tuple[str, ...]:
        return self._lanes

    def start(self) -> None:
        self._leases.start()
        _wakes_of(self._ctx.db).add(self._wake_lane)
        for index, lane in enumerate(self._lanes):
            thread = threading.Thread(target=self._loop, args=(lane, index == 0),
                                      name=f"tiyan-worker-{lane}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Look for work now instead of at the next poll (after enqueueing something urgent)."""
        for event in self._wake.values():
            event.set()

    def _wake_lane(self, lane: str) -> None:
        """A transaction of this process that queued work of `lane` committed."""
        event = self._wake.get(lane)
        if event is not None:
            event.set()

    def request_stop(self) -> None:
        """Stop claiming; what runs goes on (see `stop`)."""
        self._stop.set()
        self.wake()

    def stop(self, timeout: float = 10.0) -> bool:
        """Drain: stop claiming and wait up to `timeout` seconds for the running jobs; True when
        every lane finished (a job still running then comes back to the queue one lease after
        this process is gone)."""
        self.request_stop()
        _wakes_of(self._ctx.db).remove(self._wake_lane)
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.daemon = True
        timer.start()
        for thread in self._threads:
            while thread.is_alive() and not deadline.is_set():
                thread.join(0.1)
        timer.cancel()
        drained = not any(thread.is_alive() for thread in self._threads)
        if drained:
            self._leases.stop()
        return drained

    def _idle(self, lane: str) -> None:
        """Wait for work: until woken, or until a poll finds a job of the lane due. A poll is a
        read of the job table's index, not a claim (an idle claim is a write transaction: 5
        to 12 times the CPU, and on SQLite the process's writer lock)."""
        wake = self._wake[lane]
        poll = max(self._poll, BULK_POLL_MIN_S) if lane == BULK else self._poll
        while not self._stop.is_set():
            woken = wake.wait(poll)
            wake.clear()
            if woken or self._stop.is_set():
                return
            try:
                if _anything_due(self._ctx, lane):
                    return
            except Exception:  # noqa: BLE001 - the claim that follows logs what is wrong
                return

    def _loop(self, lane: str, schedules: bool) -> None:
        if schedules:
            try:
                schedule_periodic(self._ctx)  # here, not in start(): that runs on the event loop
            except Exception:  # noqa: BLE001 - the loop below tries the jobs table again
                log.exception("background worker: could not schedule periodic jobs")
        load_handlers()
        busy = False  # the real-time lane: it has work (bulk work of the process waits)
        try:
            while not self._stop.is_set():
                try:
                    if lane == BULK:
                        _wait_for_realtime()
                    jobs = _claim(self._ctx, self.name, CLAIM_LIMIT[lane], (lane,))
                    if lane == REALTIME and bool(jobs) != busy:
                        busy = bool(jobs)
                        if busy:
                            _REALTIME.begin()
                        else:
                            _REALTIME.end()
                    ran = _run_claimed(self._ctx, jobs, self._leases, self._stop)
                except Exception:  # noqa: BLE001 - e.g. the database restarting; try later
                    log.exception("background worker: could not claim %s jobs", lane)
                    ran = 0
                if ran == 0:
                    self._idle(lane)
        finally:
            if busy:
                _REALTIME.end()
