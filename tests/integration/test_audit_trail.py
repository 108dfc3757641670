"""The audit of reads of personal data and of every export, on SQLite and PostgreSQL: each
download route and each way of opening a customer writes exactly one entry naming who, what,
which filters and how many rows, and no entry holds a name, phone number, e-mail or comment."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.integration.closed_loop_fixtures import Mailbox, smtp
from tests.integration.conftest import app_for, sign_in
from tests.integration.test_closed_loop import add_detractor_rule, cases_by_unit, use_smtp
from tests.integration.test_invitations_api import auth
from tests.world import PASSWORD, RESPONSES, World, comment_for
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.services import voc_reports as reports
from tiyan.services.cases import do_attach_file
from tiyan.services.events import EventCustomer, InboundEvent, do_receive_event
from tiyan.store import tables as t

__all__ = ["smtp"]  # fixture used below

PERSON = {"name": "司马相如", "phone": "13987654321", "email": "Xiangru.Sima@Example.test",
          "external_id": "VIP-9090"}
DAY = "2026-11-20"  # the fixture clock's day
# Every route that hands out a file, with a request for it: (path, API user or page user, kind)
DOWNLOADS: list[tuple[str, str, str]] = [
    ("/api/v1/exports/responses.csv", "api", "responses"),
    ("/api/v1/responses/export.parquet?unit=north&segment=vip", "api", "responses"),
    ("/responses.csv?unit=north&score=detractor", "page", "responses"),
    ("/responses.xlsx?q=comment", "page", "responses"),
    ("/responses-answers.csv?staff=n2-e1", "page", "responses"),
    ("/responses.parquet?sentiment=negative", "page", "responses"),
    ("/dashboard/overview/export.csv?unit=north", "page", "dashboard"),
    ("/dashboard/units/export.xlsx", "page", "dashboard"),
    ("/dashboard/journey/export.csv", "page", "dashboard"),
    ("/dashboard/drivers/export.csv", "page", "dashboard"),
    ("/dashboard/staff/export.xlsx?kpi=nps", "page", "dashboard"),
    ("/dashboard/competitors/export.csv", "page", "dashboard"),
    ("/dashboard/text/export.xlsx", "page", "dashboard"),
    ("/dashboard/behaviour/export.csv", "page", "dashboard"),
    ("/dashboard/behaviour/cohorts/export.xlsx", "page", "dashboard"),
    (f"/voc.xlsx?start={DAY}&end={DAY}&unit=north", "page", "voc"),
    (f"/voc.pdf?start={DAY}&end={DAY}", "page", "voc"),
    (f"/api/v1/voc.xlsx?start={DAY}&end={DAY}&locale=en", "api", "voc"),
    (f"/api/v1/voc.pdf?start={DAY}&end={DAY}", "api", "voc"),
    ("/cases/{case}/attachments/{file}", "page", "case_attachment"),
]
FILE_ROUTE = re.compile(r"export|\.(csv|xlsx|pdf|parquet)$|/attachments/\{")
NOT_DATA = {"/surveys/{code}/links/qr.{kind}",  # a QR code of an anonymous survey link
            "/api/v1/surveys/{code}/links/qr.{kind}"}


def entries(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.id)).mappings()
        return [dict(r) for r in rows]


def personal_values(ctx: Context) -> list[str]:
    """Every name, contact and comment the world holds, as stored."""
    with ctx.db.read() as conn:
        names = conn.execute(sa.select(t.customer.c.name)).scalars().all()
        contacts = conn.execute(sa.select(t.customer_identity.c.value)).scalars().all()
    comments = [comment_for(i) for i in range(len(RESPONSES))]
    return [v for v in [*names, *contacts, *comments, *PERSON.values(), PERSON["phone"][-8:]]
            if v]


def assert_no_personal_data(ctx: Context, rows: list[dict[str, Any]]) -> None:
    values = personal_values(ctx)
    assert len(values) >= 10
    for row in rows:
        text = repr(row).lower()
        assert not [v for v in values if v.lower() in text], row


def with_person(ctx: Context, world: World) -> str:
    """A customer of n1 with a name, a phone number, an e-mail address and an external id."""
    outcome = do_receive_event(ctx, world.actor("admin@t.test"), InboundEvent(
        type="purchase", unit="n1", id="E-AUDIT", customer=EventCustomer(**PERSON)))
    return outcome.customer_id


def with_attachment(ctx: Context, world: World, tmp_path: Path) -> tuple[str, str]:
    ctx.settings = ctx.settings.model_copy(update={"smtp_port": 1, "data_dir": str(tmp_path),
                                                   "files_dir": None})
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    case = cases_by_unit(ctx, world)["n1-as"].public_id
    file_id = do_attach_file(ctx, world.actor("admin@t.test"), case, f"{PERSON['name']}.txt",
                             PERSON["phone"].encode(), "text/plain")
    return case, file_id


@pytest.fixture
def cx_page(ctx: Context) -> TestClient:
    client = TestClient(app_for(ctx), base_url="http://testserver")
    sign_in(client, "cx@t.test", PASSWORD)
    return client


def test_every_route_that_hands_out_a_file_is_audited_here(ctx: Context) -> None:
    routes = {c.route.path_format for c in iter_route_contexts(app_for(ctx).routes)
              if isinstance(c.route, APIRoute) and "GET" in c.route.methods
              and FILE_ROUTE.search(c.route.path_format)}
    covered = {re.sub(r"\?.*", "", path) for path, _, _ in DOWNLOADS}
    patterns = [re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(r)) + "$")
                for r in routes - NOT_DATA]
    unaudited = [p.pattern for p in patterns if not any(p.match(c) for c in covered)]
    assert len(routes) >= 12 and unaudited == []


@pytest.mark.parametrize(("path", "via", "kind"), DOWNLOADS)
def test_every_export_writes_exactly_one_entry_without_personal_data(
        ctx: Context, world: World, client: TestClient, cx_page: TestClient, tmp_path: Path,
        path: str, via: str, kind: str) -> None:
    with_person(ctx, world)
    if kind == "case_attachment":
        case, file_id = with_attachment(ctx, world, tmp_path)
        path = path.format(case=case, file=file_id)
    before = len(entries(ctx))
    if via == "api":
        reply = client.get(path, headers=auth(world, "cx@t.test"))
    else:
        reply = cx_page.get(path)
    assert reply.status_code == 200, reply.text.split("<main")[-1][:800]
    assert len(reply.content) > 0
    new = entries(ctx)[before:]
    assert [(e["action"], e["entity"]) for e in new] == [("export", kind)]
    [entry] = new
    assert entry["user_id"] == world.actor("cx@t.test").user_id
    assert entry["detail"]["via"] == via and entry["ip"] == "testclient"
    fmt = "file" if kind == "case_attachment" else path.split("?")[0].rsplit(".", 1)[-1]
    assert entry["detail"]["format"] == fmt
    assert_no_personal_data(ctx, new)


def test_an_export_records_its_filters_and_rows_and_nothing_a_query_string_smuggles_in(
        ctx: Context, world: World, client: TestClient, cx_page: TestClient) -> None:
    with_person(ctx, world)
    reply = cx_page.get("/dashboard/units/export.csv", params={
        "unit": "north", "attr": f"phone:{PERSON['phone']}", PERSON["email"]: "1",
        "note": PERSON["name"]})
    assert reply.status_code == 200
    rows = len(reply.text.strip().splitlines()) - 1
    csv_entry = entries(ctx)[-1]
    assert csv_entry["entity_id"] == "units" and csv_entry["detail"]["rows"] == rows
    assert csv_entry["detail"]["filters"] == {"attr": "phone:…", "unit": "north"}
    parquet = client.get("/api/v1/responses/export.parquet", params={"unit": "n1"},
                         headers=auth(world, "cx@t.test"))
    assert parquet.status_code == 200
    entry = entries(ctx)[-1]
    n1 = sum(1 for unit, *_ in RESPONSES if unit.startswith("n1"))
    assert entry["detail"]["rows"] == n1 and entry["detail"]["filters"] == {"unit": "n1"}
    everything = client.get("/api/v1/exports/responses.csv", headers=auth(world, "mgr.s1@t.test"))
    assert everything.status_code == 200
    assert entries(ctx)[-1]["detail"]["rows"] == sum(1 for r in RESPONSES if r[0] == "s1")
    assert_no_personal_data(ctx, entries(ctx))


def test_a_refused_export_writes_no_entry(ctx: Context, world: World, client: TestClient,
                                          cx_page: TestClient) -> None:
    before = len(entries(ctx))
    assert client.get("/api/v1/exports/responses.csv",
                      headers=auth(world, "viewer@t.test")).status_code == 403
    assert cx_page.get("/dashboard/units/export.csv?unit=s1").status_code == 404
    assert cx_page.get("/dashboard/units/export.pdf").status_code == 422
    assert len(entries(ctx)) == before


@pytest.mark.parametrize("path", ["/customers/{id}", "/api/v1/customers/{id}",
                                  "/api/v1/customers/{id}/360"])
def test_opening_a_customer_writes_one_entry_without_personal_data(
        ctx: Context, world: World, client: TestClient, cx_page: TestClient, path: str) -> None:
    public_id = with_person(ctx, world)
    before = len(entries(ctx))
    api = path.startswith("/api/")
    url = path.format(id=public_id)
    reply = client.get(url, headers=auth(world, "cx@t.test")) if api else cx_page.get(url)
    assert reply.status_code == 200 and PERSON["name"] in reply.text  # the read was real
    new = entries(ctx)[before:]
    assert [(e["action"], e["entity_id"]) for e in new] == [("customer.view", public_id)]
    assert new[0]["unit_id"] == world.unit_ids["n1"]
    assert new[0]["detail"] == {"via": "api" if api else "page", "masked": False}
    assert_no_personal_data(ctx, new)


def test_a_masked_read_says_so_and_a_customer_out_of_reach_writes_nothing(
        ctx: Context, world: World, client: TestClient) -> None:
    public_id = with_person(ctx, world)
    before = len(entries(ctx))
    outside = client.get(f"/api/v1/customers/{public_id}/360",
                         headers=auth(world, "mgr.s1@t.test"))
    assert outside.status_code == 404 and len(entries(ctx)) == before
    south = client.get(f"/api/v1/customers/{world.customer_ids['s1']}",
                       headers=auth(world, "analyst.south@t.test"))
    assert south.status_code == 200 and "客户s1" not in south.text
    assert entries(ctx)[-1]["detail"] == {"via": "api", "masked": True}


def test_the_audit_page_shows_reads_and_exports_in_words(
        ctx: Context, world: World, client: TestClient, cx_page: TestClient) -> None:
    public_id = with_person(ctx, world)
    cx_page.get(f"/customers/{public_id}")
    cx_page.get("/dashboard/units/export.csv?unit=north&from=2026-11-01")
    client.get("/api/v1/responses/export.parquet?segment=vip", headers=auth(world, "cx@t.test"))
    admin = TestClient(app_for(ctx), base_url="http://testserver")
    sign_in(admin, "admin@t.test", PASSWORD)
    en = admin.get("/admin/audit?lang=en").text
    for words in ("Opened a customer", f"customer {public_id}", "Exported",
                  "Dashboard table: units league · CSV", "unit Unit north", "from 2026-11-01",
                  "Responses · one row per answer · PARQUET · 0 rows · segment vip · API",
                  "web page"):
        assert words in en, words
    zh = admin.get("/admin/audit?lang=zh-CN").text
    for words in ("查看客户", "导出", "仪表板表格: 单位排行", "答卷明细 · 每个答案一行", "网页"):
        assert words in zh, words
    for code in ("customer.view", ">export<", "dashboard.units"):
        assert code not in en and code not in zh
    assert PERSON["name"] not in en and PERSON["phone"] not in en


def test_an_erased_customers_reads_stay_in_the_audit_without_them(
        ctx: Context, world: World, client: TestClient) -> None:
    public_id = with_person(ctx, world)
    client.get(f"/api/v1/customers/{public_id}/360", headers=auth(world, "cx@t.test"))
    assert client.delete(f"/api/v1/customers/{public_id}",
                         headers=auth(world, "cx@t.test")).status_code == 200
    after = client.get(f"/api/v1/customers/{public_id}", headers=auth(world, "cx@t.test"))
    assert after.json()["erased_at"] is not None and after.json()["name"] == ""
    actions = [e["action"] for e in entries(ctx) if e["entity_id"] == public_id]
    assert actions == ["customer.view", "customer.erase", "customer.view"]
    assert_no_personal_data(ctx, entries(ctx))
    assert dt.datetime.fromisoformat(after.json()["erased_at"]) == ctx.now()


def test_the_monthly_voc_mail_is_an_audited_export(ctx: Context, world: World,
                                                   smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    reports.do_subscribe(ctx, world.actor("cx@t.test"), unit_code="north", locale="en")
    reports.send_monthly(ctx, "2026-10")
    reports.send_monthly(ctx, "2026-10")  # a retry sends and records nothing twice
    assert len(smtp.messages) == 1
    mailed = [e for e in entries(ctx) if e["action"] == "export"]
    assert [(e["entity"], e["user_id"], e["detail"]["via"], e["detail"]["filters"])
            for e in mailed] == [("voc", world.actor("cx@t.test").user_id, "mail",
                                  {"kpi": "nps", "start": "2026-10", "unit": "north"})]
