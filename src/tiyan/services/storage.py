"""Stored files that every process reads: uploaded import files, case attachments, trained models.

One interface, `ObjectStore`, keyed by a path-like name (`uploads/…`, `cases/<case>/<file>`,
`models/churn/<version>.joblib`). A job carries the key, never a path on some host's disk, so a
worker on another host (with its own temporary and data folders) reads what the web process
stored. The implementation is `StoredObjects`: every file has a row in the database (key, size,
expiry); its bytes are either chunks of at most 1 MiB in the database (`TIYAN_STORAGE=database`,
the default) or one object in an S3-compatible bucket (`TIYAN_STORAGE=s3`, `services/buckets`).
Inside a web request the rows are part of the request's transaction; so that a rolled-back
request never leaves a row pointing at removed bytes, each version of a file gets a bucket object
of its own, and the objects a committed change let go of are listed in `stored_object_gone` and
removed by a job that runs after the commit (`purge`). Objects no row ever pointed at (a request
that failed after its upload) are swept after an hour. Files stored before a change of
`TIYAN_STORAGE` stay readable: each row says where its bytes are.

A key that is not there raises `ObjectMissing`, a clear "not found" that says which file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.domain.jobs import BULK
from tiyan.errors import NotFound
from tiyan.services.buckets import Bucket, BucketObjectMissing, BucketSettings
from tiyan.services.jobs import enqueue, job_handler
from tiyan.store import tables as t
from tiyan.store.db import Database

CHUNK = 1 << 20
OBJ, CHUNKS, GONE = t.stored_object, t.stored_object_chunk, t.stored_object_gone
PURGE_JOB = "storage.purge"
# a bucket object no row points at is removed once it is this old (the request that uploaded it
# failed, or is still running: no transaction of tiyan's lasts this long)
ORPHAN_AFTER = dt.timedelta(hours=1)


class ObjectMissing(NotFound):
    code = "object_missing"


class ObjectStore(Protocol):
    def put(self, key: str, source: BinaryIO, *, now: dt.datetime,
            expires_at: dt.datetime | None = None, content_type: str | None = None) -> int:
        """Store (or replace) the file under `key`; its size in bytes."""

    def chunks(self, key: str) -> Iterator[bytes]:
        """The file's bytes, a chunk at a time (ObjectMissing when there is none)."""

    def size(self, key: str) -> int | None:
        """The file's size, None when there is none."""

    def keep(self, key: str) -> None:
        """Keep the file until it is deleted (it was stored to expire)."""

    def delete(self, key: str, *, now: dt.datetime | None = None) -> bool:
        """Remove the file; False when there was none."""

    def remove_expired(self, now: dt.datetime) -> list[str]:
        """Remove files whose expiry has passed; their keys."""

    def purge(self, now: dt.datetime) -> int:
        """Remove from the bucket what committed changes let go of; how many objects."""


def object_store(ctx: Context) -> StoredObjects:
    """The installation's store of files (TIYAN_STORAGE)."""
    config = BucketSettings.of(ctx.settings)
    return StoredObjects(ctx.db, Bucket(config) if config else None,
                         to_bucket=ctx.settings.storage == "s3")


def read_bytes(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.chunks(key))


def copy_to_file(store: ObjectStore, key: str, path: Path) -> int:
    """Write the stored file to a local path (a worker's own temporary folder); its size."""
    size = 0
    with path.open("wb") as sink:
        for data in store.chunks(key):
            sink.write(data)
            size += len(data)
    return size


def put_file(store: ObjectStore, key: str, path: Path, *, now: dt.datetime,
             expires_at: dt.datetime | None = None) -> int:
    with path.open("rb") as source:
        return store.put(key, source, now=now, expires_at=expires_at)


