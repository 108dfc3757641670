"""The job queue: due jobs run once, failures retry with back-off, dead workers' jobs come back."""

from __future__ import annotations

import datetime as dt
import threading
import time

import sqlalchemy as sa

from tiyan.services import jobs
from tiyan.store import tables as t

CALLS: list[dict] = []


@jobs.job_handler("test.record")
def _record(ctx, payload):
    CALLS.append(payload)


@jobs.job_handler("test.fail")
def _fail(ctx, payload):
    raise RuntimeError("the mail server refused")


def _job(ctx, job_id):
    with ctx.db.read() as conn:
        return conn.execute(sa.select(t.job).where(t.job.c.id == job_id)).one()


def test_a_due_job_runs_once_and_a_future_one_waits(ctx):
    CALLS.clear()
    with ctx.db.write() as conn:
        now_id = jobs.enqueue(conn, "test.record", {"n": 1}, run_at=ctx.now())
        later_id = jobs.enqueue(conn, "test.record", {"n": 2},
                                run_at=ctx.now() + dt.timedelta(hours=1))
    assert jobs.run_until_idle(ctx) == 1
    assert CALLS == [{"n": 1}]
    assert _job(ctx, now_id).status == "done"
    assert _job(ctx, later_id).status == "queued"
    ctx.clock.advance(hours=1)
    jobs.run_until_idle(ctx)
    assert CALLS == [{"n": 1}, {"n": 2}]


def test_a_failing_job_is_retried_with_back_off_then_given_up(ctx):
    with ctx.db.write() as conn:
        job_id = jobs.enqueue(conn, "test.fail", {}, run_at=ctx.now())
    jobs.run_due(ctx)
    first = _job(ctx, job_id)
    assert first.status == "queued" and first.attempts == 1
    assert "mail server refused" in first.last_error
    assert first.run_at == ctx.now() + jobs.retry_delay(1)
    for _ in range(jobs.MAX_ATTEMPTS):
        ctx.clock.advance(hours=7)
        jobs.run_due(ctx)
    final = _job(ctx, job_id)
    assert final.status == "failed" and final.attempts == jobs.MAX_ATTEMPTS


def test_a_job_left_running_by_a_dead_worker_is_claimed_again_after_its_lease(ctx):
    CALLS.clear()
    lease = dt.timedelta(seconds=ctx.settings.job_lease_seconds)
    with ctx.db.write() as conn:
        job_id = jobs.enqueue(conn, "test.record", {"n": 3}, run_at=ctx.now())
        conn.execute(t.job.update().where(t.job.c.id == job_id).values(
            status="running", locked_by="dead", locked_at=ctx.now(), attempts=1,
            lease_until=ctx.now() + lease))
    assert jobs.run_due(ctx) == 0
    ctx.clock.advance(seconds=lease.total_seconds() + 1)
    assert jobs.run_due(ctx) == 1
    assert CALLS == [{"n": 3}] and _job(ctx, job_id).status == "done"


def test_a_job_whose_lease_is_renewed_is_not_claimed_however_long_it_runs(ctx):
    with ctx.db.write() as conn:
        job_id = jobs.enqueue(conn, "test.record", {"n": 4}, run_at=ctx.now())
    held = jobs._claim(ctx, "alive", 10)
    assert [job.id for job in held] == [job_id]
    leases = jobs.Leases(ctx, "alive")
    leases.hold(held)
    for _ in range(40):  # 40 leases' time, renewed as the heartbeat would
        ctx.clock.advance(seconds=ctx.settings.job_lease_seconds * 0.9)
        assert leases.renew() == 1
        assert jobs.run_due(ctx) == 0
    assert jobs.run_job(ctx, held[0]) and _job(ctx, job_id).status == "done"


def test_a_worker_that_lost_its_lease_does_not_record_an_end(ctx):
    with ctx.db.write() as conn:
        job_id = jobs.enqueue(conn, "test.fail", {}, run_at=ctx.now())
    (slow,) = jobs._claim(ctx, "slow", 10)
    ctx.clock.advance(seconds=ctx.settings.job_lease_seconds + 1)
    (taker,) = jobs._claim(ctx, "taker", 10)
    assert taker.id == slow.id == job_id and taker.attempts == 2
    jobs.run_job(ctx, slow)  # fails, but its claim was taken over: nothing recorded
    row = _job(ctx, job_id)
    assert row.status == "running" and row.locked_by == "taker" and row.last_error is None


