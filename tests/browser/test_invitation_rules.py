"""A CX manager adds an invitation rule on /admin/invitations, sees it listed with its plan and
pauses it, in Chinese and in English, on a desktop screen and on a phone."""

from tests.browser.conftest import screenshot, sign_in


def _rule_row(page, name):  # type: ignore[no-untyped-def]
    return page.locator("#rules tbody tr", has_text=name)


def test_cx_manager_adds_lists_and_pauses_a_rule_in_both_languages(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/admin/invitations?lang=zh-CN")
    assert page.get_by_role("heading", name="邀请规则").is_visible()
    page.get_by_label("名称").fill("浏览器测试：维修回访短信")
    page.get_by_label("事件类型").fill("browser_repair_closed")
    page.get_by_label("渠道").select_option("sms")
    page.get_by_label("延迟（事件后分钟数）").fill("60")
    page.get_by_label("提醒（发送后第几天）").fill("3, 7")
    page.get_by_label("抽样比例（%）").fill("50")
    page.get_by_role("button", name="添加规则").click()
    row = _rule_row(page, "浏览器测试：维修回访短信")
    row.get_by_text("browser_repair_closed").wait_for()  # the form's post has come back
    assert "短信" in row.inner_text() and "启用" in row.inner_text()
    assert "事件后 60 分钟" in row.inner_text() and "第 3, 7 天提醒" in row.inner_text()
    assert "抽样 50%" in row.inner_text() and "隔离 30 天" in row.inner_text()
    assert page.get_by_label("名称").evaluate("e => e.offsetHeight") >= 30  # a real input box
    row.get_by_role("button", name="暂停").click()
    row = _rule_row(page, "浏览器测试：维修回访短信")
    row.get_by_role("button", name="恢复").wait_for()
    assert "已暂停" in row.inner_text()
    screenshot(page, "invitation-rules-zh")

    page.goto("/admin/invitations?lang=en")
    assert page.get_by_role("heading", name="Invitation rules").is_visible()
    page.get_by_label("Name").fill("Browser check: hotel stay e-mail")
    page.get_by_label("Event type").fill("browser_checked_out")
    page.get_by_label("Channel").select_option("email")
    page.get_by_label("Sample (%)").fill("abc")
    page.get_by_role("button", name="Add rule").click()  # a bad value is named, nothing lost
    page.get_by_role("alert").wait_for()
    assert "sample (%)" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Name").input_value() == "Browser check: hotel stay e-mail"
    page.get_by_label("Sample (%)").fill("100")
    page.get_by_role("button", name="Add rule").click()
    row = _rule_row(page, "Browser check: hotel stay e-mail")
    row.get_by_role("button", name="Pause").wait_for()
    assert "E-mail" in row.inner_text() and "active" in row.inner_text()
    row.get_by_role("button", name="Pause").click()
    paused = _rule_row(page, "Browser check: hotel stay e-mail")
    paused.get_by_role("button", name="Resume").wait_for()
    assert "paused" in _rule_row(page, "Browser check: hotel stay e-mail").inner_text()
    screenshot(page, "invitation-rules-en")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/invitations?lang=zh-CN")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page is {width}px wide on a 390px phone"
    screenshot(page, "invitation-rules-phone-zh")


def test_the_demo_lists_answered_invitations_with_their_timeline(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/admin/invitations?status=completed&lang=en#recent")
    rows = page.locator("#recent tbody tr")
    assert rows.count() > 10 and "completed" in rows.first.inner_text()
    # the CX manager's units invite by SMS (a phone survey another test completed may be newer)
    sms = rows.filter(has_text="SMS").first
    assert "completed" in sms.inner_text()
    sms.locator("a").click()
    assert page.locator("h1 .pill").inner_text() == "completed"
    steps = page.locator("ol.timeline li strong").all_inner_texts()
    assert steps == ["Queued", "Sent", "Link opened", "Survey started", "Survey completed"]
    screenshot(page, "invitation-completed-en")
