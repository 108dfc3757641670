"""Feedback imports in the background: large uploads (API and page) run as a durable job.

`queue_import_feedback` checks what can be checked at once (source, unit and scope, the file's
format, encoding and columns: such errors answer the request), creates the import batch as
"queued" and enqueues `feedback.import` in the same transaction. The job runs the import with
`do_import_feedback` on that batch, writing the bytes read after each chunk (the rows read so
far are the batch's counts), so the page can show progress. A job run again after a crash
counts from zero and finds what it stored before as duplicates.

The file waits in the object store (tiyan.services.storage, the database by default) under
`uploads/…`, and the job carries that key, not a path: a worker on another host, with its own
temporary folder, copies it into that folder, imports it and removes both. An upload previewed
on the page is stored to expire after a day; queuing its import keeps it. `feedback.uploads_cleanup`
runs every few hours and removes previews that were never imported. A stored file that is gone
fails the batch and the job, saying which file.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.feedback_rows import resolve_mapping
from tiyan.errors import Phrase, TiyanError, params_json
from tiyan.services.feedback_import import (
    ImportReport,
    ImportRequest,
    _start,
    check_source,
    do_import_feedback,
    import_rules,
)
from tiyan.services.jobs import (
    BULK,
    JobFailed,
    RetryLater,
    enqueue,
    job_handler,
    yield_to_realtime,
)
from tiyan.services.storage import copy_to_file, object_store, put_file
from tiyan.services.table_files import open_table_file
from tiyan.store import feedback as store

IMPORT_JOB = "feedback.import"
CLEANUP_JOB = "feedback.uploads_cleanup"
UPLOAD_PREFIX = "uploads/"
UPLOAD_MAX_AGE = dt.timedelta(days=1)
CLEANUP_EVERY = dt.timedelta(hours=6)
# Uploads up to this size are imported while the request waits; larger ones in the background.
SYNC_MAX_BYTES = 2 << 20
PROGRESS_EVERY_S = 1.0
# Rows per transaction of a background import: short enough that a real-time write of the same
# process (SQLite's one writer) waits a fraction of a second for the chunk under way.
BACKGROUND_CHUNK_ROWS = 1000


def runs_in_background(path: Path) -> bool:
    return path.stat().st_size > SYNC_MAX_BYTES


def new_upload_key(kind: str) -> str:
    return f"{UPLOAD_PREFIX}{kind}-{secrets.token_urlsafe(24)}"


def queue_import_feedback(ctx: Context, actor: Actor | None, req: ImportRequest, *,
                          upload_key: str | None = None) -> ImportReport:
    """Check the request and the file (`req.path`, a local copy), create the batch (status
    "queued") and its job. The file is stored for the job under a new key, or, already stored
    under `upload_key` (a previewed upload), kept until the job is done."""
    source = check_source(req.source)
    rules = import_rules(ctx, actor, source, req.unit_code)
    filename = req.filename or req.path.name
    with open_table_file(req.path, filename=filename, encoding=req.encoding) as file:
        mapping = resolve_mapping(file.headers, req.mapping, default_unit=bool(req.unit_code))
        store_ = object_store(ctx)
        if upload_key is None:
            upload_key = new_upload_key("import")
            put_file(store_, upload_key, req.path, now=ctx.now())
        else:
            store_.keep(upload_key)
        payload = {k: v for k, v in asdict(req).items() if k != "path"}
        payload.update(upload=upload_key, filename=filename, mapping=dict(req.mapping),
                       user_id=actor.user_id if actor is not None else None)

        def job(conn: sa.Connection, batch_id: int) -> None:
            enqueue(conn, IMPORT_JOB, {**payload, "batch_id": batch_id}, run_at=ctx.now())
            ensure_cleanup(conn, ctx.now())

        report = _start(ctx, actor, req, file, mapping, rules, filename, status="queued",
                        then=job)
    report.status = "queued"
    return report


@job_handler(IMPORT_JOB, lane=BULK)
def import_job(ctx: Context, payload: dict[str, Any]) -> None:
    from tiyan.store.scoped import load_actor

    batch_id = int(payload["batch_id"])
    key = str(payload.get("upload") or "")
    last = [0.0]

    def progress(done: int, _total: int) -> None:  # after each chunk
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S or done >= _total:
            last[0] = time.monotonic()
            with ctx.db.write() as conn:
                store.set_batch_progress(conn, batch_id, bytes_read=done)
        yield_to_realtime()  # a live response's alert goes before the next chunk

    try:
        if not key:
            raise TiyanError("import_jobs.import_queued_older_tiyan", where="upload")
        user_id = payload.get("user_id")
        if user_id is None:
            actor = None
        else:
            with ctx.db.read() as conn:
                actor = load_actor(conn, int(user_id))
        # this process's own temporary folder, whatever host it runs on
        with tempfile.TemporaryDirectory(prefix="tiyan-import-") as folder:
            path = Path(folder) / "upload"
            copy_to_file(object_store(ctx), key, path)
            req = ImportRequest(path=path, source=payload["source"],
                                filename=payload["filename"], unit_code=payload.get("unit_code"),
                                mapping=payload.get("mapping") or {},
                                encoding=payload.get("encoding"),
                                chunk_rows=min(int(payload.get("chunk_rows")
                                                   or ImportRequest.chunk_rows),
                                               BACKGROUND_CHUNK_ROWS))
            do_import_feedback(ctx, actor, req, progress=progress, batch_id=batch_id)
    except TiyanError as exc:      # the file or the user went away: nothing to retry
        with ctx.db.write() as conn:
            store.add_to_batch(conn, batch_id, total=0, stored=0, duplicate=0, rejected=0,
                               rejections=[failed_reason(exc)])
            store.finish_batch(conn, batch_id, "failed", ctx.now())
        if key:
            object_store(ctx).delete(key)
        raise JobFailed(f"import {batch_id} failed: {exc.message}", why=Phrase(
            "import_jobs.import_failed", {"batch": batch_id, "reason": exc.phrase()})) from exc
    object_store(ctx).delete(key)


def failed_reason(exc: TiyanError) -> dict[str, Any]:
    """A failed import's reason as a rejection without a line: the English text (the command
    line, older readers) and the error's key and values (the import page's language)."""
    entry: dict[str, Any] = {"line": None, "column": None, "reason": exc.message, "value": None}
    if exc.key is not None:
        entry |= {"key": exc.key, "params": params_json(exc.params)}
    return entry


def ensure_cleanup(conn: sa.Connection, now: dt.datetime) -> None:
    """Make sure the periodic clean-up of old uploads is scheduled (one row, whoever asks)."""
    enqueue(conn, CLEANUP_JOB, {}, run_at=now + CLEANUP_EVERY, unique_key=CLEANUP_JOB)


@job_handler(CLEANUP_JOB, lane=BULK, one_at_a_time=True)
def cleanup_job(ctx: Context, payload: dict[str, Any]) -> None:
    """Remove previewed uploads never imported (stored to expire a day after the preview)."""
    objects = object_store(ctx)
    objects.remove_expired(ctx.now())
    objects.purge(ctx.now())
    raise RetryLater(ctx.now() + CLEANUP_EVERY, "runs again later")
