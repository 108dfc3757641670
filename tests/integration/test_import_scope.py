"""Imports name customers only within the importer's reach and a record's own branch of units,
imported transactions are unique per unit, and a plan shared by several units is changed only
by someone who manages all of them (issue 19); on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.cli import app
from tiyan.context import Context
from tiyan.services import plans
from tiyan.services.feedback_import import ImportRequest, do_import_feedback
from tiyan.services.table_files import FileRow
from tiyan.services.transactions import import_transactions
from tiyan.store import tables as t

FEEDBACK = "评价ID,评价内容,评价时间,门店编码,客户\n"
TRANSACTIONS = "会员号,消费时间,金额,订单号,门店\n"
NOBODY = "13912345678"  # a phone number no customer has


def phone(world: World, store: str) -> str:
    """The identity the fixture world gave the store's customer."""
    return f"1380013{world.unit_ids[store]:04d}"


def customer_id(ctx: Context, public_id: str) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(sa.select(t.customer.c.id)
                                .where(t.customer.c.public_id == public_id)).scalar_one())


def linked(ctx: Context) -> dict[str, int | None]:
    """Imported feedback records: external id -> the customer they were linked to."""
    R = t.response
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(R.c.external_id, R.c.customer_id)
                            .where(R.c.channel == "import"))
        return {eid: cid for eid, cid in rows}


def import_feedback(ctx: Context, world: World, tmp_path: Path, email: str,
                    rows: list[str]) -> tuple[int, int]:
    path = tmp_path / "评价.csv"
    path.write_text(FEEDBACK + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    report = do_import_feedback(ctx, world.actor(email),
                                ImportRequest(path=path, source="review"))
    assert report.problems == []  # an unknown or unreachable customer is no problem
    return report.rows_stored, report.rows_rejected


def test_a_feedback_record_is_never_linked_to_a_customer_outside_the_importers_units(
        ctx: Context, world: World, tmp_path: Path) -> None:
    n1, s1 = world.customer_ids["n1"], world.customer_ids["s1"]
    stored = import_feedback(ctx, world, tmp_path, "mgr.n1@t.test", [
        f"f1,好,2026-11-20 10:00,n1,{phone(world, 'n1')}",
        f"f2,差,2026-11-20 10:00,n1,{phone(world, 's1')}",   # another region's customer
        f"f3,差,2026-11-20 10:00,n1,+86 {phone(world, 'n2')}",  # a sibling store's customer
        f"f4,差,2026-11-20 10:00,n1,{s1}",                   # by public id
        f"f5,好,2026-11-20 10:00,n1-as,{n1}",
        f"f6,差,2026-11-20 10:00,n1,{NOBODY}"])
    assert stored == (6, 0)
    assert linked(ctx) == {"f1": customer_id(ctx, n1), "f2": None, "f3": None, "f4": None,
                           "f5": customer_id(ctx, n1), "f6": None}


def test_a_feedback_record_names_only_a_customer_on_its_own_branch_of_units(
        ctx: Context, world: World, tmp_path: Path) -> None:
    """Even an administrator, who sees every customer, links a store's record only to a
    customer of that store, of a unit below it or of one above it: never a sibling store's."""
    n1, n2 = world.customer_ids["n1"], world.customer_ids["n2"]
    import_feedback(ctx, world, tmp_path, "admin@t.test", [
        f"a1,差,2026-11-20 10:00,n2,{phone(world, 'n1')}",
        f"a2,好,2026-11-20 10:00,n1-as,{phone(world, 'n1')}",
        f"a3,好,2026-11-20 10:00,north,{phone(world, 'n2')}",
        f"a4,差,2026-11-20 10:00,s1,{n2}"])
    assert linked(ctx) == {"a1": None, "a2": customer_id(ctx, n1), "a3": customer_id(ctx, n2),
                           "a4": None}


def test_an_api_feedback_import_gives_no_hint_of_another_units_customer(
        client: TestClient, world: World) -> None:
    body = (FEEDBACK + f"x1,差,2026-11-20 10:00,n1,{phone(world, 's1')}\n"
            f"x2,差,2026-11-20 10:00,n1,{NOBODY}\n").encode()
    headers = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}
    reply = client.post("/api/v1/feedback/imports", headers=headers,
                        files={"file": ("f.csv", body, "text/csv")}, data={"source": "review"})
    assert reply.status_code == 201, reply.text
    data = reply.json()
    assert (data["rows_stored"], data["rows_rejected"], data["problems"]) == (2, 0, [])
    assert "客户s1" not in reply.text and world.customer_ids["s1"] not in reply.text
    assert linked(world.ctx) == {"x1": None, "x2": None}


