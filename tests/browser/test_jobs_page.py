"""An administrator finds a failed import on the background jobs page, reads why in words and
in their time zone, retries it; the page works on a 390 px phone, in Chinese and English."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.browser.conftest import screenshot, sign_in
from tiyan.store import tables as t
from tiyan.store.db import Database

REASON = "import 41 failed: the stored file 'uploads/7/十一月评价.csv' is missing"


def add_failed_jobs(db_url: str) -> int:
    """Two failed jobs as the queue records them (their handlers gave up); the id of the
    import."""
    db = Database(db_url)
    at = dt.datetime(2026, 12, 1, 2, 30, tzinfo=dt.UTC)
    try:
        with db.write() as conn:
            rows = conn.execute(t.job.insert().returning(t.job.c.id), [
                {"kind": "feedback.import", "payload": {"batch_id": 41}, "status": "failed",
                 "run_at": at, "attempts": 1, "created_at": at, "lane": "bulk",
                 "last_error": REASON},
                {"kind": "customers.refresh", "payload": {}, "status": "failed",
                 "run_at": at, "attempts": 1, "created_at": at, "lane": "bulk",
                 "last_error": "churn scoring: /srv/models/churn.joblib: cannot read a churn "
                               "model ([Errno 2] No such file or directory)"},
            ]).scalars().all()
    finally:
        db.dispose()
    return int(rows[0])


def test_an_admin_reads_why_a_job_failed_and_retries_it(page, demo_db_url):  # type: ignore[no-untyped-def]
    job_id = add_failed_jobs(demo_db_url)
    sign_in(page, "admin@demo.tiyan.dev")
    page.goto("/admin/jobs?lang=zh-CN")
    page.get_by_role("heading", name="后台任务", exact=True).wait_for()
    card = page.locator(f"#job-{job_id}")
    assert card.get_by_text("反馈导入").is_visible()
    assert card.get_by_text("is missing").is_visible()
    assert "2026年12月1日 10:30:00" in card.inner_text()  # 02:30 UTC in the admin's Asia/Shanghai
    assert page.get_by_text("时间为 Asia/Shanghai 时区。").is_visible()
    screenshot(page, "jobs-zh")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sideways
    screenshot(page, "jobs-zh-390")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/jobs?lang=en")
    card = page.locator(f"#job-{job_id}")
    assert card.get_by_text("Feedback import").is_visible()
    card.get_by_role("button", name="Retry now").click()
    page.get_by_role("status").filter(has_text=f"Job #{job_id} is queued again").wait_for()
    screenshot(page, "jobs-en-retried")
    db = Database(demo_db_url)
    try:
        with db.read() as conn:
            status = conn.execute(sa.select(t.job.c.status).where(t.job.c.id == job_id)).scalar()
    finally:
        db.dispose()
    assert status in ("queued", "running")  # back in line (the app's worker may have taken it)
