"""Your notifications page in chromium, in both languages, on a laptop and a 390 px phone: an
e-mail channel set with its events, shown in the table, and a test message whose failure (the
demo has no mail server) is said in words."""

from tests.browser.conftest import screenshot, sign_in


def test_a_manager_sets_a_channel_and_sends_a_test_message(page):
    sign_in(page, "tianhe@demo.tiyan.dev")
    page.goto("/account?lang=zh-CN")
    page.locator("#notifications-link").click()
    page.wait_for_url("**/account/notifications")
    assert page.get_by_role("heading", name="我的通知").is_visible()
    page.get_by_label("渠道").select_option("email")
    page.locator("#notify-target").fill("tianhe.alerts@demo.tiyan.dev")
    page.get_by_label("新工单").check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/account/notifications?done=saved")
    row = page.locator("#notification-channels tr[data-channel=email]")
    assert "tianhe.alerts@demo.tiyan.dev" in row.inner_text() and "新工单" in row.inner_text()
    screenshot(page, "notifications-zh")

    page.goto("/account/notifications?lang=en")
    page.locator("#notification-channels tr[data-channel=email]").get_by_role(
        "button", name="Send a test message").click()
    result = page.locator("#test-result")
    assert result.inner_text().startswith(("The test message to e-mail failed",
                                           "Test message sent"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/account/notifications?lang=en")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "notifications-phone-en")