def transaction_rows(rows: list[tuple[str, str, str, str]]) -> list[FileRow]:
    return [FileRow(line, {"customer": c, "time": "2026-11-02 10:00", "amount": "10",
                           "external_id": e, "unit": u, "kind": k})
            for line, (c, e, u, k) in enumerate(rows, start=2)]


HEADERS = ["customer", "time", "amount", "external_id", "unit", "kind"]


def reasons(report: object) -> dict[int | None, str]:
    return {p.line: p.reason for p in report.problems}  # type: ignore[attr-defined]


def test_a_transaction_names_only_a_customer_the_importer_may_see_like_an_unknown_one(
        world: World) -> None:
    s1, n2 = phone(world, "s1"), phone(world, "n2")
    report = import_transactions(world.ctx, world.actor("mgr.n1@t.test"), transaction_rows([
        (s1, "t1", "", "purchase"), (world.customer_ids["s1"], "t2", "", "purchase"),
        (n2, "t3", "", "purchase"), (NOBODY, "t4", "", "purchase"),
        (phone(world, "n1"), "t5", "s1", "purchase"),    # a unit outside the manager's
        (phone(world, "n1"), "t6", "n1-as", "purchase")]), HEADERS)
    assert (report.imported, report.rejected) == (1, 5)
    assert reasons(report) == {
        2: f"unknown customer {s1!r}", 3: f"unknown customer {world.customer_ids['s1']!r}",
        4: f"unknown customer {n2!r}", 5: f"unknown customer {NOBODY!r}",
        6: "unit 's1' is outside your scope"}


def test_a_transaction_at_a_sibling_store_does_not_name_another_stores_customer(
        world: World) -> None:
    n1 = phone(world, "n1")
    report = import_transactions(world.ctx, world.actor("admin@t.test"), transaction_rows([
        (n1, "u1", "n2", "purchase"), (n1, "u2", "n1-as", "purchase"),
        (n1, "u3", "north", "purchase")]), HEADERS)
    assert (report.imported, reasons(report)) == (2, {2: f"unknown customer {n1!r}"})


def test_an_api_transaction_import_refuses_another_units_customer_as_unknown(
        client: TestClient, world: World) -> None:
    s1 = phone(world, "s1")
    headers = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}
    reply = client.post("/api/v1/transactions", headers=headers, json={"transactions": [
        {"customer": s1, "time": "2026-11-10T10:00:00+08:00", "amount": "5"}]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["problems"][0]["reason"] == f"unknown customer {s1!r}"
    assert "客户s1" not in reply.text
    with world.ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count())
                            .select_from(t.customer_transaction)).scalar_one() == 0


def test_the_same_order_number_at_two_dealers_is_two_transactions(
        ctx: Context, world: World, tmp_path: Path) -> None:
    path = tmp_path / "订单.csv"
    path.write_text(TRANSACTIONS + f"{phone(world, 'n1')},2026-11-01 10:00,88,A1,\n"
                                   f"{phone(world, 's1')},2026-11-01 11:00,99,A1,\n",
                    encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["transactions", "import", str(path), "--db", ctx.settings.db_url])
    assert first.exit_code == 0, first.output
    assert "2 imported, 0 already imported, 0 rejected" in first.output
    again = runner.invoke(app, ["transactions", "import", str(path), "--db", ctx.settings.db_url])
    assert "0 imported, 2 already imported" in again.output
    # each dealer's manager importing their own order A2 through the service
    for store in ("n1", "s1"):
        report = import_transactions(ctx, world.actor(f"mgr.{store}@t.test"), transaction_rows(
            [(phone(world, store), "A2", "", "purchase")]), HEADERS)
        assert (report.imported, report.already_imported) == (1, 0)
    with ctx.db.read() as conn:
        T = t.customer_transaction
        stored = conn.execute(sa.select(T.c.external_id, T.c.unit_id)
                              .order_by(T.c.external_id, T.c.unit_id)).all()
    units = sorted((world.unit_ids["n1"], world.unit_ids["s1"]))
    assert [tuple(r) for r in stored] == [("A1", u) for u in units] + [("A2", u) for u in units]


