"""A form error in the reader's language, in chromium (issue 16): an administrator's webhook to
an address inside the network is refused in Chinese, then in English, with the reason in the
same language, on a laptop and on a 390 px phone; a page that does not exist says so in each
language too."""

import re

from tests.browser.conftest import screenshot, sign_in

ENGLISH = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")


def _refuse(page, lang: str) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"/admin/webhooks?lang={lang}")
    page.locator("#hook-url").fill("http://10.0.0.1/tiyan-hook")
    page.locator("#create button[type=submit]").click()
    alert = page.locator("#create [role=alert]")
    alert.wait_for()
    assert page.locator("#hook-url").input_value() == "http://10.0.0.1/tiyan-hook"
    return str(alert.inner_text())


def test_a_refused_webhook_address_is_explained_in_each_language(page):
    sign_in(page, "admin@demo.tiyan.dev")
    chinese = _refuse(page, "zh-CN")
    assert "不能向“http://10.0.0.1/tiyan-hook”发送请求：它指向内网地址" in chinese
    assert not ENGLISH.search(chinese), chinese
    screenshot(page, "error-webhook-zh")

    english = _refuse(page, "en")
    assert english.startswith('"http://10.0.0.1/tiyan-hook" may not receive requests: it points '
                              "at a private network address"), english
    screenshot(page, "error-webhook-en")

    page.set_viewport_size({"width": 390, "height": 844})
    chinese = _refuse(page, "zh-CN")
    assert "它指向内网地址" in chinese
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "error-webhook-phone-zh")

    page.goto("/plans/nowhere?lang=zh-CN")
    assert "行动计划 nowhere 不存在或您无权查看" in page.locator("[role=alert]").inner_text()
    page.goto("/plans/nowhere?lang=en")
    assert "action plan nowhere does not exist" in page.locator("[role=alert]").inner_text()
    page.goto("/?lang=zh-CN")
