"""Driver-level inserts of the write path store exactly what a Core insert stores."""

import datetime as dt

import pytest
import sqlalchemy as sa

from tiyan.context import Context
from tiyan.store import tables as t
from tiyan.store.driver_insert import driver_insert, insert_returning, insert_rows

COLUMNS = ("kind", "payload", "status", "run_at", "attempts", "created_at", "locked_at",
           "last_error")


def test_driver_and_core_inserts_store_identical_rows(ctx: Context) -> None:
    at = dt.datetime(2026, 3, 1, 17, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    values = ("k", {"response_ids": [7], "text": "中文 \"quoted\""}, "queued", at, 0, at, None,
              None)
    with ctx.db.write() as conn:
        conn.execute(t.job.insert().values(dict(zip(COLUMNS, values, strict=True))))
        spec = driver_insert(conn.dialect, t.job, COLUMNS)
        insert_rows(conn, spec, [spec.row(values), spec.row(values)])
        spec = driver_insert(conn.dialect, t.job, COLUMNS, returning="id")
        new_id = insert_returning(conn, spec, spec.row(values))
    with ctx.db.read() as conn:
        typed = conn.execute(sa.select(*(t.job.c[c] for c in COLUMNS)).order_by(t.job.c.id)).all()
        # what the database holds, read without the column types' conversions
        stored = conn.execute(sa.text(
            "SELECT CAST(payload AS TEXT), CAST(run_at AS TEXT), locked_at FROM job ORDER BY id"
        )).all()
        last = conn.execute(sa.select(sa.func.max(t.job.c.id))).scalar_one()
    assert len(typed) == 4
    assert all(row == typed[0] for row in typed)
    assert typed[0].run_at == at and typed[0].payload == values[1]
    assert all(row == stored[0] for row in stored)
    assert stored[0].locked_at is None
    assert new_id == last


def test_optional_json_none_stays_none_and_other_values_are_converted(ctx: Context) -> None:
    spec = driver_insert(ctx.db.engine.dialect, t.answer,
                         ("response_id", "question_key", "value_json"))
    assert spec.row((1, "q", None)) == (1, "q", None)  # SQL NULL, not the JSON text 'null'
    assert spec.row((1, "q", ["a"]))[2] not in (None, ["a"])  # serialised for the driver


def test_driver_errors_surface_as_sqlalchemy_errors_and_roll_back_the_transaction(
        ctx: Context) -> None:
    """The write path relies on an IntegrityError for a replayed idempotency key."""
    columns = ("public_id", "source", "channel", "unit_id", "status", "received_at",
               "idempotency_key", "customer_snapshot", "meta")
    with ctx.db.write() as conn:
        unit = conn.execute(sa.insert(t.org_unit).values(
            code="u", name_zh="单位", name_en="Unit", kind="store", created_at=ctx.now())
        ).inserted_primary_key[0]
    with pytest.raises(sa.exc.IntegrityError) as raised, ctx.db.write() as conn:
        spec = driver_insert(conn.dialect, t.response, columns, returning="id")
        insert_returning(conn, spec, spec.row(("a" * 32, "survey", "api", unit,
                                               "complete", ctx.now(), "key-1", {}, {})))
        insert_rows(conn, spec, [spec.row(("b" * 32, "survey", "api", unit, "complete",
                                           ctx.now(), "key-1", {}, {}))])
    assert "key-1" in str(raised.value.params)
    with ctx.db.read() as conn:  # the first row went with the failed transaction
        assert conn.execute(sa.select(sa.func.count()).select_from(t.response)).scalar_one() == 0


def test_submission_refs_on_the_driver_equal_the_core_query(ctx: Context) -> None:
    from tiyan.store import responses

    with ctx.db.write() as conn:
        unit = conn.execute(sa.insert(t.org_unit).values(
            code="u2", name_zh="单位", name_en="Unit", kind="store", created_at=ctx.now())
        ).inserted_primary_key[0]
        conn.execute(sa.insert(t.staff).values(unit_id=unit, code="e9", name="张", title="顾问",
                                               created_at=ctx.now()))
    with ctx.db.read() as conn:
        for unit_code, staff_code in (("u2", "e9"), ("u2", None), ("nowhere", "nobody")):
            params = {"unit": unit_code, "survey": 1, "staff": staff_code}
            core = dict(conn.execute(responses._REFS, params).mappings().one())
            driver = responses.submission_refs(conn, unit_code=unit_code, survey_id=1,
                                               staff_code=staff_code)
            assert driver == core
    assert driver["unit_id"] is None and core["staff_id"] is None