def test_the_realtime_lane_is_claimed_first_and_lanes_apart(ctx):
    with ctx.db.write() as conn:
        bulk = jobs.enqueue(conn, "test.record", {"n": 5}, run_at=ctx.now() - dt.timedelta(
            minutes=5), lane=jobs.BULK)
        live = jobs.enqueue(conn, "test.record", {"n": 6}, run_at=ctx.now())
    assert [job.id for job in jobs._claim(ctx, "w", 1)] == [live]
    assert jobs._claim(ctx, "w", 5, (jobs.REALTIME,)) == []
    assert [job.id for job in jobs._claim(ctx, "w", 5, (jobs.BULK,))] == [bulk]


def test_a_unique_key_keeps_one_live_row_and_frees_when_the_job_ends(ctx):
    with ctx.db.write() as conn:
        first = jobs.enqueue(conn, "test.record", {"n": 7}, run_at=ctx.now(), unique_key="k")
        again = jobs.enqueue(conn, "test.record", {"n": 8}, run_at=ctx.now(), unique_key="k")
    assert first is not None and again is None
    jobs.run_until_idle(ctx)
    assert _job(ctx, first).status == "done" and _job(ctx, first).unique_key is None
    with ctx.db.write() as conn:
        assert jobs.enqueue(conn, "test.record", {"n": 9}, run_at=ctx.now(),
                            unique_key="k") is not None


def test_the_backlog_counts_due_work_per_lane(ctx):
    with ctx.db.write() as conn:
        jobs.enqueue(conn, "test.record", {}, run_at=ctx.now() - dt.timedelta(seconds=90),
                     lane=jobs.BULK)
        jobs.enqueue(conn, "test.record", {}, run_at=ctx.now() + dt.timedelta(hours=1))
    backlog = jobs.job_backlog(ctx)
    assert set(backlog) == {jobs.REALTIME, jobs.BULK}
    assert (backlog[jobs.BULK].due, backlog[jobs.BULK].oldest_due_seconds) == (1, 90.0)
    assert (backlog[jobs.REALTIME].due, backlog[jobs.REALTIME].oldest_due_seconds) == (0, 0.0)


def test_an_unknown_job_kind_fails_with_a_reason(ctx):
    with ctx.db.write() as conn:
        job_id = jobs.enqueue(conn, "no.such.kind", {}, run_at=ctx.now())
    jobs.run_due(ctx)
    job = _job(ctx, job_id)
    assert job.status == "failed" and "no handler" in job.last_error



def test_a_stored_response_writes_one_outbox_row_that_queues_its_follow_ups(ctx):
    from tiyan.services import arrivals

    with ctx.db.write() as conn:
        arrivals.after_response_stored(conn, 41, ctx.now())
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.job.c.kind, t.job.c.payload)).all()
    assert [(r.kind, r.payload["response_ids"]) for r in rows] == [("response.arrived", [41])]
    assert jobs.run_due(ctx) == 1  # the outbox row: it only queues the follow-ups
    with ctx.db.read() as conn:
        queued = {r.kind: r.payload for r in conn.execute(
            sa.select(t.job.c.kind, t.job.c.payload).where(t.job.c.status == "queued"))}
    assert set(queued) == {"aggregates.fold", "text.analyze", "webhook.emit"}
    assert all(p["response_ids"] == [41] for p in queued.values())
    assert queued["webhook.emit"]["event"] == "response.submitted"
    assert queued["webhook.emit"]["at"] == ctx.now().isoformat()


def test_retention_purges_done_jobs_then_failed_ones_and_never_live_ones(ctx):
    from tiyan.services.retention import apply_retention

    ctx.settings = ctx.settings.model_copy(update={"retention_job_days": 14,
                                                   "retention_failed_job_days": 90})
    with ctx.db.write() as conn:
        ids = {status: jobs.enqueue(conn, "test.record", {}, run_at=ctx.now())
               for status in ("done", "failed", "queued", "running")}
        for status, job_id in ids.items():
            conn.execute(t.job.update().where(t.job.c.id == job_id).values(status=status))
    ctx.clock.advance(days=15)
    assert apply_retention(ctx).counts["jobs"] == 1
    assert _statuses(ctx) == {"failed", "queued", "running"}
    ctx.clock.advance(days=80)
    assert apply_retention(ctx).counts["failed_jobs"] == 1
    assert _statuses(ctx) == {"queued", "running"}


def _statuses(ctx):
    with ctx.db.read() as conn:
        return set(conn.execute(sa.select(t.job.c.status)).scalars())


# --- bulk work of a worker process yields to its real-time lane ---------------------------

EVENTS: list[str] = []
LIVE_STARTED, SLICE_DONE = threading.Event(), threading.Event()


