"""Stored files that every process reads: uploaded import files, case attachments, trained models.

One interface, `ObjectStore`, keyed by a path-like name (`uploads/…`, `cases/<case>/<file>`,
`models/churn/<version>.joblib`). A job carries the key, never a path on some host's disk, so a
worker on another host (with its own temporary and data folders) reads what the web process
stored. The implementation is `DatabaseObjects`: the files are rows of the database (chunks of
at most 1 MiB, so neither side holds a large file in memory at once); inside a web request its
writes are part of the request's transaction. An S3-compatible store is not offered: nothing that
speaks S3 runs where tiyan is tested, and an untested path is not shipped (docs/database.md).

A key that is not there raises `ObjectMissing`, a clear "not found" that says which file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.errors import NotFound
from tiyan.store import tables as t
from tiyan.store.db import Database

CHUNK = 1 << 20
OBJ, CHUNKS = t.stored_object, t.stored_object_chunk


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

    def delete(self, key: str) -> bool:
        """Remove the file; False when there was none."""

    def remove_expired(self, now: dt.datetime) -> list[str]:
        """Remove files whose expiry has passed; their keys."""


def object_store(ctx: Context) -> ObjectStore:
    """The installation's store of files (the database)."""
    return DatabaseObjects(ctx.db)


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


class DatabaseObjects:
    """Files as rows of the database: `stored_object` and its chunks."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, key: str, source: BinaryIO, *, now: dt.datetime,
            expires_at: dt.datetime | None = None, content_type: str | None = None) -> int:
        with self.db.write() as conn:
            conn.execute(OBJ.delete().where(OBJ.c.key == key))
            object_id = conn.execute(OBJ.insert().values(
                key=key, size=0, chunks=0, content_type=content_type, created_at=now,
                expires_at=expires_at).returning(OBJ.c.id)).scalar_one()
            size = seq = 0
            while data := source.read(CHUNK):
                conn.execute(CHUNKS.insert().values(object_id=object_id, seq=seq, data=data))
                size, seq = size + len(data), seq + 1
            conn.execute(OBJ.update().where(OBJ.c.id == object_id).values(size=size, chunks=seq))
        return size

    def chunks(self, key: str) -> Iterator[bytes]:
        with self.db.read() as conn:
            found = conn.execute(sa.select(OBJ.c.id, OBJ.c.chunks).where(OBJ.c.key == key)).first()
            if found is None:
                raise ObjectMissing(f"the stored file {key!r} is missing", where="storage")
            for seq in range(found.chunks):
                data = conn.execute(sa.select(CHUNKS.c.data).where(
                    CHUNKS.c.object_id == found.id, CHUNKS.c.seq == seq)).scalar()
                if data is None:
                    raise ObjectMissing(f"the stored file {key!r} is incomplete (part {seq} "
                                        "is missing)", where="storage")
                yield bytes(data)

    def size(self, key: str) -> int | None:
        with self.db.read() as conn:
            value = conn.execute(sa.select(OBJ.c.size).where(OBJ.c.key == key)).scalar()
        return None if value is None else int(value)

    def keep(self, key: str) -> None:
        with self.db.write() as conn:
            kept = conn.execute(OBJ.update().where(OBJ.c.key == key).values(expires_at=None))
        if not kept.rowcount:
            raise ObjectMissing(f"the stored file {key!r} is missing", where="storage")

    def delete(self, key: str) -> bool:
        with self.db.write() as conn:
            return bool(conn.execute(OBJ.delete().where(OBJ.c.key == key)).rowcount)

    def remove_expired(self, now: dt.datetime) -> list[str]:
        with self.db.write() as conn:
            keys = list(conn.execute(sa.select(OBJ.c.key).where(OBJ.c.expires_at < now)
                                     .order_by(OBJ.c.key)).scalars())
            if keys:
                conn.execute(OBJ.delete().where(OBJ.c.key.in_(keys)))
        return keys


def save_upload(source: BinaryIO, folder: Path) -> Path:
    """An upload copied in chunks to `folder/upload` (a request's own temporary folder)."""
    path = folder / "upload"
    with path.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
    return path
