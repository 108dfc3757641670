"""Large feedback imports run as a background job: progress on the batch row, the page polls it,
the upload waits in the object store (the job carries its key), a vanished upload fails the batch
and the job with the reason, previews never imported are removed after a day (SQLite and
PostgreSQL)."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.services import import_jobs, jobs
from tiyan.services.storage import object_store
from tiyan.store import tables as t

ROWS = 300
FILE = ("评价ID,评价内容,评价时间,门店编码,评分\n" + "".join(
    f"b{i},第{i}条评价 服务不错,2026-11-{1 + i % 20:02d} 10:00,n1,{1 + i % 5}\n"
    for i in range(ROWS)) + "bad,没有门店,2026-11-20 10:00,zz,3\n").encode()


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def stored_files(world: World) -> list[str]:
    with world.ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.stored_object.c.key)).scalars())


def stored_count(world: World) -> int:
    with world.ctx.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.response)
                                .where(t.response.c.channel == "import")).scalar_one())


def test_the_api_queues_a_background_import_that_a_worker_runs(client: TestClient,
                                                                world: World) -> None:
    headers = bearer(world, "mgr.n1@t.test")
    reply = client.post("/api/v1/feedback/imports", headers=headers,
                        files={"file": ("大文件.csv", FILE, "text/csv")},
                        data={"source": "review", "background": "true",
                              "mapping": json.dumps({"text": "评价内容"})})
    assert reply.status_code == 202, reply.text
    queued = reply.json()
    assert queued["status"] == "queued" and queued["rows_total"] == 0
    assert queued["bytes_total"] == len(FILE) and queued["bytes_read"] == 0
    assert stored_count(world) == 0
    with world.ctx.db.read() as conn:
        payload = conn.execute(sa.select(t.job.c.payload).where(
            t.job.c.kind == import_jobs.IMPORT_JOB)).scalar_one()
    assert "path" not in payload and stored_files(world) == [payload["upload"]]
    jobs.run_until_idle(world.ctx)
    done = client.get(f"/api/v1/feedback/imports/{queued['id']}", headers=headers).json()
    assert done["status"] == "done"
    assert (done["rows_total"], done["rows_stored"], done["rows_rejected"]) == (ROWS + 1, ROWS, 1)
    assert done["bytes_read"] == done["bytes_total"] == len(FILE)
    assert done["problems"][0]["reason"] == "unknown unit code 'zz'"
    assert stored_count(world) == ROWS
    assert stored_files(world) == []      # the job removed its upload
    # the same file again, in the background: nothing is stored twice
    again = client.post("/api/v1/feedback/imports", headers=headers,
                        files={"file": ("大文件.csv", FILE, "text/csv")},
                        data={"source": "review", "background": "true"}).json()
    jobs.run_until_idle(world.ctx)
    second = client.get(f"/api/v1/feedback/imports/{again['id']}", headers=headers).json()
    assert (second["rows_stored"], second["rows_duplicate"]) == (0, ROWS)
    assert stored_count(world) == ROWS


def test_file_errors_answer_at_once_and_a_vanished_upload_fails_the_batch(
        client: TestClient, world: World) -> None:
    headers = bearer(world, "admin@t.test")
    missing = client.post("/api/v1/feedback/imports", headers=headers,
                          files={"file": ("x.csv", "内容,门店\n好,n1\n".encode(), "text/csv")},
                          data={"source": "review", "background": "true"})
    assert missing.status_code == 422
    assert missing.json()["error"]["key"] == "common.file_no_column_name"
    queued = client.post("/api/v1/feedback/imports", headers=headers,
                         files={"file": ("y.csv", FILE, "text/csv")},
                         data={"source": "review", "background": "true"}).json()
    with world.ctx.db.read() as conn:
        payload = conn.execute(sa.select(t.job.c.payload).where(
            t.job.c.kind == import_jobs.IMPORT_JOB)).scalars().all()[-1]
    assert object_store(world.ctx).delete(payload["upload"])
    jobs.run_until_idle(world.ctx)
    failed = client.get(f"/api/v1/feedback/imports/{queued['id']}", headers=headers).json()
    reason = f"the stored file '{payload['upload']}' is missing"
    assert failed["status"] == "failed" and failed["problems"][0]["reason"] == reason
    with world.ctx.db.read() as conn:
        job = conn.execute(sa.select(t.job.c.status, t.job.c.attempts, t.job.c.last_error).where(
            t.job.c.kind == import_jobs.IMPORT_JOB)).all()[-1]
    # failed at once (no retries: the file will not come back), saying why
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.last_error == f"import {failed_batch_id(world, queued['id'])} failed: {reason}"


def failed_batch_id(world: World, public_id: str) -> int:
    with world.ctx.db.read() as conn:
        return int(conn.execute(sa.select(t.import_batch.c.id).where(
            t.import_batch.c.public_id == public_id)).scalar_one())


def test_the_page_runs_a_large_file_in_the_background_and_polls_its_progress(
        client: TestClient, world: World, monkeypatch) -> None:
    monkeypatch.setattr(import_jobs, "SYNC_MAX_BYTES", 1000)   # this file counts as large
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/feedback/import")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    shown = client.post("/feedback/import", data={"source": "review", "csrf_token": token},
                        files={"file": ("大文件.csv", FILE, "text/csv")})
    upload = shown.text.split('name="token" value="')[1].split('"')[0]
    assert stored_files(world) == [f"uploads/preview-{upload}"]   # any serve process has it
    with world.ctx.db.read() as conn:
        cleanup = conn.execute(sa.select(t.job.c.run_at).where(
            t.job.c.kind == import_jobs.CLEANUP_JOB)).scalars().all()
    assert len(cleanup) == 1          # the daily clean-up of stale previews is scheduled
    started = client.post("/feedback/import/run", data={
        "csrf_token": token, "token": upload, "filename": "大文件.csv", "source": "review",
        "map_text": "评价内容", "map_time": "评价时间", "map_unit": "门店编码"},
        follow_redirects=False)
    assert started.status_code == 303
    report_url = started.headers["location"]
    waiting = client.get(report_url)
    assert 'id="import-progress"' in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    assert "等待开始" in waiting.text or "waiting to start" in waiting.text
    jobs.run_until_idle(world.ctx)
    finished = client.get(report_url)
    assert 'hx-trigger' not in finished.text.split('id="report"')[1].split(">")[0]
    assert f'data-count="stored">{ROWS}<' in finished.text
    assert stored_files(world) == []


def test_previews_never_imported_are_removed_after_a_day(world: World) -> None:
    ctx, now = world.ctx, world.ctx.now()
    store = object_store(ctx)
    day = import_jobs.UPLOAD_MAX_AGE
    store.put("uploads/preview-old", io.BytesIO(b"x"), now=now - 2 * day,
              expires_at=now - day)
    store.put("uploads/preview-fresh", io.BytesIO(b"x"), now=now, expires_at=now + day)
    store.put("uploads/import-queued", io.BytesIO(b"x"), now=now - 2 * day)   # a job's
    with ctx.db.write() as conn:
        import_jobs.ensure_cleanup(conn, now - import_jobs.CLEANUP_EVERY)
    jobs.run_until_idle(ctx)
    assert sorted(stored_files(world)) == ["uploads/import-queued", "uploads/preview-fresh"]


def test_a_large_file_is_stored_in_chunks_and_read_back_whole(world: World) -> None:
    from tiyan.services import storage

    store = object_store(world.ctx)
    content = bytes(range(256)) * (storage.CHUNK // 256 * 2 + 3)   # two chunks and a bit
    assert store.put("uploads/big", io.BytesIO(content), now=world.ctx.now()) == len(content)
    assert [len(c) for c in store.chunks("uploads/big")] == [storage.CHUNK, storage.CHUNK, 768]
    assert storage.read_bytes(store, "uploads/big") == content
    assert store.put("uploads/big", io.BytesIO(b"again"), now=world.ctx.now()) == 5
    assert storage.read_bytes(store, "uploads/big") == b"again"
    with world.ctx.db.read() as conn:
        parts = conn.execute(sa.select(sa.func.count())
                             .select_from(t.stored_object_chunk)).scalar_one()
    assert parts == 1                  # the replaced file's chunks went with it
