"""A store manager sets the store's DingTalk robot (signed, @-mentions) in chromium, in both
languages, on a laptop and a 390 px phone, and sends a test message that a local robot (which
checks the signature as DingTalk does) takes; a wrong setting is refused in words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.browser.local_robots import app_allowed_local_robots, serving
from tests.integration.test_chat_robots import SECRET, Robot


@pytest.fixture(scope="module")
def robot() -> Iterator[Robot]:
    with serving(Robot("dingtalk", SECRET)) as found:
        yield found


@pytest.fixture(scope="module")
def local_server(demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the demo database, allowed to post to this test's robot on 127.0.0.1."""
    with app_allowed_local_robots(
            demo_db_url, tmp_path_factory.mktemp("unit-serve") / "serve.log") as base:
        yield base


def test_a_store_manager_sets_the_stores_robot_and_tests_it(browser, local_server, robot):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  base_url=local_server, locale="zh-CN")
    page = context.new_page()
    sign_in(page, "tianhe@demo.tiyan.dev")
    page.goto("/?lang=zh-CN")
    page.locator('nav a[href="/unit-notifications"]').first.click()
    page.wait_for_url("**/units/*/notifications")
    assert page.get_by_role("heading", name="单位通知").first.is_visible()
    page.get_by_label("渠道").select_option("wecom")
    page.locator("#notify-target").fill(robot.url)
    page.locator("#notify-secret").fill(SECRET)  # WeCom has no signing
    page.get_by_role("button", name="添加", exact=True).click()
    assert "只有钉钉和飞书" in page.locator("#unit-error").inner_text() \
        or "DingTalk" in page.locator("#unit-error").inner_text()
    page.get_by_label("渠道").select_option("dingtalk")
    page.locator("#notify-target").fill(robot.url)
    page.locator("#notify-secret").fill(SECRET)
    page.locator("#notify-mentions").fill("138 0013 8000")
    page.get_by_role("button", name="添加", exact=True).click()
    page.wait_for_url("**/notifications?done=saved")
    row = page.locator("#unit-channels tr[data-channel=dingtalk]")
    assert "access_token=…" in row.inner_text() and "k3y" not in row.inner_text()
    screenshot(page, "unit-notifications-zh")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.url.split("?")[0] + "?lang=en")
    page.locator("#unit-channels tr[data-channel=dingtalk]").get_by_role(
        "button", name="Send a test message").click()
    assert page.locator("#test-result").inner_text() == "Test message sent: DingTalk took it."
    assert len(robot.received) == 1  # signed right (加签), else the robot refuses
    assert robot.received[0]["at"]["atMobiles"] == ["13800138000"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "unit-notifications-phone-en")
    context.close()
