"""Your notifications page in chromium, in both languages, on a laptop and a 390 px phone: a
store manager sets a signed Feishu robot (加签) and a WeCom robot that @-mentions a mobile, sends
test messages to local robots (the Feishu one checks the signature as Feishu does, the WeCom one
refuses with its error code, as a robot does with HTTP 200), reads the refusal in words of the
page's language, sees the channels as cards on a phone, pauses and resumes one and removes
one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.browser.local_robots import app_allowed_local_robots, serving
from tests.integration.test_chat_robots import SECRET, Robot

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def robots() -> Iterator[dict[str, Robot]]:
    with serving(Robot("feishu", SECRET)) as feishu, \
            serving(Robot("wecom", None, refuse=93000)) as wecom:
        yield {"feishu": feishu, "wecom": wecom}


@pytest.fixture(scope="module")
def local_server(demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_allowed_local_robots(
            demo_db_url, tmp_path_factory.mktemp("notify-serve") / "serve.log") as base:
        yield base


def _row(page, channel: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#notification-channels tr[data-channel={channel}]")


def test_a_manager_sets_robots_tests_them_and_removes_one(browser, local_server, robots):  # type: ignore[no-untyped-def]
    feishu, wecom = robots["feishu"], robots["wecom"]
    laptop = browser.new_context(viewport={"width": 1280, "height": 900},
                                 base_url=local_server, locale="zh-CN")
    page = laptop.new_page()
    sign_in(page, "tianhe@demo.tiyan.dev")
    page.goto("/account?lang=zh-CN")
    page.locator("#notifications-link").click()
    page.wait_for_url("**/account/notifications")
    assert page.get_by_role("heading", name="我的通知").is_visible()
    # the demo's e-mail channel is paused: resumed and paused again without typing it again
    _row(page, "email").get_by_role("button", name="恢复").click()
    page.wait_for_url("**/account/notifications?done=resumed")
    assert "已暂停" not in _row(page, "email").inner_text()
    _row(page, "email").get_by_role("button", name="暂停").click()
    page.wait_for_url("**/account/notifications?done=stopped")
    assert "已暂停" in _row(page, "email").inner_text()

    page.get_by_label("渠道").select_option("feishu")
    page.locator("#notify-target").fill(feishu.url)
    page.locator("#notify-secret").fill(SECRET)
    page.get_by_label("新工单").check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/account/notifications?done=saved")
    row = _row(page, "feishu")
    assert "/hook/…" in row.inner_text() and "k3y" not in row.inner_text()  # the key masked
    assert "已加签" in row.inner_text() and "新工单" in row.inner_text()
    row.get_by_role("button", name="发送测试消息").click()
    assert page.locator("#test-result").inner_text() == "测试消息已发送：飞书已接收。"
    assert len(feishu.received) == 1  # signed as Feishu checks it, else it refuses (19021)

    page.get_by_label("渠道").select_option("wecom")
    page.locator("#notify-target").fill(wecom.url)
    page.locator("#notify-mentions").fill("138 0013 8000")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/account/notifications?done=saved")
    assert "@ 138 0013 8000" in _row(page, "wecom").inner_text()  # as people write it
    _row(page, "wecom").get_by_role("button", name="发送测试消息").click()
    assert page.locator("#test-result").inner_text() == \
        "发往企业微信的测试消息失败：机器人拒收了消息（错误码 93000）。"
    screenshot(page, "notifications-robots-zh")

    page.set_viewport_size(PHONE)
    page.goto("/account/notifications?lang=en")
    _row(page, "wecom").get_by_role("button", name="Send a test message").click()
    assert page.locator("#test-result").inner_text() == \
        "The test message to WeCom failed: the robot refused the message (code 93000)."
    assert "@ +86 138 0013 8000" in _row(page, "wecom").inner_text()
    rows = page.locator("#notification-channels tbody tr")
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "block"  # cards
    assert page.locator("#notification-channels thead").evaluate(
        "h => getComputedStyle(h).display") == "none"
    for i in range(rows.count()):
        box = rows.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "notifications-phone-en")

    _row(page, "wecom").get_by_role("button", name="Remove").click()
    page.wait_for_url("**/account/notifications?done=removed")
    assert _row(page, "wecom").count() == 0 and _row(page, "feishu").count() == 1
    page.goto("/account/notifications?lang=zh-CN")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "notifications-phone-zh")
    laptop.close()
