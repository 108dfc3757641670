"""Erasing a customer from the customer 360 page in chromium, on the demo: a CX manager opens a
customer of their own (made for this test, so no other test's customer goes), presses the erase
button, reads the confirmation naming the customer, confirms, and sees the erased state with no
personal data, at 1280 px in Chinese and at 390 px in English; the administrator then reads the
erasure and the reads before it in the audit log, in words."""

from __future__ import annotations

import json

from tests.browser.conftest import screenshot, sign_in

PERSON = {"name": "测试删除 欧阳明", "phone": "13700001234", "email": "erase.check@example.test"}


def new_customer(page, event_id: str, **person: str) -> str:  # type: ignore[no-untyped-def]
    """A customer of a car-group store, made by an event posted with the signed-in session."""
    page.goto("/customers")
    headers = json.loads(page.locator("body").get_attribute("hx-headers"))
    reply = page.request.post("/api/v1/events", headers=headers, data={
        "id": event_id, "type": "erase_check", "unit": "gz-tianhe",
        "customer": person})
    assert reply.status == 201, reply.text()
    return str(reply.json()["customer_id"])


def erase_through_the_page(page, public_id: str, name: str,  # type: ignore[no-untyped-def]
                           shot: str) -> None:
    page.goto(f"/customers/{public_id}")
    assert page.get_by_test_id("customer-name").inner_text() == name
    screenshot(page, shot)
    page.get_by_test_id("erase").click()
    page.wait_for_url(f"**/customers/{public_id}/erase")
    assert page.get_by_test_id("confirm-erase").is_visible()


def test_a_cx_manager_erases_a_customer_from_the_customer_page(  # type: ignore[no-untyped-def]
        page, browser, server) -> None:
    sign_in(page, "cx@demo.tiyan.dev")
    public_id = new_customer(page, "erase-check-zh", **PERSON)
    erase_through_the_page(page, public_id, PERSON["name"], "customer-erase-button-zh")
    confirm = page.get_by_test_id("confirm-erase").inner_text()
    assert f"删除 {PERSON['name']} 的个人信息？" in confirm and "评分会保留" in confirm
    assert "无法撤销" in confirm
    screenshot(page, "customer-erase-confirm-zh")
    page.get_by_role("button", name=f"删除 {PERSON['name']} 的个人信息").click()
    page.wait_for_url(f"**/customers/{public_id}?erased=1")
    notice = page.get_by_test_id("erased").inner_text()
    assert "该客户的个人信息已删除" in notice and "Asia/Shanghai" in notice
    assert page.get_by_test_id("customer-name").inner_text() == "已删除个人信息的客户"
    body = page.locator("main").inner_text()
    assert all(value not in body for value in PERSON.values())
    assert page.get_by_test_id("erase").count() == 0
    screenshot(page, "customer-erased-zh")
    audit_in_words(browser, server)


def audit_in_words(browser, server) -> None:  # type: ignore[no-untyped-def]
    """The administrator reads the erasure and the reads before it in words."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server,
                                  locale="zh-CN")
    page = context.new_page()
    sign_in(page, "admin@demo.tiyan.dev")
    page.goto("/admin/audit")
    table = page.get_by_test_id("audit").inner_text()
    assert "删除客户个人信息" in table and "查看客户" in table and "网页" in table
    assert "customer.view" not in table and "customer.erase" not in table
    assert PERSON["name"] not in table and PERSON["phone"] not in table
    screenshot(page, "audit-zh")
    context.close()


def test_the_erase_flow_fits_a_phone_in_english(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                  locale="en-US")
    page = context.new_page()
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/lang/en?next=/")
    person = {"name": "Lee Ming", "phone": "13700005678",
              "email": "erase.check.en@example.test"}
    public_id = new_customer(page, "erase-check-en", **person)
    erase_through_the_page(page, public_id, person["name"], "customer-erase-button-en-phone")
    assert f"Erase {person['name']}?" in page.get_by_test_id("confirm-erase").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "customer-erase-confirm-en-phone")
    page.get_by_role("button", name=f"Erase {person['name']}").click()
    page.wait_for_url(f"**/customers/{public_id}?erased=1")
    assert "Personal data erased on" in page.get_by_test_id("erased").inner_text()
    assert all(value not in page.locator("main").inner_text() for value in person.values())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "customer-erased-en-phone")
    page.goto("/lang/zh-CN?next=/")  # leave the shared demo user in Chinese for other tests
    context.close()
