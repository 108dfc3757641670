"""Transactions import (row-level report, idempotency, GBK), churn training and scoring stored,
customer 360 and the at-risk worklist scoped by unit with PII masked per role."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.world import PASSWORD
from tiyan.predict import TooFewToTrain
from tiyan.services import churn
from tiyan.services.storage import object_store
from tiyan.services.table_files import open_table_file
from tiyan.services.transactions import import_transactions
from tiyan.store import customers
from tiyan.store import tables as t

GOOD_AND_BAD = (
    "会员号,消费时间,金额,订单号,门店\n"
    "{n1},2026-11-01 10:00,88.50,A1,\n"          # good
    "{n1},2026-11-02,-5,A2,\n"                     # negative amount
    "99999,2026-11-02,5,A3,\n"                     # unknown customer
    "{n1},2099-01-01,5,A4,\n"                      # future
    "{s1},2026-11-02,5,A5,\n"                      # outside mgr.n1's scope
    "{n1},2026-11-03,12,A6,nowhere\n"              # unknown unit
    "{n1},2026-11-03 09:30,120,A7,n1-as\n"         # good, at a department
)


def phones(world) -> dict[str, str]:
    with world.ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.customer.c.unit_id, t.customer_identity.c.value)
                            .join(t.customer_identity,
                                  t.customer_identity.c.customer_id == t.customer.c.id))
        by_unit = {unit_id: value for unit_id, value in rows}
    return {store: by_unit[world.unit_ids[store]] for store in ("n1", "n2", "s1")}


def test_import_reports_each_bad_row_and_is_idempotent(world, tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_bytes(GOOD_AND_BAD.format(**phones(world)).encode("gbk"))
    actor = world.actor("mgr.n1@t.test")
    with open_table_file(path) as table:
        assert table.encoding == "gb18030"
        report = import_transactions(world.ctx, actor, table.rows(), table.headers)
    assert (report.rows, report.imported, report.rejected) == (7, 2, 5)
    problems = {(p.line, p.column): p.reason for p in report.problems}
    assert "negative" in problems[(3, "金额")]
    assert "unknown customer" in problems[(4, "会员号")]
    assert "future" in problems[(5, "消费时间")]
    # another store's customer reads exactly as an unknown one (no hint that they exist)
    assert problems[(6, "会员号")] == f"unknown customer {phones(world)['s1']!r}"
    assert "unknown unit" in problems[(7, "门店")]
    with open_table_file(path) as again:
        second = import_transactions(world.ctx, actor, again.rows(), again.headers)
    assert (second.imported, second.already_imported) == (0, 2)
    with world.ctx.db.read() as conn:
        stored = conn.execute(sa.select(t.customer_transaction.c.amount)
                              .order_by(t.customer_transaction.c.amount)).scalars().all()
    assert [Decimal(a) for a in stored] == [Decimal("88.50"), Decimal("120.00")]


def test_a_file_in_no_known_encoding_is_refused_plainly(tmp_path):
    from tiyan.errors import InvalidInput

    path = tmp_path / "x.csv"
    path.write_bytes(b"customer,time,amount\n\xff\xfe\x81\x00\xff")
    with pytest.raises(InvalidInput) as caught:
        open_table_file(path)
    assert "neither UTF-8 nor GBK" in caught.value.message
    assert "line 2" in caught.value.message


def test_api_import_reports_by_position(world, client):
    n1 = phones(world)["n1"]
    headers = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}
    body = {"transactions": [
        {"customer": n1, "time": "2026-11-10T10:00:00+08:00", "amount": "50", "external_id": "x1"},
        {"customer": n1, "time": "2026-11-10T10:00:00+08:00", "amount": "-1", "external_id": "x2"},
    ]}
    reply = client.post("/api/v1/transactions", json=body, headers=headers)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert (data["imported"], data["rejected"]) == (1, 1)
    assert data["problems"][0]["line"] == 2 and data["problems"][0]["column"] == "amount"
    viewer = {"Authorization": f"Bearer {world.tokens['viewer@t.test']}"}
    assert client.post("/api/v1/transactions", json=body, headers=viewer).status_code == 403


def _history(world, rng: random.Random, count: int) -> None:
    """Customers of n1 and s1 with 15 months of visits; bad answers make them stop coming."""
    ctx, now = world.ctx, world.ctx.now()
    rows, answers = [], []
    with ctx.db.write() as conn:
        for index in range(count):
            store = ("n1", "s1")[index % 2]
            cid = customers.insert_customer(conn, unit_id=world.unit_ids[store], now=now,
                                            name=f"顾客{index}", attributes={"vip": index < 5})
            unhappy = rng.random() < 0.4
            stop = now - dt.timedelta(days=rng.randint(95, 200)) if unhappy else now
            day = now - dt.timedelta(days=450)
            while day < stop:
                rows.append({"customer_id": cid, "unit_id": world.unit_ids[store],
                             "kind": "visit", "external_id": f"{cid}-{day:%Y%m%d}",
                             "amount": Decimal(rng.randint(50, 900)), "currency": "CNY",
                             "occurred_at": day, "attributes": {}})
                day += dt.timedelta(days=rng.randint(15, 60))
            answers.append((cid, store, 2 if unhappy else 9, stop - dt.timedelta(days=20)))
        conn.execute(sa.insert(t.customer_transaction), rows)
    from tiyan.services.responses import ResponseRequest, do_submit_response

    admin = world.actor("admin@t.test")
    with ctx.db.read() as conn:
        public = dict(conn.execute(sa.select(t.customer.c.id, t.customer.c.public_id)).all())
    for cid, store, nps, at in answers:
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code=store, answers={"nps": nps},
            customer_id=public[cid], submitted_at=min(at, ctx.now())))


def test_training_says_when_churners_are_too_few(world):
    _history(world, random.Random(1), 40)
    with pytest.raises(TooFewToTrain) as caught:
        churn.train(world.ctx)
    assert caught.value.minimum_per_class == 50


def test_train_score_and_see_it_in_360_and_worklist(world, client, tmp_path):
    world.ctx.settings.data_dir = str(tmp_path)
    _history(world, random.Random(7), 320)
    summary = churn.train(world.ctx, seed=0)
    assert summary.churners >= 50 and summary.cv_auc > 0.7
    # the model is stored in the database (any worker on any host scores with it)
    assert summary.object == f"models/churn/{summary.version}.joblib"
    assert object_store(world.ctx).size(summary.object)
    assert not (tmp_path / "models").exists()
    scored = churn.score(world.ctx)
    assert scored >= 320
    with world.ctx.db.read() as conn:
        versions = set(conn.execute(sa.select(t.churn_score.c.model_version)).scalars())
        reasons = conn.execute(sa.select(t.churn_score.c.reasons)
                               .order_by(t.churn_score.c.probability.desc())).first()
        queued = conn.execute(sa.select(sa.func.count()).select_from(t.job)
                              .where(t.job.c.kind == churn.REFRESH_JOB)).scalar_one()
    assert versions == {summary.version}
    assert reasons is not None and reasons[0] and {"zh", "en"} <= set(reasons[0][0])
    assert queued == 1
    assert churn.refresh_segments(world.ctx) > 0

    manager = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}
    rows = client.get("/api/v1/churn/at-risk", headers=manager).json()
    assert rows and all(r["unit_code"] == "n1" for r in rows)
    assert rows == sorted(rows, key=lambda r: -r["expected_loss"])
    top = rows[0]
    view = client.get(f"/api/v1/customers/{top['id']}/360", headers=manager).json()
    assert view["score"]["model_version"] == summary.version
    assert view["transactions"] and view["next_actions"]
    s1_customer = world.customer_ids["s1"]
    assert client.get(f"/api/v1/customers/{s1_customer}/360",
                      headers=manager).status_code == 404

    sign_in(client, "mgr.n1@t.test", PASSWORD)
    page = client.get(f"/customers/{top['id']}", headers={"accept-language": "en"})
    assert page.status_code == 200 and "Churn risk" in page.text
    assert client.get("/customers/at-risk").status_code == 200
    assert client.get(f"/customers/{s1_customer}").status_code == 404


def test_pii_is_masked_for_roles_without_view_pii(world, client):
    south = world.customer_ids["s1"]
    analyst = {"Authorization": f"Bearer {world.tokens['analyst.south@t.test']}"}
    admin = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    masked = client.get(f"/api/v1/customers/{south}/360", headers=analyst).json()["customer"]
    plain = client.get(f"/api/v1/customers/{south}/360", headers=admin).json()["customer"]
    assert plain["name"] == "客户s1" and masked["name"] != "客户s1"
    assert masked["identities"][0]["value"] != plain["identities"][0]["value"]
    assert "13800138000" not in str(masked)
