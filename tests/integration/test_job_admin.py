"""The administrators' jobs page and API: failed and stuck jobs with their reasons, retry
(audited), the backlog per lane; nobody else sees them (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.services import jobs
from tiyan.services.retention import RETENTION_JOB
from tiyan.services.storage import object_store
from tiyan.store import tables as t

HOSTILE = '<script>alert("job")</script>'


@jobs.job_handler("test.broken")
def _broken(ctx, payload):  # type: ignore[no-untyped-def]
    raise jobs.JobFailed(HOSTILE + " the object store has no key uploads/7")


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def job_row(world: World, job_id: int) -> sa.Row:  # type: ignore[type-arg]
    with world.ctx.db.read() as conn:
        return conn.execute(sa.select(t.job).where(t.job.c.id == job_id)).one()


def add_problems(world: World) -> tuple[int, int, int]:
    """A job that gives up, one left by a dead worker, one due long ago that nobody ran."""
    ctx = world.ctx
    jobs.run_until_idle(ctx)  # the world's own jobs, out of the way
    with ctx.db.write() as conn:
        broken = jobs.enqueue(conn, "test.broken", {}, run_at=ctx.now())
        orphan = jobs.enqueue(conn, "webhook.deliver", {"delivery_id": 0}, run_at=ctx.now())
        waiting = jobs.enqueue(conn, "feedback.import", {}, run_at=ctx.now() + dt.timedelta(
            days=1))
        conn.execute(t.job.update().where(t.job.c.id == orphan).values(
            status="running", locked_by="worker:gone:1:abc", attempts=1,
            locked_at=ctx.now(), lease_until=ctx.now() + dt.timedelta(seconds=30)))
    assert broken and orphan and waiting
    jobs.run_due(ctx, lanes=(jobs.REALTIME,))  # the broken job fails at once, for good
    ctx.clock.advance(days=1, minutes=20)  # type: ignore[attr-defined]
    return broken, orphan, waiting


def test_the_admin_sees_failed_and_stuck_jobs_in_words_and_retries_one(world: World,
                                                                       client: TestClient):
    broken, orphan, waiting = add_problems(world)
    assert job_row(world, broken).status == "failed"
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/admin/jobs?lang=en")
    assert page.status_code == 200
    html = page.text
    assert HOSTILE not in html and "&lt;script&gt;" in html  # the reason, escaped
    assert "the object store has no key uploads/7" in html
    assert "Webhook delivery" in html and "worker stopped" in html  # words, not codes
    assert "Feedback import" in html and "waiting too long" in html
    assert "Times in Asia/Shanghai" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]  # type: ignore[index]
    reply = client.post(f"/admin/jobs/{broken}/retry", data={"csrf_token": token},
                        follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == f"/admin/jobs?retried={broken}"
    again = job_row(world, broken)
    assert (again.status, again.attempts, again.run_at) == ("queued", 0, world.ctx.now())
    with world.ctx.db.read() as conn:
        audited = conn.execute(sa.select(t.audit_log.c.entity_id, t.audit_log.c.detail).where(
            t.audit_log.c.action == "job.retry")).one()
    assert audited.entity_id == str(broken) and audited.detail == {"kind": "test.broken"}
    chinese = client.get(f"/admin/jobs?lang=zh-CN&retried={broken}").text
    assert "后台任务" in chinese and "进程已停止" in chinese
    assert f"任务 #{broken} 已重新排队" in chinese


def test_the_api_lists_problems_and_backlog_and_retries_an_orphaned_job(world: World,
                                                                        client: TestClient):
    broken, orphan, waiting = add_problems(world)
    headers = bearer(world, "admin@t.test")
    body = client.get("/api/v1/jobs", headers=headers).json()
    assert [job["id"] for job in body["failed"]] == [broken]
    assert {job["id"]: job["problem"] for job in body["stuck"]} == {orphan: "lease",
                                                                    waiting: "waiting"}
    lanes = {lane["lane"]: lane for lane in body["lanes"]}
    assert lanes["bulk"]["due"] == 1 and lanes["bulk"]["oldest_due_seconds"] == 20 * 60
    assert lanes["realtime"]["due"] == 1  # the orphan, claimable again
    reply = client.post(f"/api/v1/jobs/{orphan}/retry", headers=headers)
    assert reply.status_code == 200 and reply.json() == {"id": orphan, "kind": "webhook.deliver",
                                                         "status": "queued"}
    assert job_row(world, orphan).locked_by is None
    refused = client.post(f"/api/v1/jobs/{waiting}/retry", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["key"] == "job_admin.job_neither_failed_nor"
    assert client.post("/api/v1/jobs/999999/retry", headers=headers).status_code == 404


def test_only_an_administrator_over_every_unit_sees_the_jobs(world: World, client: TestClient):
    add_problems(world)
    for email in ("cx@t.test", "mgr.n1@t.test", "analyst.south@t.test"):
        assert client.get("/api/v1/jobs", headers=bearer(world, email)).status_code == 403
    sign_in(client, "cx@t.test", PASSWORD)
    assert client.get("/admin/jobs").status_code == 403
    assert "/admin/jobs" not in client.get("/").text


def test_a_background_import_whose_upload_went_missing_is_a_failed_job_with_its_reason(
        world: World, client: TestClient):
    headers = bearer(world, "mgr.n1@t.test")
    file = "评价ID,评价内容,评价时间,门店编码,评分\nx1,不错,2026-11-01 10:00,n1,5\n".encode()
    queued = client.post("/api/v1/feedback/imports", headers=headers,
                         files={"file": ("丢失.csv", file, "text/csv")},
                         data={"source": "review", "background": "true",
                               "mapping": json.dumps({"text": "评价内容"})})
    assert queued.status_code == 202, queued.text
    with world.ctx.db.read() as conn:
        job_id, payload = conn.execute(sa.select(t.job.c.id, t.job.c.payload).where(
            t.job.c.kind == "feedback.import")).one()
    assert object_store(world.ctx).delete(payload["upload"])  # gone (a cleaned store, a bug)
    jobs.run_until_idle(world.ctx)
    failed = job_row(world, job_id)
    assert failed.status == "failed" and "is missing" in failed.last_error
    assert payload["upload"] in failed.last_error
    body = client.get("/api/v1/jobs", headers=bearer(world, "admin@t.test")).json()
    assert [(job["kind"], job["last_error"]) for job in body["failed"]] == [
        ("feedback.import", failed.last_error)]
    # the reason in the reader's language: the API by Accept-Language, the page by the user's
    chinese = client.get("/api/v1/jobs", headers={**bearer(world, "admin@t.test"),
                                                   "Accept-Language": "zh-CN"}).json()
    said = chinese["failed"][0]
    assert said["reason_key"] == "import_jobs.import_failed"
    assert said["reason"].startswith("导入 ") and "失败：" in said["reason"], said["reason"]
    assert payload["upload"] in said["reason"]
    english = client.get("/api/v1/jobs", headers={**bearer(world, "admin@t.test"),
                                                  "Accept-Language": "en"}).json()
    assert english["failed"][0]["reason"] == failed.last_error.split(" (")[0]
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/admin/jobs?lang=zh-CN").text
    assert "失败：" in page and " failed: the stored file" not in page


def test_a_failed_periodic_job_is_retried_only_while_no_later_run_holds_its_key(
        world: World, client: TestClient):
    """A periodic job that failed gave up its unique key; retried, it takes the key back (so
    a worker's start queues no second run), and while a later run holds it, a retry is refused
    (two queued runs would do the periodic work twice from then on)."""
    ctx, kind = world.ctx, RETENTION_JOB  # queued by every worker's start (with retention set)
    jobs.run_until_idle(ctx)
    with ctx.db.write() as conn:
        conn.execute(t.job.delete().where(t.job.c.kind == kind))
        failed = conn.execute(t.job.insert().values(
            kind=kind, payload={}, status="failed", run_at=ctx.now(), attempts=5, lane="bulk",
            created_at=ctx.now(), last_error="disk full").returning(t.job.c.id)).scalar_one()
    headers = bearer(world, "admin@t.test")

    reply = client.post(f"/api/v1/jobs/{failed}/retry", headers=headers)
    assert reply.status_code == 200, reply.text
    assert job_row(world, failed).unique_key == kind
    jobs.schedule_periodic(ctx)  # a worker starts: the retried run is the one run
    with ctx.db.read() as conn:
        live = conn.execute(sa.select(t.job.c.id).where(
            t.job.c.kind == kind, t.job.c.status.in_(("queued", "running")))).scalars().all()
    assert live == [failed]

    # it fails again; the next worker start queues a new run, which holds the key
    with ctx.db.write() as conn:
        conn.execute(t.job.update().where(t.job.c.id == failed).values(status="failed",
                                                                       unique_key=None))
    jobs.schedule_periodic(ctx)
    refused = client.post(f"/api/v1/jobs/{failed}/retry", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["key"] == "job_admin.job_runs_time_job"
    assert job_row(world, failed).status == "failed"
