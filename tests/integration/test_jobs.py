"""The job queue: due jobs run once, failures retry with back-off, dead workers' jobs come back."""

from __future__ import annotations

import datetime as dt

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


def test_a_job_left_running_by_a_dead_worker_is_claimed_again(ctx):
    CALLS.clear()
    with ctx.db.write() as conn:
        job_id = jobs.enqueue(conn, "test.record", {"n": 3}, run_at=ctx.now())
        conn.execute(t.job.update().where(t.job.c.id == job_id).values(
            status="running", locked_by="dead", locked_at=ctx.now(), attempts=1))
    assert jobs.run_due(ctx) == 0
    ctx.clock.advance(minutes=11)
    assert jobs.run_due(ctx) == 1
    assert CALLS == [{"n": 3}] and _job(ctx, job_id).status == "done"


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
