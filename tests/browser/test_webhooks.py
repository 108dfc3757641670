"""A CX manager registers a webhook on the web page (an address inside the network is refused,
saying why), copies its secret, then deactivates it."""

from tests.browser.conftest import screenshot, sign_in


def test_cx_manager_adds_a_webhook_sees_the_secret_once_and_deactivates_it(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/admin/webhooks?lang=zh-CN")  # an earlier test may have left cx in English
    assert page.get_by_role("link", name="Webhook", exact=True).is_visible()
    assert page.get_by_role("heading", name="Webhook 推送").is_visible()
    page.get_by_label("推送地址（URL）").fill("http://169.254.169.254/latest/meta-data/")
    page.get_by_label("组织单元").select_option("auto-south")
    page.get_by_role("button", name="创建 Webhook").click()
    page.get_by_role("alert").filter(has_text="链路本地地址").wait_for()  # refused, in Chinese
    assert page.locator("code.secret").count() == 0
    page.get_by_label("推送地址（URL）").fill("https://crm.example.test/hooks/tiyan")
    page.get_by_label("组织单元").select_option("auto-south")
    page.get_by_role("button", name="创建 Webhook").click()
    secret = page.locator("code.secret").inner_text()
    assert secret.startswith("whsec_")
    screenshot(page, "webhooks-created-zh")

    page.get_by_role("link", name="English").click()
    page.get_by_role("heading", name="Webhooks").wait_for()  # the link navigates
    assert page.locator("code.secret").count() == 0  # the secret was shown once
    page.get_by_role("link", name="https://crm.example.test/hooks/tiyan").click()
    page.get_by_role("heading", name="Delivery log").wait_for()
    page.get_by_role("link", name="All webhooks").click()
    page.get_by_role("button", name="Deactivate").first.click()
    page.get_by_text("deactivated").first.wait_for()
    screenshot(page, "webhooks-en")
