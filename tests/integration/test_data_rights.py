"""People's data rights, on SQLite and PostgreSQL: one normal form for phones and e-mails (an
opt-out or a quarantine cannot be bypassed by writing the number another way), erasure of a
customer everywhere with the scores kept, retention periods, and the audit of erasures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.integration.channel_fixtures import SmsProvider, sms_provider
from tests.integration.test_closed_loop import add_detractor_rule
from tests.integration.test_invitations import add_rule, closed
from tests.integration.test_invitations_api import auth
from tests.world import World
from tiyan.analytics.kpis import monthly_kpis
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.services.aggregates import rebuild_text
from tiyan.services.cases import attachment_key, do_add_note, do_attach_file
from tiyan.services.erasure import do_erase_customer
from tiyan.services.events import EventCustomer, InboundEvent, do_receive_event
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.services.storage import object_store
from tiyan.store import tables as t

__all__ = ["sms_provider"]  # fixture used below

TEXT_TYPES = (sa.String, sa.Text, sa.JSON)
SCORE_TABLES = ("score_agg", "segment_agg", "unit_day_agg", "staff_agg", "driver_agg")
TEXT_AGGREGATES = ("text_agg", "unit_text_agg", "driver_aspect_agg")
PERSON = {"name": "欧阳娜娜", "phone": "13912345678", "email": "Nana.Ouyang@Example.test",
          "external_id": "VIP-4471"}
COMMENTS = ("前台欧阳小姐态度很差，房间很脏，再也不来了", "早餐冷了，服务员爱理不理")
NOTE = "客户欧阳娜娜要求退款，电话13912345678"


def customers_count(ctx: Context) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.customer)).scalar_one())


# --- one normal form -------------------------------------------------------------------------

def test_an_opt_out_for_a_number_holds_however_the_next_event_writes_it(
        ctx: Context, world: World, sms_provider: SmsProvider, client: TestClient) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    [first] = closed(world, external_id=None, email=None, phone="138 1234 5678")  # type: ignore[arg-type]
    jobs.run_until_idle(ctx)
    assert len(sms_provider.forms) == 1
    reply = client.post("/api/v1/channels/sms/replies?key=cb-key",
                        data={"from": "008613812345678", "text": "退订"})
    assert reply.json() == {"result": "opted_out"}
    before = customers_count(ctx)
    ctx.clock.advance(days=60)  # type: ignore[attr-defined]
    for written in ("+86 138-1234-5678", "13812345678", "+8613812345678"):
        [again] = closed(world, event_id=written, external_id=None, email=None,  # type: ignore[arg-type]
                         phone=written)
        assert (again["status"], again["reason"]) == ("suppressed", "opted_out")
    jobs.run_until_idle(ctx)
    assert customers_count(ctx) == before and len(sms_provider.forms) == 1
    assert first["status"] == "queued"


def test_a_quarantine_holds_however_the_number_is_written(
        ctx: Context, world: World, sms_provider: SmsProvider) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0)
    closed(world, event_id="a", external_id=None, email=None, phone="13812345678")  # type: ignore[arg-type]
    jobs.run_until_idle(ctx)
    ctx.clock.advance(days=2)  # type: ignore[attr-defined]
    [second] = closed(world, event_id="b", external_id=None, email=None,  # type: ignore[arg-type]
                      phone="0086 138 1234 5678")
    assert (second["status"], second["reason"]) == ("suppressed", "quarantined")
    closed(world, event_id="c", external_id=None, phone=None,  # type: ignore[arg-type]
           email="  LI@Example.TEST ")
    people = customers_count(ctx)
    closed(world, event_id="d", external_id=None, phone=None,  # type: ignore[arg-type]
           email="li@example.test")
    assert customers_count(ctx) == people
    jobs.run_until_idle(ctx)
    assert len(sms_provider.forms) == 1 and sms_provider.forms[0]["mobile"] == "+8613812345678"


def test_an_opt_out_list_and_the_customer_search_match_any_way_of_writing(
        ctx: Context, world: World, client: TestClient, tmp_path: Any) -> None:
    from tiyan.cli import app

    closed(world, external_id=None, email="Wang@Example.test", phone="139 1111 2222")  # type: ignore[arg-type]
    listing = tmp_path / "out.csv"
    listing.write_text("手机\n+86 139-1111-2222\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["customers", "opt-out", str(listing), "--db",
                                      ctx.settings.db_url])
    assert result.exit_code == 0 and "1 opted out" in result.output, result.output
    found = client.get("/api/v1/customers", params={"contact": "008613911112222"},
                       headers=auth(world, "cx@t.test"))
    assert found.status_code == 200 and [c["opted_out"] for c in found.json()["items"]] == [True]
    by_mail = client.get("/api/v1/customers", params={"contact": " WANG@example.TEST"},
                         headers=auth(world, "cx@t.test"))
    assert len(by_mail.json()["items"]) == 1
    masked = client.get("/api/v1/customers", params={"contact": "13911112222"},
                        headers=auth(world, "analyst.south@t.test"))
    assert masked.status_code == 403  # searching by a contact needs view_pii
    bad = client.get("/api/v1/customers", params={"contact": "call me"},
                     headers=auth(world, "cx@t.test"))
    assert bad.status_code == 422 and bad.json()["error"]["where"] == "contact"


def test_the_migration_normalises_stored_contacts_once_and_keeps_opt_outs(
        backend: str, tmp_path: Any) -> None:
    from alembic import command

    from tests.conftest import _create_pg_database, _drop_pg_database
    from tiyan.store.db import Database
    from tiyan.store.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else _create_pg_database()
    db = Database(url)
    try:
        upgrade(db, "0018")
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with db.write() as conn:
            conn.execute(sa.text("INSERT INTO org_unit (id, code, name_zh, name_en, kind, "
                                 "timezone, attributes, active, created_at) VALUES (1, 'u', "
                                 "'u', 'u', 'store', 'Asia/Shanghai', '{}', true, :now)"),
                         {"now": now})
            for cid, opted in ((1, None), (2, now), (3, None)):
                conn.execute(sa.text("INSERT INTO customer (id, public_id, unit_id, attributes, "
                                     "consent_email, consent_sms, opted_out_at, created_at) "
                                     "VALUES (:id, :p, 1, '{}', false, false, :o, :now)"),
                             {"id": cid, "p": f"c{cid}", "o": opted, "now": now})
            for iid, cid, kind, value in ((1, 1, "phone", "138 1234 5678"),
                                          (2, 2, "phone", "+86 13812345678"),
                                          (3, 1, "email", " Li@X.CN "),
                                          (4, 3, "phone", "+8613900000000"),
                                          (5, 3, "phone", "13900000000"),
                                          (6, 3, "member", "M 001")):
                conn.execute(sa.text("INSERT INTO customer_identity (id, customer_id, kind, value)"
                                     " VALUES (:i, :c, :k, :v)"),
                             {"i": iid, "c": cid, "k": kind, "v": value})
        for _ in range(2):  # a second run finds nothing left to do
            upgrade(db)
            with db.read() as conn:
                rows = conn.execute(sa.text("SELECT customer_id, kind, value FROM "
                                            "customer_identity ORDER BY id")).all()
                out = dict(conn.execute(sa.text("SELECT id, opted_out_at FROM customer")).all())
                audits = conn.execute(sa.text("SELECT entity_id, action FROM audit_log")).all()
            assert [tuple(r) for r in rows] == [
                (1, "phone", "+8613812345678"), (1, "email", "li@x.cn"),
                (3, "phone", "+8613900000000"), (3, "member", "M 001")]
            assert out[1] is not None and out[2] is not None and out[3] is None
            assert [tuple(a) for a in audits] == [("c2", "customer.contact_deduplicated")]
            command.downgrade(alembic_config(db), "0018")
    finally:
        db.dispose()
        if backend == "postgres":
            _drop_pg_database(url)


# --- erasure ---------------------------------------------------------------------------------

def _person(ctx: Context, world: World) -> str:
    """A customer with everything tiyan can hold about a person: identities, an event, an
    invitation, analysed comments, a case with a note and a callback task."""
    add_rule(ctx, world, delay_minutes=0)
    add_detractor_rule(ctx, world)
    outcome = do_receive_event(ctx, world.actor("admin@t.test"), InboundEvent(
        type="repair_order_closed", unit="n1", staff="n1-e1", id="RO-ERASE",
        customer=EventCustomer(**PERSON), data={"plate": "京A12345"}))
    admin = world.actor("admin@t.test")
    for nps, comment in zip((2, 9), COMMENTS, strict=True):
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code="n1-as", staff_code="n1-e1",
            customer_id=outcome.customer_id, submitted_at=ctx.now(),
            answers={"nps": nps, "overall": 2, "comment": comment,
                     **({"why": comment} if nps <= 6 else {})}))
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        [case] = conn.execute(sa.select(t.cx_case.c.public_id).join(
            t.customer, t.customer.c.id == t.cx_case.c.customer_id).where(
            t.customer.c.public_id == outcome.customer_id)).scalars()
    do_add_note(ctx, admin, case, NOTE)
    return outcome.customer_id


def _secrets() -> list[str]:
    return [PERSON["name"], PERSON["phone"], "+86" + PERSON["phone"], PERSON["email"].lower(),
            PERSON["external_id"], "京A12345", "欧阳", *COMMENTS, "早餐冷了", "房间很脏"]


def leftovers(ctx: Context, values: list[str]) -> tuple[list[str], int, int]:
    """Every text and JSON column of every table searched for each value: (hits, tables,
    columns searched)."""
    hits, tables, columns = [], 0, 0
    with ctx.db.read() as conn:
        for table in t.metadata.sorted_tables:
            text_columns = [c for c in table.columns if isinstance(c.type, TEXT_TYPES)]
            tables += bool(text_columns)
            for column in text_columns:
                columns += 1
                as_text = sa.cast(column, sa.Text)
                for value in values:
                    found = conn.execute(sa.select(sa.func.count()).select_from(table).where(
                        as_text.contains(value, autoescape=True))).scalar_one()
                    if found:
                        hits.append(f"{table.name}.{column.name}: {value}")
    return hits, tables, columns


def rows_of(ctx: Context, name: str) -> list[tuple[Any, ...]]:
    """The rows of an aggregate, floats rounded; rows whose count went to 0 (what taking a
    result out leaves behind) are the same as no row."""
    table = t.metadata.tables[name]
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(table).where(table.c.n != 0)).all()
    return sorted((tuple(round(v, 9) + 0.0 if isinstance(v, float) else v for v in row)
                   for row in rows), key=repr)


def kpis(ctx: Context, world: World) -> list[Any]:
    with ctx.db.read() as conn:
        return monthly_kpis(conn, world.actor("admin@t.test"), now=ctx.now(),
                            tz="Asia/Shanghai", months=2, min_n=1)


def test_erasing_a_customer_removes_them_from_every_table_and_keeps_the_scores(
        ctx: Context, world: World, client: TestClient) -> None:
    public_id = _person(ctx, world)
    with ctx.db.read() as conn:
        [case] = conn.execute(sa.select(t.cx_case.c.public_id).join(
            t.customer, t.customer.c.id == t.cx_case.c.customer_id).where(
            t.customer.c.public_id == public_id)).scalars()
    file_id = do_attach_file(ctx, world.actor("admin@t.test"), case, "通话记录.txt",
                             f"{PERSON['name']} {PERSON['phone']}".encode(), "text/plain")
    attachment = attachment_key(case, file_id)
    assert object_store(ctx).size(attachment)   # stored in the database, bytes not searched
    hits, _, _ = leftovers(ctx, _secrets())
    assert len(hits) >= 10, hits  # the person is really spread over the tables
    scores, figures = {n: rows_of(ctx, n) for n in SCORE_TABLES}, kpis(ctx, world)
    with ctx.db.read() as conn:
        text_rows = conn.execute(sa.select(sa.func.count()).select_from(t.text_agg)).scalar_one()
    assert text_rows > 0
    reply = client.delete(f"/api/v1/customers/{public_id}", headers=auth(world, "cx@t.test"))
    assert reply.status_code == 200, reply.text
    assert reply.json()["changed"] is True and reply.json()["counts"]["comments"] == 3
    hits, tables, columns = leftovers(ctx, _secrets())
    assert hits == [] and tables >= 40 and columns >= 150, (hits, tables, columns)
    assert {n: rows_of(ctx, n) for n in SCORE_TABLES} == scores and kpis(ctx, world) == figures
    incremental = {n: rows_of(ctx, n) for n in TEXT_AGGREGATES}
    rebuild_text(ctx)
    assert {n: rows_of(ctx, n) for n in TEXT_AGGREGATES} == incremental
    with ctx.db.read() as conn:
        person = conn.execute(sa.select(t.customer).where(t.customer.c.public_id == public_id)
                              ).mappings().one()
        entry = conn.execute(sa.select(t.audit_log).where(t.audit_log.c.action ==
                                                          "customer.erase")).mappings().one()
    assert person["erased_at"] == ctx.now() and person["name"] is None
    assert object_store(ctx).size(attachment) is None   # the case's file went with them
    with ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count())
                            .select_from(t.stored_object_chunk)).scalar_one() == 0
    assert entry["entity_id"] == public_id and entry["user_id"] == world.actor("cx@t.test").user_id
    again = client.delete(f"/api/v1/customers/{public_id}", headers=auth(world, "cx@t.test"))
    assert again.status_code == 200 and again.json()["changed"] is False
    assert "already erased" in again.json()["message"]


def test_only_a_role_that_may_erase_in_the_customers_unit_can_erase(
        ctx: Context, world: World, client: TestClient) -> None:
    n1 = world.customer_ids["n1"]
    outside = client.delete(f"/api/v1/customers/{n1}", headers=auth(world, "mgr.s1@t.test"))
    assert outside.status_code == 404 and "客户n1" not in outside.text
    no_right = client.delete(f"/api/v1/customers/{n1}", headers=auth(world, "mgr.n1@t.test"))
    assert no_right.status_code == 403
    missing = client.delete("/api/v1/customers/nope", headers=auth(world, "admin@t.test"))
    assert missing.status_code == 404
    with ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.customer).where(
            t.customer.c.erased_at.is_not(None))).scalar_one() == 0


def test_the_cli_erases_and_a_second_run_says_it_was_done(ctx: Context, world: World) -> None:
    from tiyan.cli import app

    public_id = world.customer_ids["s1"]
    run = CliRunner().invoke(app, ["customers", "erase", public_id, "--db", ctx.settings.db_url])
    assert run.exit_code == 0 and f"customer {public_id} erased" in run.output, run.output
    again = CliRunner().invoke(app, ["customers", "erase", public_id, "--db",
                                     ctx.settings.db_url])
    assert again.exit_code == 0 and "already erased" in again.output
    unknown = CliRunner().invoke(app, ["customers", "erase", "nobody", "--db",
                                       ctx.settings.db_url])
    assert unknown.exit_code == 1 and "does not exist" in unknown.output
    assert leftovers(ctx, ["客户s1"])[0] == []


def test_an_erased_customer_is_never_invited_again(ctx: Context, world: World) -> None:
    add_rule(ctx, world, delay_minutes=60)
    [made] = closed(world)
    public_id = made_customer(ctx)
    do_erase_customer(ctx, world.actor("admin@t.test"), public_id)
    event = InboundEvent(type="repair_order_closed", unit="n1", id="after",
                         customer=EventCustomer(id=public_id))
    [again] = do_receive_event(ctx, world.actor("admin@t.test"), event).invitations
    assert (again["status"], again["reason"]) == ("suppressed", "opted_out")
    ctx.clock.advance(hours=2)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        invitation = conn.execute(sa.select(t.invitation.c.status, t.invitation.c.contact)
                                  .where(t.invitation.c.public_id == made["id"])).one()
    assert tuple(invitation) == ("suppressed", None)


def made_customer(ctx: Context) -> str:
    with ctx.db.read() as conn:
        return str(conn.execute(sa.select(t.customer.c.public_id).where(
            t.customer.c.name == "李雷")).scalar_one())


# --- retention -------------------------------------------------------------------------------

# Jobs, deliveries and sessions have periods by default; these tests name every period they use.
KEEP_OPERATIONAL_ROWS = {"TIYAN_RETENTION_JOB_DAYS": "0", "TIYAN_RETENTION_FAILED_JOB_DAYS": "0",
                         "TIYAN_RETENTION_SESSION_DAYS": "0"}


@pytest.fixture
def keep_30_days(ctx: Context) -> Context:
    ctx.settings = ctx.settings.model_copy(update={
        "retention_comment_days": 30, "retention_response_personal_days": 30,
        "retention_invitation_days": 30, "retention_job_days": 30,
        "retention_session_days": 30, "retention_audit_days": 400})
    return ctx


def test_retention_removes_old_comments_through_the_erasure_path(
        keep_30_days: Context, world: World) -> None:
    from tiyan.services.retention import RETENTION_JOB, apply_retention

    ctx = keep_30_days
    jobs.run_until_idle(ctx)  # the world's responses folded and their comments analysed
    hits, _, _ = leftovers(ctx, ["comment-0-n1-as"])
    scores = {n: rows_of(ctx, n) for n in SCORE_TABLES}
    dry = apply_retention(ctx, dry_run=True)
    assert dry.counts["comments"] == 0  # the world's responses are hours old
    ctx.clock.advance(days=31)  # type: ignore[attr-defined]
    due = apply_retention(ctx, dry_run=True)
    assert due.counts["comments"] == len(world.response_ids) and leftovers(
        ctx, ["comment-0-n1-as"])[0] == hits
    jobs.schedule_periodic(ctx)
    jobs.run_until_idle(ctx)
    assert leftovers(ctx, [f"comment-{i}-" for i in range(7)])[0] == []
    assert {n: rows_of(ctx, n) for n in SCORE_TABLES} == scores
    incremental = {n: rows_of(ctx, n) for n in TEXT_AGGREGATES}
    rebuild_text(ctx)
    assert {n: rows_of(ctx, n) for n in TEXT_AGGREGATES} == incremental
    assert apply_retention(ctx).counts["comments"] == 0  # nothing left the next day
    with ctx.db.read() as conn:
        queued = conn.execute(sa.select(t.job.c.run_at).where(
            t.job.c.kind == RETENTION_JOB, t.job.c.status == "queued")).scalar_one()
        entries = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action == "retention.apply")).scalar_one()
    assert queued == ctx.now() + dt.timedelta(days=1) and entries == 2


def test_retention_cli_reports_counts_and_a_dry_run_changes_nothing(
        keep_30_days: Context, world: World) -> None:
    from tiyan.cli import app

    ctx = keep_30_days
    ctx.clock.advance(days=31)  # type: ignore[attr-defined]
    env = {"TIYAN_RETENTION_COMMENT_DAYS": "30", "TIYAN_RETENTION_AUDIT_DAYS": "30",
           **KEEP_OPERATIONAL_ROWS}
    dry = CliRunner().invoke(app, ["retention", "apply", "--dry-run", "--db",
                                   ctx.settings.db_url], env=env)
    assert dry.exit_code == 0, dry.output
    assert [line.split(":")[0] for line in dry.output.splitlines()] == ["comments", "audit"]
    assert all(line.endswith(" due") for line in dry.output.splitlines())
    assert leftovers(ctx, ["comment-0-n1-as"])[0] != []  # nothing changed
    none = CliRunner().invoke(app, ["retention", "apply", "--db", ctx.settings.db_url],
                              env={"TIYAN_RETENTION_COMMENT_DAYS": "0",
                                   **KEEP_OPERATIONAL_ROWS})
    assert none.exit_code == 0 and "no retention period is set" in none.output