class StoredObjects:
    """Files as rows of the database, their bytes in the database or in a bucket."""

    def __init__(self, db: Database, bucket: Bucket | None = None, *,
                 to_bucket: bool = False) -> None:
        if to_bucket and bucket is None:
            raise ValueError("storing in a bucket needs the bucket")
        self.db = db
        self.bucket = bucket
        self.to_bucket = to_bucket

    def put(self, key: str, source: BinaryIO, *, now: dt.datetime,
            expires_at: dt.datetime | None = None, content_type: str | None = None) -> int:
        location = None
        if self.to_bucket:
            assert self.bucket is not None
            # the bytes first, under a name of this version's own: a row never points at
            # bytes that are not there, and a replaced file's object stays until the
            # replacement is committed
            location = f"{self.bucket.prefix}{key}~{secrets.token_hex(8)}"
            size = self.bucket.upload(location, source, content_type=content_type)
        try:
            with self.db.write() as conn:
                self._let_go(conn, key, now)
                object_id = conn.execute(OBJ.insert().values(
                    key=key, size=size if location else 0, chunks=0,
                    content_type=content_type, created_at=now, expires_at=expires_at,
                    location=location).returning(OBJ.c.id)).scalar_one()
                if location is None:
                    size = seq = 0
                    while data := source.read(CHUNK):
                        conn.execute(CHUNKS.insert().values(object_id=object_id, seq=seq,
                                                            data=data))
                        size, seq = size + len(data), seq + 1
                    conn.execute(OBJ.update().where(OBJ.c.id == object_id)
                                 .values(size=size, chunks=seq))
        except BaseException:
            if location is not None:
                self._forget_upload(location)
            raise
        return size

    def _forget_upload(self, location: str) -> None:
        """Best effort: remove an upload whose row was not written (the sweep catches the
        rest)."""
        assert self.bucket is not None
        with contextlib.suppress(Exception):  # the write's own error is the one to report
            self.bucket.remove([location])

    def _let_go(self, conn: sa.Connection, key: str, now: dt.datetime) -> bool:
        """Delete the key's row (its chunks go with it); a bucket object it had is listed to be
        removed after the commit. False when there was none."""
        found = conn.execute(sa.select(OBJ.c.id, OBJ.c.location).where(OBJ.c.key == key)).first()
        if found is None:
            return False
        conn.execute(OBJ.delete().where(OBJ.c.id == found.id))
        if found.location:
            conn.execute(GONE.insert().values(location=found.location, gone_at=now))
            _schedule_purge(conn, now)
        return True

    def chunks(self, key: str) -> Iterator[bytes]:
        with self.db.read() as conn:
            found = conn.execute(sa.select(OBJ.c.id, OBJ.c.chunks, OBJ.c.location)
                                 .where(OBJ.c.key == key)).first()
            if found is None:
                raise ObjectMissing("storage.stored_file_missing", v_key=key, where="storage")
            if found.location is None:
                for seq in range(found.chunks):
                    data = conn.execute(sa.select(CHUNKS.c.data).where(
                        CHUNKS.c.object_id == found.id, CHUNKS.c.seq == seq)).scalar()
                    if data is None:
                        raise ObjectMissing("storage.stored_file_incomplete_part", v_key=key,
                                            seq=seq, where="storage")
                    yield bytes(data)
                return
        if self.bucket is None:
            raise ObjectMissing("storage.stored_file_bucket_no", v_key=key, where="storage")
        try:
            yield from self.bucket.chunks(found.location)
        except BucketObjectMissing:
            raise ObjectMissing("storage.stored_file_missing_bucket", v_key=key,
                                name=self.bucket.name, where="storage") from None

    def size(self, key: str) -> int | None:
        with self.db.read() as conn:
            value = conn.execute(sa.select(OBJ.c.size).where(OBJ.c.key == key)).scalar()
        return None if value is None else int(value)

    def keep(self, key: str) -> None:
        with self.db.write() as conn:
            kept = conn.execute(OBJ.update().where(OBJ.c.key == key).values(expires_at=None))
        if not kept.rowcount:
            raise ObjectMissing("storage.stored_file_missing", v_key=key, where="storage")

    def delete(self, key: str, *, now: dt.datetime | None = None) -> bool:
        with self.db.write() as conn:
            return self._let_go(conn, key, now or dt.datetime.now(dt.UTC))

    def remove_expired(self, now: dt.datetime) -> list[str]:
        with self.db.write() as conn:
            expired = conn.execute(sa.select(OBJ.c.key, OBJ.c.location)
                                   .where(OBJ.c.expires_at < now).order_by(OBJ.c.key)).all()
            if expired:
                conn.execute(OBJ.delete().where(OBJ.c.key.in_([e.key for e in expired])))
                gone = [{"location": e.location, "gone_at": now} for e in expired if e.location]
                if gone:
                    conn.execute(GONE.insert(), gone)
        return [e.key for e in expired]

    def purge(self, now: dt.datetime) -> int:
        """Remove the bucket objects that committed changes let go of, and those no row points
        at that are older than ORPHAN_AFTER; how many. Run it outside a web request (a job):
        it must see only what is committed."""
        if self.bucket is None:
            return 0
        with self.db.read() as conn:
            gone = conn.execute(sa.select(GONE.c.id, GONE.c.location)
                                .order_by(GONE.c.id)).all()
        removed = 0
        if gone:
            self.bucket.remove(g.location for g in gone)
            with self.db.write() as conn:
                conn.execute(GONE.delete().where(GONE.c.id.in_([g.id for g in gone])))
            removed += len(gone)
        removed += self._sweep(now)
        return removed

    def _sweep(self, now: dt.datetime) -> int:
        assert self.bucket is not None
        cutoff = now - ORPHAN_AFTER
        old = [name for name, written in self.bucket.listing() if written < cutoff]
        if not old:
            return 0
        with self.db.read() as conn:
            held: set[str] = set()
            for start in range(0, len(old), 500):
                part = old[start:start + 500]
                held.update(conn.execute(sa.select(OBJ.c.location)
                                         .where(OBJ.c.location.in_(part))).scalars())
        orphans = [name for name in old if name not in held]
        self.bucket.remove(orphans)
        return len(orphans)

    def pending_moves(self, *, to_bucket: bool) -> int:
        """How many files `move` would move."""
        with self.db.read() as conn:
            where = OBJ.c.location.is_(None) if to_bucket else OBJ.c.location.is_not(None)
            return int(conn.execute(sa.select(sa.func.count()).select_from(OBJ)
                                    .where(where)).scalar_one())

    def move(self, *, to_bucket: bool, now: dt.datetime) -> Iterator[str]:
        """Move every file whose bytes are not where `to_bucket` says into that store, one at
        a time (each its own transaction); yields each key moved."""
        if to_bucket and self.bucket is None:
            raise ValueError("moving files into a bucket needs TIYAN_S3_BUCKET")
        with self.db.read() as conn:
            where = OBJ.c.location.is_(None) if to_bucket else OBJ.c.location.is_not(None)
            rows = conn.execute(sa.select(OBJ.c.key, OBJ.c.expires_at, OBJ.c.content_type)
                                .where(where).order_by(OBJ.c.id)).all()
        target = StoredObjects(self.db, self.bucket, to_bucket=to_bucket)
        for row in rows:
            with tempfile.TemporaryFile() as spool:
                for data in self.chunks(row.key):
                    spool.write(data)
                spool.seek(0)
                target.put(row.key, spool, now=now, expires_at=row.expires_at,
                           content_type=row.content_type)
            yield row.key


def _schedule_purge(conn: sa.Connection, now: dt.datetime) -> None:
    """A purge job, seen by workers once the caller's transaction commits (one at a time)."""
    enqueue(conn, PURGE_JOB, {}, run_at=now, unique_key=PURGE_JOB)


@job_handler(PURGE_JOB, lane=BULK, one_at_a_time=True)
def purge_job(ctx: Context, payload: dict[str, object]) -> None:
    object_store(ctx).purge(ctx.now())


def save_upload(source: BinaryIO, folder: Path) -> Path:
    """An upload copied in chunks to `folder/upload` (a request's own temporary folder)."""
    path = folder / "upload"
    with path.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
    return path
