"""The desk of the people who act on feedback (issue 16): a case page that shows the complaint
in words and the customer masked per role with an audited reveal, the callbacks worklist with
paging and filters, and finding a customer by name, phone in any format, e-mail or external id,
all within the caller's units; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.integration.test_case_pages import csrf
from tests.integration.test_closed_loop import add_detractor_rule
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.domain.access import Permission
from tiyan.errors import Forbidden
from tiyan.services import case_desk, jobs
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import cases as case_store
from tiyan.store import customers
from tiyan.store import tables as t
from tiyan.web.ui import case_pages


def add_customer(ctx: Context, world: World, unit: str, name: str, phone: str, email: str,
                 external_id: str) -> str:
    with ctx.db.write() as conn:
        cid = customers.insert_customer(
            conn, unit_id=world.unit_ids[unit], now=ctx.now(), name=name,
            external_id=external_id, segment="at_risk",
            identities={"phone": phone, "email": email})
        return str(conn.execute(sa.select(t.customer.c.public_id)
                                .where(t.customer.c.id == cid)).scalar_one())


def complain(ctx: Context, world: World, unit: str, staff: str, customer: str,
             comment: str, nps: int = 2) -> str:
    stored = do_submit_response(ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code=unit, staff_code=staff, customer_id=customer,
        answers={"nps": nps, "overall": 1, "comment": comment}, submitted_at=ctx.now()))
    return stored.public_id


def case_of(ctx: Context, response: str) -> str:
    with ctx.db.read() as conn:
        return str(conn.execute(
            sa.select(t.cx_case.c.public_id).join(t.response,
                                                  t.response.c.id == t.cx_case.c.response_id)
            .where(t.response.c.public_id == response)).scalar_one())


def reveals(ctx: Context) -> list[tuple[str, str]]:
    with ctx.db.read() as conn:
        return [(r.entity, r.entity_id) for r in conn.execute(
            sa.select(t.audit_log.c.entity, t.audit_log.c.entity_id)
            .where(t.audit_log.c.action == "reveal_phone").order_by(t.audit_log.c.id))]


@pytest.fixture
def desk(ctx: Context, world: World) -> dict[str, str]:
    ctx.settings = ctx.settings.model_copy(update={"smtp_port": 1})
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)  # the world's own detractors: cases without customers
    lin = add_customer(ctx, world, "s1", "林小姐", "13912345678", "Lin@Example.com", "M-0001")
    wang = add_customer(ctx, world, "n2", "王先生", "13700001111", "wang@example.com",
                        "M-0002")
    response = complain(ctx, world, "s1", "s1-e1", lin, "等了两个小时，服务顾问态度很差")
    other = complain(ctx, world, "n2", "n2-e1", wang, "价格太贵")
    jobs.run_until_idle(ctx)
    return {"lin": lin, "wang": wang, "case": case_of(ctx, response),
            "other_case": case_of(ctx, other), "response": response}


def test_the_case_page_shows_the_complaint_and_the_customer_in_words(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get(f"/cases/{desk['case']}?lang=en").text
    complaint = page.split('id="complaint"')[1].split("</section>")[0]
    assert "Recommend" in complaint and "2 / 10" in complaint  # question text and scale
    assert "Satisfied" in complaint and "1 / 5" in complaint
    assert "nps" not in complaint.replace("/responses/", "")  # no item codes
    assert "等了两个小时" in complaint and "赵四" in complaint  # comment and staff
    customer = page.split('id="customer"')[1].split("</section>")[0]
    assert "林小姐" in customer and f"/customers/{desk['lin']}" in customer
    assert "139****5678" in customer and "13912345678" not in page
    assert "l***@example.com" in customer
    assert "At risk" in customer or "at risk" in customer.lower()  # segment in words
    assert "Acknowledge" in page.split('id="next-step"')[1].split("</section>")[0]
    assert "met" not in page.split('id="sla-zone"')[1].split("</table>")[0]  # a new case
    assert "Asia/Shanghai" in page.split('id="sla-zone"')[1][:200]  # the zone named
    shown = client.post(f"/cases/{desk['case']}/contact?lang=en",
                        data={"csrf_token": csrf(page)})
    assert shown.status_code == 200 and 'href="tel:+8613912345678"' in shown.text
    assert "lin@example.com" in shown.text
    assert reveals(ctx) == [("case", desk["case"])]
    zh = client.get(f"/cases/{desk['case']}?lang=zh-CN").text
    assert "推荐" in zh and "哪里不好" not in zh and "确认受理" in zh


def test_outside_the_unit_a_case_cannot_be_opened_or_its_customer_revealed(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    assert client.get(f"/cases/{desk['case']}").status_code == 404
    page = client.get("/cases").text
    assert client.post(f"/cases/{desk['case']}/contact",
                       data={"csrf_token": csrf(page)}).status_code == 404
    assert reveals(ctx) == []


def test_a_role_without_view_pii_sees_the_customer_masked_and_cannot_reveal(
        ctx: Context, world: World, desk: dict[str, str]) -> None:
    manager = world.actor("mgr.s1@t.test")
    narrowed = dataclasses.replace(manager, scope=dataclasses.replace(
        manager.scope, ceiling=frozenset(Permission) - {Permission.VIEW_PII}, _cache={}))
    with ctx.db.read() as conn:
        case = case_store.get_case(conn, narrowed, desk["case"])
        card = case_desk.customer_card(conn, narrowed, case, "zh-CN")
        full = case_desk.customer_card(conn, manager, case, "zh-CN")
    assert card is not None and full is not None
    assert card["name"] == "林**" and full["name"] == "林小姐"
    assert card["phone_masked"] == "139****5678" and not card["can_reveal"]
    with pytest.raises(Forbidden):
        case_desk.do_reveal_contact(ctx, narrowed, customer_id=case.customer_id,
                                    unit_id=case.unit_id, entity="case",
                                    entity_id=case.public_id, ip=None)
    assert reveals(ctx) == []


def test_logging_a_reached_callback_from_the_case_page_moves_a_new_case_on(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "agent@t.test", PASSWORD)
    page = client.get(f"/cases/{desk['case']}?lang=en").text
    task = page.split('action="/callbacks/')[1].split("/calls")[0]
    done = client.post(f"/callbacks/{task}/calls?lang=en", data={
        "csrf_token": csrf(page), "case": desk["case"], "outcome": "reached",
        "recovered": "yes", "satisfaction": "8", "note": "道歉并预约免费保养"})
    assert done.status_code == 200 and done.url.path == f"/cases/{desk['case']}"
    history = done.text.split('id="case-history"')[1]
    assert "Callback" in history and "In progress" in history
    assert "recovered · satisfaction 8/10" in history  # the satisfaction asked again
    status = done.text.split('class="status status-')[1].split("<")[0]
    assert status.startswith("in_progress")  # never "New" with the acknowledge timer met


def test_the_callbacks_worklist_pages_filters_and_says_whom_to_call_and_why(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_pages, "CALLBACKS_PAGE", 2)
    sign_in(client, "agent@t.test", PASSWORD)
    first = client.get("/callbacks?lang=en").text
    assert "5 callbacks · page 1 of 3" in first  # 3 world detractors + 2 complaints
    assert first.count('<td data-label="Customer">') == 2 and 'rel="next"' in first
    last = client.get("/callbacks?lang=en&page=3").text
    assert last.count('<td data-label="Customer">') == 1 and 'rel="prev"' in last
    south = client.get("/callbacks?lang=en&unit=south").text
    assert "林小姐" in south and "139****5678" in south and "13912345678" not in south
    assert "等了两个小时，服务顾问态度很差" in south and "Unit s1" in south
    assert '">2</span>' in south and "Asia/Shanghai" in south
    assert "case · case" not in south and "王先生" not in south
    assert "No callbacks to make" in client.get(
        "/callbacks?lang=en&overdue=true").text
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]  # callbacks are due in 3 days
    sign_in(client, "agent@t.test", PASSWORD)
    overdue = client.get("/callbacks?lang=en&overdue=true").text
    assert "5 callbacks" in overdue
    task = re.findall(r'action="/callbacks/(\w+)/contact', south)[0]
    shown = client.post(f"/callbacks/{task}/contact?unit=south&lang=en",
                        data={"csrf_token": csrf(overdue)})
    assert 'href="tel:+8613912345678"' in shown.text
    assert reveals(ctx) == [("callback_task", task)]
    missing = client.get("/callbacks?unit=nowhere")
    assert missing.status_code == 404 and "nowhere" in missing.text


def test_a_manager_sees_only_callbacks_of_their_units(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    page = client.get("/callbacks?lang=en").text
    assert "林小姐" not in page and "王先生" not in page
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    page = client.get("/callbacks?lang=en").text
    assert "林小姐" in page and "王先生" not in page
    task = re.findall(r'action="/callbacks/(\w+)/contact', page)[0]
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    other = client.get("/callbacks").text
    assert client.post(f"/callbacks/{task}/contact",
                       data={"csrf_token": csrf(other)}).status_code == 404


@pytest.mark.parametrize("typed", ["13912345678", "139 1234 5678", "+86 139-1234-5678",
                                   "008613912345678", "LIN@example.com ", "M-0001", "林"])
def test_a_store_finds_the_customer_on_the_phone_however_it_is_written(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str],
        typed: str) -> None:
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    found = client.get("/customers", params={"q": typed, "lang": "en"}).text
    assert f"/customers/{desk['lin']}" in found and "王先生" not in found


def test_search_is_scoped_and_masked_for_roles_without_view_pii(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "mgr.n1@t.test", PASSWORD)  # n1: neither Lin (s1) nor Wang (n2)
    for typed in ("13912345678", "M-0001", "林", "M-0002"):
        page = client.get("/customers", params={"q": typed, "lang": "en"}).text
        assert "No customer in your units matches" in page
    sign_in(client, "analyst.south@t.test", PASSWORD)  # south, without view_pii
    by_phone = client.get("/customers", params={"q": "13912345678", "lang": "en"}).text
    assert desk["lin"] not in by_phone and "only customer numbers were searched" in by_phone
    by_id = client.get("/customers", params={"q": "M-0001", "lang": "en"}).text
    assert f"/customers/{desk['lin']}" in by_id and "林**" in by_id and "林小姐" not in by_id
    headers = {"Authorization": f"Bearer {world.tokens['analyst.south@t.test']}"}
    api = client.get("/api/v1/customers", params={"q": "M-0001"}, headers=headers).json()
    assert [c["id"] for c in api["items"]] == [desk["lin"]] and api["items"][0]["name"] == "林**"
    assert client.get("/api/v1/customers", params={"q": "林"},
                      headers=headers).json()["items"] == []


def test_the_api_search_pages_through_many_matches(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    with ctx.db.write() as conn:
        for i in range(5):
            customers.insert_customer(conn, unit_id=world.unit_ids["s1"], now=ctx.now(),
                                      name=f"林{i}号", identities={"phone": f"1360000000{i}"})
    headers = {"Authorization": f"Bearer {world.tokens['mgr.s1@t.test']}"}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "林", "limit": "2", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/customers", params=params, headers=headers).json()
        seen += [c["name"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(["林小姐", *(f"林{i}号" for i in range(5))])
    phone = client.get("/api/v1/customers", params={"q": "136 0000 0003"},
                       headers=headers).json()
    assert [c["name"] for c in phone["items"]] == ["林3号"]


def test_refusals_on_the_desk_pages_are_said_in_chinese_without_codes(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    from tests.integration.page_text import read
    from tests.integration.test_page_language import check

    def alert(html: str) -> str:
        return html.split('role="alert">')[1].split("</p>")[0]

    sign_in(client, "mgr.n1@t.test", PASSWORD)
    outside = client.get(f"/cases/{desk['case']}?lang=zh-CN")  # a colleague's link
    assert outside.status_code == 404 and "(case)" not in outside.text
    sign_in(client, "agent@t.test", PASSWORD)
    export = client.get("/responses.xlsx?lang=zh-CN")  # an export link, shared
    assert export.status_code == 403 and "您在这里没有“导出数据”权限" in alert(export.text)
    page = client.get(f"/cases/{desk['case']}?lang=zh-CN").text
    task = page.split('action="/callbacks/')[1].split("/calls")[0]
    refused = client.post(f"/callbacks/{task}/calls?lang=zh-CN", data={
        "csrf_token": csrf(page), "case": desk["case"], "outcome": "reached",
        "recovered": "yes", "satisfaction": "11"})
    assert alert(refused.text) == "满意度是 0 到 10 的分数"  # no "(satisfaction)" after it
    for html in (outside.text, export.text, refused.text):
        # the test world's users are named after their e-mail ('agent' in the header)
        assert check(html, "zh-CN", frozenset({"agent", "mgr.n1"})) == [], read(html).text
        said = re.sub(r"\b[0-9a-f]{32}\b", "", alert(html))  # a case's id is its id
        assert not re.search(r"[A-Za-z]{3,}", said), said


def test_a_response_that_opened_a_case_links_to_it_for_those_who_work_cases(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    sign_in(client, "agent@t.test", PASSWORD)
    page = client.get(f"/responses/{desk['response']}?lang=zh-CN").text
    case = page.split('id="response-case">')[1].split("</dd>")[0]
    assert f'href="/cases/{desk["case"]}"' in case and "新建" in case
    sign_in(client, "analyst.south@t.test", PASSWORD)  # reads responses, works no cases
    page = client.get(f"/responses/{desk['response']}?lang=zh-CN")
    assert page.status_code == 200 and 'id="response-case"' not in page.text


def test_the_worklist_quotes_the_comment_not_a_date_answer_that_comes_first() -> None:
    def answer(key: str, item: str | None, text: str | None, num: float | None = None,
               picked: list[str] | None = None) -> dict[str, object]:
        return {"question_key": key, "item_code": item, "value_text": text,
                "value_num": num, "value_json": picked}

    answers = [answer("a_visit_day", "visit_day", "2026-12-01"),
               answer("b_reason", "reason", "price", picked=["price"]),
               answer("c_nps", "nps", None, 3.0), answer("d_more", None, "等了两个小时")]
    assert case_desk._comment_of(answers, set()) == "等了两个小时"
    assert case_desk._comment_of(answers, {"a_visit_day"}) == "2026-12-01"  # analysed: as is
    assert case_desk._comment_of([*answers, answer("z_comment", "comment", "太贵")],
                                 set()) == "太贵"
    assert case_desk._comment_of(answers[:3], set()) is None


def test_the_case_pages_delivery_log_says_why_a_delivery_failed_in_the_readers_words(
        ctx: Context, world: World, client: TestClient, desk: dict[str, str]) -> None:
    with ctx.db.read() as conn:  # the fixture's mail server refuses connections (port 1)
        stored = conn.execute(sa.select(t.notification.c.last_error).join(
            t.cx_case, t.cx_case.c.id == t.notification.c.case_id).where(
            t.cx_case.c.public_id == desk["case"], t.notification.c.channel == "email")
        ).scalars().all()
    assert stored and all(e and e.startswith("ConnectionRefusedError") for e in stored)
    sign_in(client, "mgr.s1@t.test", PASSWORD)
    zh = client.get(f"/cases/{desk['case']}?lang=zh-CN").text
    log = zh.split('id="deliveries"')[1].split("</section>")[0]
    assert "对方拒绝连接" in log and "Error" not in log and "Errno" not in log
    en = client.get(f"/cases/{desk['case']}?lang=en").text
    assert "refused the connection" in en.split('id="deliveries"')[1].split("</section>")[0]
