"""Migration 0025 moves the files this host kept into the database: case attachments under
TIYAN_FILES_DIR and the churn model at the path the database recorded (SQLite and PostgreSQL).
A file that is not on this host stays missing and says so."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import conftest
from tests.conftest import _create_pg_database, _drop_pg_database
from tiyan.context import Context
from tiyan.predict.errors import ModelFileError
from tiyan.services import churn, jobs
from tiyan.services.storage import ObjectMissing, object_store, read_bytes
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade


def test_the_migration_adopts_the_attachments_and_model_this_host_has(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = tmp_path / "files"
    (files / "cases" / "K1").mkdir(parents=True)
    (files / "cases" / "K1" / "f1").write_bytes(b"%PDF kept")   # f2 is on another host
    model = tmp_path / "models" / "m1.joblib"
    model.parent.mkdir()
    model.write_bytes(b"joblib bytes")
    monkeypatch.setenv("TIYAN_FILES_DIR", str(files))
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else _create_pg_database()
    db = Database(url)
    try:
        upgrade(db, "0024")
        now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        with db.write() as conn:
            conn.execute(sa.text("INSERT INTO org_unit (id, code, name_zh, name_en, kind, "
                                 "timezone, attributes, active, created_at) VALUES (1, 'u', "
                                 "'u', 'u', 'store', 'Asia/Shanghai', '{}', true, :now)"),
                         {"now": now})
            conn.execute(t.cx_case.insert().values(id=1, public_id="K1", unit_id=1,
                                                   status="new", title="x", created_at=now))
            conn.execute(t.case_event.insert(), [
                {"case_id": 1, "at": now, "kind": "attachment",
                 "detail": {"file_id": file_id, "name": "a.pdf", "size": 9}}
                for file_id in ("f1", "f2")])
            conn.execute(t.app_setting.insert().values(
                key=churn.MODEL_SETTING, updated_at=now,
                value={"version": "m1", "path": str(model), "rows": 10}))
        upgrade(db)
        ctx = Context(db, conftest.test_settings(url))
        store = object_store(ctx)
        assert read_bytes(store, "cases/K1/f1") == b"%PDF kept"
        assert store.size("cases/K1/f2") is None
        assert read_bytes(store, "models/churn/m1.joblib") == b"joblib bytes"
        info = churn.current_model_info(ctx)
        assert info is not None and info["object"] == "models/churn/m1.joblib"
        model.unlink()   # from now on the model is read from the database only
        with pytest.raises(ModelFileError, match="^the stored model: cannot read"):
            churn.load_current_model(ctx)
        with pytest.raises(ObjectMissing, match="'cases/K1/f2' is missing"):
            read_bytes(store, "cases/K1/f2")
    finally:
        db.dispose()
        if backend == "postgres":
            _drop_pg_database(url)


def test_a_model_left_on_another_host_says_to_train_again(ctx: Context) -> None:
    now = ctx.now()
    with ctx.db.write() as conn:
        conn.execute(t.app_setting.insert().values(
            key=churn.MODEL_SETTING, updated_at=now,
            value={"version": "m0", "path": "/elsewhere/m0.joblib"}))
    with pytest.raises(ObjectMissing, match="run `tiyan predict train` again"):
        churn.load_current_model(ctx)
    # the weekly refresh fails at once, saying why, for the failed-jobs page
    with ctx.db.write() as conn:
        churn.schedule_refresh(conn, now - churn.REFRESH_EVERY)
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        job = conn.execute(sa.select(t.job.c.status, t.job.c.attempts, t.job.c.last_error)
                           .where(t.job.c.kind == churn.REFRESH_JOB)).one()
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.last_error == ("churn scoring: the churn model m0 was saved at "
                              "/elsewhere/m0.joblib on one host and is not in the database; "
                              "run `tiyan predict train` again")
    # a current model whose stored file was removed fails just as clearly
    with ctx.db.write() as conn:
        conn.execute(t.app_setting.update().values(
            value={"version": "m0", "object": "models/churn/m0.joblib"}))
    with pytest.raises(ObjectMissing, match="'models/churn/m0.joblib' is missing"):
        churn.load_current_model(ctx)
    object_store(ctx).put("models/churn/m0.joblib", io.BytesIO(b"not a model"), now=now)
    with pytest.raises(ModelFileError, match="^the stored model: cannot read a churn model"):
        churn.load_current_model(ctx)
