"""Erasing a customer from the customer 360 page, on SQLite and PostgreSQL: offered only to a role
that may erase, after a confirmation that names the customer and what goes; CSRF is checked by
the page actor; afterwards the page shows the erased state and no personal data."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import app_for, sign_in
from tests.integration.test_audit_trail import PERSON, with_person
from tests.integration.test_case_pages import csrf
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.store import tables as t


def signed_in(ctx: Context, email: str) -> TestClient:
    client = TestClient(app_for(ctx), base_url="http://testserver")
    sign_in(client, email, PASSWORD)
    return client


def erased_at(ctx: Context, public_id: str) -> object:
    with ctx.db.read() as conn:
        return conn.execute(sa.select(t.customer.c.erased_at).where(
            t.customer.c.public_id == public_id)).scalar_one()


def test_a_cx_manager_erases_a_customer_through_the_page_after_confirming(
        ctx: Context, world: World) -> None:
    public_id = with_person(ctx, world)
    cx = signed_in(ctx, "cx@t.test")
    page = cx.get(f"/customers/{public_id}").text
    assert f'href="/customers/{public_id}/erase"' in page and PERSON["name"] in page
    confirm = cx.get(f"/customers/{public_id}/erase")
    assert confirm.status_code == 200
    section = confirm.text.split('data-testid="confirm-erase">')[1].split("</section>")[0]
    assert f"删除 {PERSON['name']} 的个人信息？" in section and "评分会保留" in section
    assert "无法撤销" in section and f'action="/customers/{public_id}/erase"' in section
    english = cx.get(f"/customers/{public_id}/erase?lang=en").text
    assert f"Erase {PERSON['name']}?" in english and "scores of their 0 responses stay" in english
    forged = cx.post(f"/customers/{public_id}/erase", data={"confirm": "yes"})
    assert forged.status_code == 403 and erased_at(ctx, public_id) is None
    unconfirmed = cx.post(f"/customers/{public_id}/erase", data={"csrf_token": csrf(page)},
                          follow_redirects=False)
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/customers/{public_id}/erase"
    assert erased_at(ctx, public_id) is None
    done = cx.post(f"/customers/{public_id}/erase",
                   data={"csrf_token": csrf(page), "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/customers/{public_id}?erased=1"
    assert erased_at(ctx, public_id) == ctx.now()
    after = cx.get(done.headers["location"] + "&lang=zh-CN")
    assert after.status_code == 200 and 'data-testid="erased"' in after.text
    # 2026-11-20 10:00 UTC is 18:00 in Shanghai, the unit's time zone
    assert "个人信息已于 2026年11月20日 18:00（Asia/Shanghai）删除" in after.text
    assert "该客户的个人信息已删除" in after.text and "/erase" not in after.text
    for value in PERSON.values():
        assert value not in after.text and value.lower() not in after.text
    with ctx.db.read() as conn:
        entry = conn.execute(sa.select(t.audit_log).where(
            t.audit_log.c.action == "customer.erase")).mappings().one()
    assert entry["entity_id"] == public_id and entry["detail"]["source"] == "page"
    assert entry["user_id"] == world.actor("cx@t.test").user_id


def test_a_unit_manager_sees_no_erase_button_and_is_refused(
        ctx: Context, world: World) -> None:
    public_id = with_person(ctx, world)
    manager = signed_in(ctx, "mgr.n1@t.test")
    page = manager.get(f"/customers/{public_id}")
    assert page.status_code == 200 and PERSON["name"] in page.text
    assert "/erase" not in page.text and 'data-testid="erase"' not in page.text
    assert manager.get(f"/customers/{public_id}/erase").status_code == 403
    refused = manager.post(f"/customers/{public_id}/erase",
                           data={"csrf_token": csrf(page.text), "confirm": "yes"})
    assert refused.status_code == 403 and PERSON["phone"] not in refused.text
    assert erased_at(ctx, public_id) is None


def test_another_units_customer_is_not_found_on_the_erase_page(
        ctx: Context, world: World) -> None:
    south = world.customer_ids["s1"]
    cx = signed_in(ctx, "cx@t.test")  # CX manager of the north region
    token = csrf(cx.get("/").text)
    assert cx.get(f"/customers/{south}").status_code == 404
    missing = cx.get(f"/customers/{south}/erase")
    assert missing.status_code == 404 and "客户s1" not in missing.text
    posted = cx.post(f"/customers/{south}/erase", data={"csrf_token": token, "confirm": "yes"})
    assert posted.status_code == 404 and "客户s1" not in posted.text
    assert erased_at(ctx, south) is None


def test_an_erased_customer_offers_no_second_erasure(ctx: Context, world: World) -> None:
    public_id = with_person(ctx, world)
    admin = signed_in(ctx, "admin@t.test")
    token = csrf(admin.get(f"/customers/{public_id}").text)
    admin.post(f"/customers/{public_id}/erase", data={"csrf_token": token, "confirm": "yes"})
    again = admin.get(f"/customers/{public_id}/erase?lang=en")
    assert again.status_code == 200 and 'id="confirm-erase"' not in again.text
    assert "Erased customer" in again.text and "Personal data erased on" in again.text
    repeat = admin.post(f"/customers/{public_id}/erase",
                        data={"csrf_token": token, "confirm": "yes"}, follow_redirects=False)
    assert repeat.status_code == 303 and erased_at(ctx, public_id) is not None