@jobs.job_handler("test.live")
def _live(ctx, payload):
    LIVE_STARTED.set()
    assert SLICE_DONE.wait(60), "the bulk job's first slice never ran"
    time.sleep(0.3)  # a real-time job that takes a while: the bulk job must not go on meanwhile
    EVENTS.append("live done")


@jobs.job_handler("test.sliced", lane=jobs.BULK)
def _sliced(ctx, payload):
    assert LIVE_STARTED.wait(60), "the real-time job never started"
    EVENTS.append("slice 1")
    SLICE_DONE.set()
    jobs.yield_to_realtime(max_wait=60)
    EVENTS.append("slice 2")


def test_bulk_work_waits_between_its_slices_while_the_realtime_lane_runs(ctx):
    EVENTS.clear()
    LIVE_STARTED.clear()
    SLICE_DONE.clear()
    with ctx.db.write() as conn:
        bulk = jobs.enqueue(conn, "test.sliced", {}, run_at=ctx.now(), lane=jobs.BULK)
        live = jobs.enqueue(conn, "test.live", {}, run_at=ctx.now())
    worker = jobs.Worker(ctx, poll_seconds=0.05, name="test")
    worker.start()
    try:
        for _ in range(3000):
            if _job(ctx, bulk).status == "done" and _job(ctx, live).status == "done":
                break
            time.sleep(0.02)
    finally:
        assert worker.stop(30)
    assert EVENTS == ["slice 1", "live done", "slice 2"]


def test_yield_to_realtime_returns_at_once_outside_bulk_work(ctx):
    jobs._REALTIME.begin()  # a real-time lane of this process busy for good
    try:
        jobs.yield_to_realtime(max_wait=3600)  # not bulk work: no wait (the test would hang)
    finally:
        jobs._REALTIME.end()


WOKEN = threading.Event()


@jobs.job_handler("test.woken")
def _woken(ctx, payload):
    WOKEN.set()


def test_the_apps_worker_takes_work_when_its_transaction_commits_not_at_its_next_poll(ctx):
    """A worker of this process is woken by the commit of a transaction that queued a job of
    its lane: with an hour between polls, a survey answer's alert still starts at once."""
    WOKEN.clear()
    worker = jobs.Worker(ctx, poll_seconds=3600, name="test", lanes=(jobs.REALTIME,))
    worker.start()
    try:
        time.sleep(0.2)  # the lane has polled once, found nothing and waits for an hour
        with ctx.db.write() as conn:
            jobs.enqueue(conn, "test.woken", {}, run_at=ctx.now())
        assert WOKEN.wait(60), "the job waited for the next poll, an hour away"
    finally:
        assert worker.stop(30)


def test_a_wake_up_comes_once_the_commit_is_done_so_the_woken_worker_finds_the_job(ctx):
    """The wake-up is told after the transaction has committed, not as it starts to: a worker
    woken earlier could claim before the job is visible, find nothing and sleep until its next
    poll (on PostgreSQL it sometimes did, an hour in the test above)."""
    seen: list[bool] = []

    def look(lane: str) -> None:  # what a woken worker does first: look, on a connection of its own
        with ctx.db.engine.connect() as conn:
            seen.append(conn.execute(sa.select(sa.func.count()).select_from(t.job)
                                     .where(t.job.c.kind == "test.record")).scalar_one() == 1)

    wakes = jobs._wakes_of(ctx.db)
    wakes.add(look)
    try:
        with ctx.db.write() as conn:
            jobs.enqueue(conn, "test.record", {}, run_at=ctx.now())
    finally:
        wakes.remove(look)
    assert seen == [True]
    jobs.run_until_idle(ctx)


def test_a_rolled_back_enqueue_wakes_nobody_and_a_stopped_worker_is_no_longer_told(ctx):
    worker = jobs.Worker(ctx, poll_seconds=3600, name="test", lanes=(jobs.REALTIME,))
    told: list[str] = []

    def tell(lane: str) -> None:  # what the commits tell it (the periodic jobs it queues at
        if lane == jobs.REALTIME:  # start are bulk work)
            told.append(lane)

    worker._wake_lane = tell  # type: ignore[method-assign]
    worker.start()
    try:
        try:
            with ctx.db.write() as conn:
                jobs.enqueue(conn, "test.record", {}, run_at=ctx.now())
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
        assert told == []
        with ctx.db.write() as conn:
            jobs.enqueue(conn, "test.record", {}, run_at=ctx.now())
        assert told == [jobs.REALTIME]
    finally:
        assert worker.stop(30)
    with ctx.db.write() as conn:
        jobs.enqueue(conn, "test.record", {}, run_at=ctx.now())
    assert told == [jobs.REALTIME]
    jobs.run_until_idle(ctx)
