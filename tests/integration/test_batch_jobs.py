"""Response follow-ups run in batches (services/jobs.batch_job_handler): the same outcome as one
job at a time, a bad job fails alone, and several real worker processes still do each thing once.
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from standardwebhooks import Webhook

from tests.conftest import empty_all_tables
from tests.integration.closed_loop_fixtures import Inbox
from tests.integration.closed_loop_fixtures import http_inbox as http_inbox  # the fixture
from tests.local_http import QuietHandler, serving
from tests.snapshots import restore, take
from tests.world import World, build_world
from tiyan.context import Context
from tiyan.demo.generate import COMMENTS
from tiyan.services import jobs
from tiyan.services.alerts import ALERTS_EVALUATE, RuleRequest, do_create_rule
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.services.webhooks import do_create_webhook
from tiyan.store import tables as t

EXTRA = 40  # responses beyond the fixture world's seven
UNITS = ("n1-as", "n2", "s1")


def grow(world: World, url: str, extra: int = EXTRA) -> str:
    """The fixture world with a detractor rule, a webhook endpoint on `url` and `extra` more
    responses with the demo's comments, their follow-ups queued and not run; the secret."""
    ctx, admin = world.ctx, world.actor("admin@t.test")
    do_create_rule(ctx, admin, RuleRequest(
        name="贬损者", unit_code="hq", condition={"score": {"item": "nps", "op": "<=", "value": 6}},
        action={"kind": "case", "route_role": "unit_manager"}))
    ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]
    hook = do_create_webhook(ctx, admin, url=url, events=["response.submitted"],
                             unit_code="hq")
    for n in range(extra):
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=UNITS[n % len(UNITS)],
            answers={"nps": n % 11, "comment": f"{COMMENTS[n % len(COMMENTS)]}（{n}）"}))
    return hook.secret


def outcome(ctx: Context) -> dict[str, Any]:
    """Every row the follow-ups made, without surrogate ids, plus the jobs by kind and status.
    Sums of floats are compared to 9 places (added in another order, they differ in the last
    bits)."""
    def cell(value: Any) -> Any:
        return round(value, 9) if isinstance(value, float) else value

    snapshot = take(ctx.db)
    rows = {name: sorted(repr(sorted((k, cell(v)) for k, v in row.items()
                                     if k not in ("id", "public_id"))) for row in table_rows)
            for name, table_rows in snapshot.rows.items() if name != "job"}
    with ctx.db.read() as conn:
        queue = Counter(conn.execute(sa.select(t.job.c.kind, t.job.c.status)).all())
    return {"rows": rows, "jobs": queue}


