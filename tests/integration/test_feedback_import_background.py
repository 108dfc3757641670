"""Large feedback imports run as a background job: progress on the batch row, the page polls it,
previews never imported are removed after a day (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import os

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.services import import_jobs, jobs
from tiyan.store import tables as t

ROWS = 300
FILE = ("评价ID,评价内容,评价时间,门店编码,评分\n" + "".join(
    f"b{i},第{i}条评价 服务不错,2026-11-{1 + i % 20:02d} 10:00,n1,{1 + i % 5}\n"
    for i in range(ROWS)) + "bad,没有门店,2026-11-20 10:00,zz,3\n").encode()


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


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
    jobs.run_until_idle(world.ctx)
    done = client.get(f"/api/v1/feedback/imports/{queued['id']}", headers=headers).json()
    assert done["status"] == "done"
    assert (done["rows_total"], done["rows_stored"], done["rows_rejected"]) == (ROWS + 1, ROWS, 1)
    assert done["bytes_read"] == done["bytes_total"] == len(FILE)
    assert done["problems"][0]["reason"] == "unknown unit code 'zz'"
    assert stored_count(world) == ROWS
    leftovers = [p for p in import_jobs.UPLOADS.glob("api-*") if (p / "queued").exists()]
    assert leftovers == []      # the job removed its upload
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
    assert missing.status_code == 422 and "no time column" in missing.json()["error"]["message"]
    queued = client.post("/api/v1/feedback/imports", headers=headers,
                         files={"file": ("y.csv", FILE, "text/csv")},
                         data={"source": "review", "background": "true"}).json()
    with world.ctx.db.read() as conn:
        payload = conn.execute(sa.select(t.job.c.payload).where(
            t.job.c.kind == import_jobs.IMPORT_JOB)).scalars().all()[-1]
    os.remove(payload["path"])
    jobs.run_until_idle(world.ctx)
    failed = client.get(f"/api/v1/feedback/imports/{queued['id']}", headers=headers).json()
    assert failed["status"] == "failed" and "no such file" in failed["problems"][0]["reason"]


def test_the_page_runs_a_large_file_in_the_background_and_polls_its_progress(
        client: TestClient, world: World, monkeypatch) -> None:
    monkeypatch.setattr(import_jobs, "SYNC_MAX_BYTES", 1000)   # this file counts as large
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/feedback/import")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    shown = client.post("/feedback/import", data={"source": "review", "csrf_token": token},
                        files={"file": ("大文件.csv", FILE, "text/csv")})
    upload = shown.text.split('name="token" value="')[1].split('"')[0]
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
    assert not (import_jobs.UPLOADS / upload).exists()


def test_previews_never_imported_are_removed_after_a_day(tmp_path) -> None:
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    old, fresh, waiting = tmp_path / "1-old", tmp_path / "1-fresh", tmp_path / "1-waiting"
    for folder in (old, fresh, waiting):
        folder.mkdir()
        (folder / "upload").write_bytes(b"x")
    (waiting / import_jobs.QUEUED_MARKER).touch()
    two_days_ago = (now - dt.timedelta(days=2)).timestamp()
    for folder in (old, waiting):
        os.utime(folder, (two_days_ago, two_days_ago))
    os.utime(fresh, (now.timestamp(), now.timestamp()))
    assert import_jobs.remove_stale_uploads(now, tmp_path) == ["1-old"]
    assert fresh.exists() and waiting.exists() and not old.exists()
