"""A case from alert to recovered callback at the desk (issue 16), in a real browser on the demo
database: the agent finds whom to call on the callbacks worklist, opens the case, reads the
complaint and the customer in words, acknowledges, shows the phone (audited), logs the reached
callback and resolves; in Chinese on a laptop and in English on a 390 px phone. And a store
finds a customer by phone however it is written."""

from __future__ import annotations

import sqlalchemy as sa

from tests.browser.conftest import screenshot, sign_in


def new_case_with_callback(db_url: str, taken: set[str]) -> str:
    """A new case of a car dealer with a customer, a phone and an open callback task."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT c.public_id FROM cx_case c "
                "JOIN callback_task k ON k.case_id = c.id AND k.status = 'open' "
                "JOIN customer u ON u.id = c.customer_id "
                "JOIN customer_identity i ON i.customer_id = u.id AND i.kind = 'phone' "
                "JOIN org_unit o ON o.id = c.unit_id "
                "WHERE c.status = 'new' AND o.code NOT LIKE 'htl-%' "
                "ORDER BY c.id DESC")).scalars().all()
    finally:
        engine.dispose()
    return next(r for r in rows if r not in taken)


def no_sideways_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"))


def test_an_agent_takes_a_case_from_alert_to_recovered_callback_in_chinese(
        page, demo_db_url):  # type: ignore[no-untyped-def]
    case = new_case_with_callback(demo_db_url, set())
    sign_in(page, "agent@demo.tiyan.dev")
    page.goto("/callbacks?lang=zh-CN")
    page.get_by_role("heading", name="回访").wait_for()
    rows = page.locator("#callback-rows tbody tr")
    total = int(page.locator("#callback-count").inner_text().split("共 ")[1].split(" ")[0])
    assert rows.count() == min(total, 50)  # 50 a page
    assert page.locator(".pager").is_visible() == (total > 50)
    first = rows.first.inner_text()
    assert "****" in first and "case · case" not in first  # a masked phone, reasons in words
    screenshot(page, "desk-callbacks-zh-1280")
    page.goto(f"/cases/{case}")
    page.get_by_role("heading", name="客户反馈内容").wait_for()
    answers = page.locator("#complaint-answers").inner_text()
    assert " / " in answers and "proc_" not in answers and "sat_" not in answers
    assert "****" in page.locator("#customer-phone").inner_text()
    assert "已达成" not in page.locator("#sla-zone + table").inner_text()  # new: nothing met
    page.get_by_role("button", name="确认受理").click()
    page.locator(".status-acknowledged").first.wait_for()
    page.get_by_role("button", name="显示号码以便拨打").click()
    call = page.locator("#call-customer")
    call.wait_for()
    assert call.get_attribute("href").removeprefix("tel:").lstrip("+").isdigit()
    page.get_by_label("通话结果").select_option("reached")
    page.get_by_label("是否挽回？").select_option("yes")
    page.locator("#call-satisfaction").fill("9")
    page.get_by_label("客户反馈", exact=True).fill("已致歉，客户接受免费保养")
    page.get_by_role("button", name="记录本次通话").click()
    page.locator("#case-history").get_by_text("已致歉，客户接受免费保养").wait_for()
    history = page.locator("#case-history").inner_text()
    assert "回访" in history and "已挽回" in history
    page.get_by_role("button", name="标记已解决").click()
    page.locator(".status-resolved").first.wait_for()
    screenshot(page, "desk-case-zh-1280")


def test_an_agent_works_a_case_on_a_phone_in_english_and_a_store_finds_the_customer(
        browser, server, demo_db_url):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                  locale="en")
    page = context.new_page()
    try:
        sign_in(page, "agent@demo.tiyan.dev")
        page.goto("/callbacks?lang=en")
        page.get_by_role("heading", name="Callbacks").wait_for()
        card = page.locator("#callback-rows tbody tr").first
        assert card.evaluate("row => getComputedStyle(row).display") == "block"  # a card
        assert "****" in card.inner_text()
        assert no_sideways_scroll(page)
        screenshot(page, "desk-callbacks-en-390")
        case = new_case_with_callback(demo_db_url, set())
        page.goto(f"/cases/{case}?lang=en")
        page.get_by_role("heading", name="The complaint").wait_for()
        assert no_sideways_scroll(page)
        page.get_by_role("button", name="Acknowledge", exact=True).click()
        page.locator(".status-acknowledged").first.wait_for()
        page.get_by_role("button", name="Show phone to call").click()
        page.locator("#call-customer").wait_for()
        phone = page.locator("#customer-phone").inner_text().strip()
        page.get_by_label("Call outcome").select_option("reached")
        page.get_by_label("Recovered?").select_option("yes")
        page.get_by_label("What the customer said").fill("Apologised; free service booked")
        page.get_by_role("button", name="Log the call", exact=True).click()
        page.locator("#case-history").get_by_text("Apologised; free service booked").wait_for()
        page.get_by_role("button", name="Resolve", exact=True).click()
        page.locator(".status-resolved").first.wait_for()
        assert no_sideways_scroll(page)
        screenshot(page, "desk-case-en-390")

        national = phone.replace(" ", "").removeprefix("+86")
        written = f"{national[:3]} {national[3:7]} {national[7:]}"
        page.goto("/customers?lang=en")
        page.get_by_label("Find a customer").fill(written)
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**q=**")
        found = page.locator('[data-testid="customers"] tbody tr')
        assert found.count() >= 1
        assert no_sideways_scroll(page)
        screenshot(page, "desk-search-en-390")
    finally:
        context.close()
