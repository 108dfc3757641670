"""Stored files in an S3-compatible bucket (TIYAN_STORAGE=s3), against a real S3 server
(moto's, over HTTP) and both databases: the row says where the bytes are, a replaced or deleted
file's object goes only after the change is committed, orphans are swept, files move between the
stores and stay readable throughout, and a bucket that is gone is said plainly."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from tests.integration.s3_server import S3Server, s3_server  # noqa: F401 - the fixture
from tiyan.context import Context
from tiyan.services import storage
from tiyan.services.jobs import run_until_idle
from tiyan.services.readiness import check_readiness
from tiyan.services.storage import ObjectMissing, object_store, read_bytes
from tiyan.store import tables as t

BIG = bytes(range(256)) * (40 * 1024 + 3)  # 10 MiB and a bit: a multipart upload


@pytest.fixture
def bucket(ctx: Context, s3_server: S3Server) -> str:  # noqa: F811
    name = s3_server.new_bucket()
    ctx.settings = ctx.settings.model_copy(update=s3_server.settings(name))
    return name


def rows(ctx: Context) -> dict[str, str | None]:
    with ctx.db.read() as conn:
        return {key: location for key, location in conn.execute(
            sa.select(t.stored_object.c.key, t.stored_object.c.location))}


def test_files_live_in_the_bucket_and_replacements_go_after_commit(
        ctx: Context, bucket: str, s3_server: S3Server) -> None:  # noqa: F811
    objects = object_store(ctx)
    assert objects.put("uploads/a.csv", io.BytesIO(BIG), now=ctx.now()) == len(BIG)
    assert read_bytes(objects, "uploads/a.csv") == BIG
    first = rows(ctx)["uploads/a.csv"]
    assert first and first.startswith("tiyan/uploads/a.csv~")
    assert s3_server.names(bucket) == [first]
    with ctx.db.read() as conn:  # no bytes in the database
        assert conn.execute(sa.select(sa.func.count()).select_from(
            t.stored_object_chunk)).scalar_one() == 0

    objects.put("uploads/a.csv", io.BytesIO(b"second"), now=ctx.now())
    second = rows(ctx)["uploads/a.csv"]
    assert second != first and read_bytes(objects, "uploads/a.csv") == b"second"
    # the first version stays until a job, which sees only committed changes, removes it
    assert s3_server.names(bucket) == sorted([first, second])
    run_until_idle(ctx)
    assert s3_server.names(bucket) == [second]

    assert objects.delete("uploads/a.csv", now=ctx.now())
    assert not objects.delete("uploads/a.csv", now=ctx.now())
    with pytest.raises(ObjectMissing):
        read_bytes(objects, "uploads/a.csv")
    run_until_idle(ctx)
    assert s3_server.names(bucket) == []


def test_a_failed_write_leaves_no_row_and_orphans_are_swept(
        ctx: Context, bucket: str, s3_server: S3Server,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    objects = object_store(ctx)
    objects.put("models/churn/v1.joblib", io.BytesIO(b"model"), now=ctx.now())
    held = rows(ctx)["models/churn/v1.joblib"]

    def database_gone(*args: object, **kwargs: object) -> bool:
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    # the database fails after the upload was made: no row, and the upload is taken back
    with monkeypatch.context() as patch:
        patch.setattr(storage.StoredObjects, "_let_go", database_gone)
        with pytest.raises(sa.exc.OperationalError):
            objects.put("uploads/b.csv", io.BytesIO(b"orphan"), now=ctx.now())
    assert "uploads/b.csv" not in rows(ctx)
    # the failed write removed its own upload at once
    assert s3_server.names(bucket) == [held]

    # an upload whose request failed later (no row ever pointed at it): swept after an hour
    s3_server.client().put_object(Bucket=bucket, Key="tiyan/uploads/lost~0", Body=b"lost")
    s3_server.client().put_object(Bucket=bucket, Key="outside/not-ours", Body=b"keep")
    objects.purge(dt.datetime.now(dt.UTC))
    assert "tiyan/uploads/lost~0" in s3_server.names(bucket)  # not yet: it may be in flight
    objects.purge(dt.datetime.now(dt.UTC) + storage.ORPHAN_AFTER + dt.timedelta(minutes=1))
    assert s3_server.names(bucket) == sorted([held, "outside/not-ours"])
    assert read_bytes(objects, "models/churn/v1.joblib") == b"model"


def test_expired_uploads_leave_the_bucket(
        ctx: Context, bucket: str, s3_server: S3Server) -> None:  # noqa: F811
    objects = object_store(ctx)
    objects.put("uploads/preview", io.BytesIO(b"rows"), now=ctx.now(),
                expires_at=ctx.now() + dt.timedelta(days=1))
    objects.put("uploads/kept", io.BytesIO(b"rows"), now=ctx.now(),
                expires_at=ctx.now() + dt.timedelta(days=1))
    objects.keep("uploads/kept")
    assert objects.remove_expired(ctx.now() + dt.timedelta(days=2)) == ["uploads/preview"]
    objects.purge(ctx.now())
    assert s3_server.names(bucket) == [rows(ctx)["uploads/kept"]]


def test_files_move_between_the_stores_and_stay_readable(
        ctx: Context, s3_server: S3Server) -> None:  # noqa: F811
    in_database = object_store(ctx)
    in_database.put("cases/c1/f1", io.BytesIO(BIG), now=ctx.now(), content_type="text/plain")
    in_database.put("cases/c1/f2", io.BytesIO(b"small"), now=ctx.now())
    assert set(rows(ctx).values()) == {None}

    name = s3_server.new_bucket()
    ctx.settings = ctx.settings.model_copy(update=s3_server.settings(name))
    to_bucket = object_store(ctx)
    assert read_bytes(to_bucket, "cases/c1/f1") == BIG  # older files read from the database
    assert to_bucket.pending_moves(to_bucket=True) == 2
    assert sorted(to_bucket.move(to_bucket=True, now=ctx.now())) == ["cases/c1/f1", "cases/c1/f2"]
    assert all(rows(ctx).values()) and len(s3_server.names(name)) == 2
    assert read_bytes(to_bucket, "cases/c1/f1") == BIG
    with ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(
            t.stored_object_chunk)).scalar_one() == 0

    # and back, with the bucket still configured to read from
    ctx.settings = ctx.settings.model_copy(update={"storage": "database"})
    back = object_store(ctx)
    assert list(back.move(to_bucket=False, now=ctx.now()))
    assert set(rows(ctx).values()) == {None}
    assert read_bytes(back, "cases/c1/f2") == b"small"
    back.purge(ctx.now())
    assert s3_server.names(name) == []


def test_an_object_gone_from_the_bucket_is_a_clear_missing_file(
        ctx: Context, bucket: str, s3_server: S3Server) -> None:  # noqa: F811
    objects = object_store(ctx)
    objects.put("cases/c9/f9", io.BytesIO(b"x"), now=ctx.now())
    s3_server.client().delete_object(Bucket=bucket, Key=rows(ctx)["cases/c9/f9"])
    with pytest.raises(ObjectMissing, match="missing from the bucket"):
        read_bytes(objects, "cases/c9/f9")


def test_readiness_names_a_bucket_that_does_not_answer(
        ctx: Context, bucket: str, s3_server: S3Server) -> None:  # noqa: F811
    assert check_readiness(ctx).object_store_problem == ""
    assert check_readiness(ctx).ready
    ctx.settings = ctx.settings.model_copy(update={"s3_bucket": "tiyan-no-such-bucket"})
    state = check_readiness(ctx)
    assert state.object_store_problem and not state.ready
    assert "127.0.0.1" not in state.object_store_problem  # no address to whoever asks
    ctx.settings = ctx.settings.model_copy(update={"storage": "database", "s3_bucket": ""})
    assert check_readiness(ctx).object_store_problem is None