def test_the_per_unit_transaction_key_migration_keeps_every_row(ctx: Context,
                                                                 world: World) -> None:
    """0021 copies customer_transaction on SQLite; undone and done again, every row is there.
    Undoing it while two units hold the same order number fails and changes nothing (on
    SQLite the copy's new table is rolled back too)."""
    from alembic import command

    from tiyan.store.migrate import alembic_config, upgrade

    T = t.customer_transaction

    def rows() -> list[tuple[object, ...]]:
        with ctx.db.read() as conn:
            return [tuple(r) for r in conn.execute(
                sa.select(T.c.customer_id, T.c.unit_id, T.c.external_id).order_by(T.c.id))]

    def per_unit() -> bool:
        with ctx.db.read() as conn:
            schema = sa.inspect(conn)
            uniques = schema.get_unique_constraints("customer_transaction")
            assert not [n for n in schema.get_table_names() if n.startswith("_alembic_tmp")]
        return ["kind", "external_id", "unit_id"] in [u["column_names"] for u in uniques]

    import_transactions(ctx, None, transaction_rows([
        (phone(world, "n1"), "B1", "", "purchase"), (phone(world, "s1"), "B2", "", "visit")]),
        HEADERS)
    before = rows()
    command.downgrade(alembic_config(ctx.db), "0020")
    assert rows() == before and not per_unit()
    upgrade(ctx.db)
    assert rows() == before and per_unit()
    import_transactions(ctx, None, transaction_rows([
        (phone(world, "n2"), "B1", "", "purchase")]), HEADERS)
    with pytest.raises(sa.exc.IntegrityError):
        command.downgrade(alembic_config(ctx.db), "0020")
    assert len(rows()) == 3 and per_unit()


def plan_with_a_task(ctx: Context, world: World, units: list[str]) -> tuple[str, int]:
    public_id = plans.do_create_plan(ctx, world.actor("admin@t.test"), plans.PlanRequest(
        title="共享计划", kpi="nps", unit_codes=units, start_date=dt.date(2026, 9, 1),
        tasks=[plans.TaskRequest("培训")]))
    with ctx.db.read() as conn:
        task = conn.execute(sa.select(t.action_task.c.id)).scalar_one()
    return public_id, int(task)


def plan_state(ctx: Context) -> list[tuple[object, ...]]:
    with ctx.db.read() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(t.action_plan.c.status, t.action_task.c.title, t.action_task.c.status)
            .join(t.action_task, t.action_task.c.plan_id == t.action_plan.c.id))]


def test_a_store_manager_cannot_change_a_plan_shared_with_another_store(
        ctx: Context, world: World, client: TestClient) -> None:
    public_id, task = plan_with_a_task(ctx, world, ["n1", "n2"])
    url = f"/api/v1/plans/{public_id}"
    manager = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}
    assert client.get(url, headers=manager).status_code == 200  # the plan's first unit is theirs
    before = plan_state(ctx)
    refused = [client.post(f"{url}/tasks", headers=manager, json={"title": "x"}),
               client.patch(f"{url}/tasks/{task}", headers=manager, json={"status": "done"}),
               client.delete(f"{url}/tasks/{task}", headers=manager),
               client.patch(url, headers=manager, json={"status": "done"}),
               client.delete(url, headers=manager)]
    assert [(r.status_code, r.json()["error"]["where"]) for r in refused] == [(403, "units")] * 5
    assert plan_state(ctx) == before
    # the CX manager of the region above both stores may
    region = {"Authorization": f"Bearer {world.tokens['cx@t.test']}"}
    added = client.post(f"{url}/tasks", headers=region, json={"title": "回访"})
    assert added.status_code == 201, added.text


def test_the_plan_page_offers_no_edits_of_a_shared_plan_and_refuses_them(
        ctx: Context, world: World, client: TestClient) -> None:
    public_id, task = plan_with_a_task(ctx, world, ["n1", "n2"])
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    page = client.get(f"/plans/{public_id}")
    assert page.status_code == 200 and 'id="edit"' not in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    before = plan_state(ctx)
    for path, form in ((f"tasks/{task}/delete", {}), (f"tasks/{task}", {"status": "done"}),
                       ("tasks", {"title": "x"}), ("status", {"status": "done"}),
                       ("delete", {"confirm": "yes"})):
        reply = client.post(f"/plans/{public_id}/{path}", data={"csrf_token": token, **form},
                            follow_redirects=False)
        assert reply.status_code == 403, (path, reply.status_code)
    assert plan_state(ctx) == before