def test_batches_give_exactly_what_one_job_at_a_time_gives(ctx: Context, http_inbox: Inbox,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    grow(build_world(ctx), http_inbox.url)
    start, now = take(ctx.db), ctx.now()
    with monkeypatch.context() as one_at_a_time:
        one_at_a_time.setattr(jobs, "BATCH_SIZE", 1)
        while jobs.run_due(ctx, limit=1):
            pass
    alone, alone_received = outcome(ctx), list(http_inbox.bodies)

    empty_all_tables(ctx.db)
    restore(ctx.db, start)
    ctx.clock.now = now  # type: ignore[attr-defined]
    http_inbox.bodies.clear()
    jobs.run_until_idle(ctx)
    together = outcome(ctx)

    differing = [name for name in alone["rows"] if together["rows"][name] != alone["rows"][name]]
    assert differing == []
    assert together["jobs"] == alone["jobs"]
    assert sorted(map(repr, http_inbox.bodies)) == sorted(map(repr, alone_received))
    assert len(alone_received) == EXTRA  # one message per response after the endpoint came
    with ctx.db.read() as conn:
        analysed = conn.execute(sa.select(sa.func.count(sa.distinct(
            t.text_analysis.c.response_id)))).scalar_one()
        cases = conn.execute(sa.select(sa.func.count()).select_from(t.cx_case)).scalar_one()
    assert analysed == 7 + EXTRA
    assert cases == 3 + sum(1 for n in range(EXTRA) if n % 11 <= 6)  # the world has 3


def test_a_bad_job_in_a_batch_fails_alone_with_its_reason(ctx: Context, http_inbox: Inbox
                                                          ) -> None:
    world = build_world(ctx)
    grow(world, http_inbox.url, extra=6)
    with ctx.db.read() as conn:
        good = list(conn.execute(sa.select(t.response.c.id).order_by(t.response.c.id)).scalars())
    with ctx.db.write() as conn:  # e.g. a response erased between its analysis and its rules
        jobs.enqueue_many(conn, [(ALERTS_EVALUATE, {"response_ids": [i]}) for i in good[:3]]
                          + [(ALERTS_EVALUATE, {"response_ids": [999_999]})]
                          + [(ALERTS_EVALUATE, {"response_ids": [i]}) for i in good[3:]],
                          run_at=ctx.now())
    jobs.run_until_idle(ctx)

    with ctx.db.read() as conn:
        evaluations = conn.execute(sa.select(t.job.c.payload, t.job.c.status,
                                             t.job.c.last_error, t.job.c.attempts)
                                   .where(t.job.c.kind == ALERTS_EVALUATE)).all()
        cases = set(conn.execute(sa.select(t.cx_case.c.response_id)).scalars())
    bad = [e for e in evaluations if e.payload["response_ids"] == [999_999]]
    assert [(e.status, e.attempts) for e in bad] == [("queued", 1)]  # to be tried again
    assert "response 999999 does not exist" in bad[0].last_error
    assert all(e.status == "done" for e in evaluations if e not in bad)
    detractors = detractor_ids(ctx)
    assert cases == detractors and len(detractors) > 3

    for _ in range(jobs.MAX_ATTEMPTS):  # every retry fails the same way, alone
        ctx.clock.advance(hours=7)  # type: ignore[attr-defined]
        jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        status, error = conn.execute(sa.select(t.job.c.status, t.job.c.last_error).where(
            t.job.c.kind == ALERTS_EVALUATE, t.job.c.status != "done")).one()
    assert status == "failed" and "response 999999 does not exist" in error


def detractor_ids(ctx: Context) -> set[int]:
    with ctx.db.read() as conn:
        return set(conn.execute(sa.select(t.answer.c.response_id).where(
            t.answer.c.item_code == "nps", t.answer.c.value_num <= 6)).scalars())


def test_a_delivery_that_fails_in_a_batch_is_retried_alone(ctx: Context, http_inbox: Inbox
                                                          ) -> None:
    world = build_world(ctx)
    ctx.clock.advance(seconds=1)  # type: ignore[attr-defined]  # after the world's responses
    do_create_webhook(ctx, world.actor("admin@t.test"), url="http://127.0.0.1:9/hook",
                      events=["response.submitted"], unit_code="hq")  # its receiver is gone
    grow(world, http_inbox.url, extra=5)
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        deliveries = conn.execute(sa.select(t.webhook_endpoint.c.url, t.webhook_delivery.c.status,
                                            t.webhook_delivery.c.last_error)
                                  .join(t.webhook_endpoint)).all()
        waiting = conn.execute(sa.select(t.job.c.status, t.job.c.last_error).where(
            t.job.c.kind == "webhook.deliver", t.job.c.status != "done")).all()
    by_url = Counter((url, status) for url, status, _ in deliveries)
    assert by_url == {(http_inbox.url, "delivered"): 5, ("http://127.0.0.1:9/hook", "pending"): 5}
    assert len(http_inbox.bodies) == 5
    assert [status for status, _ in waiting] == ["queued"] * 5
    assert all(error == "connection refused" for _, error in waiting)


# --- several real worker processes ----------------------------------------------------------

@pytest.fixture
def verifying_receiver() -> Iterator[dict[str, Any]]:
    """A receiver that checks each message with standardwebhooks (on the real clock) and
    counts the messages per webhook-id."""
    state: dict[str, Any] = {"secret": "", "ids": Counter(), "bad": 0}
    lock = threading.Lock()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                Webhook(state["secret"]).verify(body, headers)
                good = True
            except Exception:  # noqa: BLE001 - counted below
                good = False
            with lock:
                state["ids"][headers.get("webhook-id")] += 1
                state["bad"] += 0 if good else 1
            self.send_response(200)
            self.end_headers()

    with serving(Handler) as base:
        state["url"] = f"{base}/hook"
        yield state


def test_three_worker_processes_do_each_follow_up_once(ctx: Context,
                                                       verifying_receiver: dict[str, Any]
                                                       ) -> None:
    ctx.settings = ctx.settings.model_copy(update={"outbound_allowed_hosts": "127.0.0.1"})
    world = build_world(ctx)
    verifying_receiver["secret"] = grow(world, verifying_receiver["url"], extra=120)
    env = {**os.environ, "TIYAN_DB_URL": ctx.settings.db_url,
           "TIYAN_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1", "TIYAN_WORKER_POLL_SECONDS": "0.05"}
    tiyan = Path(sys.executable).with_name("tiyan")
    workers = [subprocess.Popen([str(tiyan), "worker"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(3)]
    try:
        wait_until_idle(ctx, verifying_receiver, expected=120)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            assert worker.wait(timeout=60) == 0
    ids = verifying_receiver["ids"]
    assert len(ids) == 120 and set(ids.values()) == {1}  # each message once, none twice
    assert verifying_receiver["bad"] == 0
    with ctx.db.read() as conn:
        cases = Counter(conn.execute(sa.select(t.cx_case.c.response_id)).scalars())
        folded = conn.execute(sa.select(sa.func.count())
                              .select_from(t.score_agg_folded)).scalar_one()
    assert set(cases) == detractor_ids(ctx) and set(cases.values()) == {1}
    assert folded == 7 + 120


def wait_until_idle(ctx: Context, receiver: dict[str, Any], expected: int) -> None:
    """Until the receiver has `expected` messages and no job is due or running (or 3 minutes,
    after which the assertions say what is missing)."""
    import time

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with ctx.db.read() as conn:
            busy = conn.execute(sa.select(sa.func.count()).select_from(t.job).where(
                t.job.c.status.in_(("queued", "running")),
                t.job.c.run_at <= dt.datetime.now(dt.UTC))).scalar_one()
        if busy == 0 and sum(receiver["ids"].values()) >= expected:
            return
        time.sleep(0.2)


@jobs.batch_job_handler("test.batch_verdict")
def _refuses_three(ctx: Context, claimed: list[jobs.ClaimedJob]) -> dict[int, Exception]:
    if any(job.payload["n"] == 3 for job in claimed):
        raise jobs.JobFailed("record 3 cannot be sent: its upload is gone")
    return {}


def test_a_job_failed_verdict_in_a_batch_fails_that_job_at_once(ctx: Context) -> None:
    with ctx.db.write() as conn:
        jobs.enqueue_many(conn, [("test.batch_verdict", {"n": n}) for n in range(6)],
                          run_at=ctx.now())
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.job.c.payload, t.job.c.status, t.job.c.attempts,
                                      t.job.c.last_error).order_by(t.job.c.id)).all()
    assert [(r.payload["n"], r.status, r.attempts) for r in rows] == [
        (0, "done", 1), (1, "done", 1), (2, "done", 1), (3, "failed", 1), (4, "done", 1),
        (5, "done", 1)]
    assert rows[3].last_error == "record 3 cannot be sent: its upload is gone"
