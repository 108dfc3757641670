"""A call-centre agent completes a phone survey on a phone-sized screen: the call is planned,
the agent opens it from the worklist, logs a busy line, then enters the customer's answers; the
stored response has channel phone and the agent on it."""

from tests.browser.conftest import screenshot, sign_in


def test_an_agent_completes_a_phone_survey(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                  locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, "agent@demo.tiyan.dev")
    page.goto("/calls?lang=zh-CN")
    csrf = page.locator("body").get_attribute("hx-headers").split('"X-CSRF-Token": "')[1][:-2]
    headers = {"X-CSRF-Token": csrf}
    customer = page.request.get("/api/v1/customers?limit=1").json()["items"][0]
    planned = page.request.post("/api/v1/calls", headers=headers, data={
        "survey": "after-sales", "customer_id": customer["id"]})
    assert planned.status == 201, planned.text()
    call = planned.json()

    page.goto("/calls")
    assert page.get_by_role("heading", name="待拨打的电话调查").is_visible()
    row = page.locator(f'a[href="/calls/{call["id"]}"]')
    assert "****" in row.inner_text()
    row.click()
    assert page.locator("#phone").inner_text() == call["phone_masked"]
    page.get_by_role("button", name="显示完整号码").click()
    assert "****" not in page.locator("#phone").inner_text()

    page.get_by_label("备注（可选）").first.fill("客户在开车，稍后再打")
    page.get_by_role("button", name="占线").click()
    page.get_by_text("通话已记录").wait_for()
    assert page.locator(f'a[href="/calls/{call["id"]}"]').count() == 0  # due again later

    page.goto(f"/calls/{call['id']}")
    assert page.get_by_text("占线").first.is_visible()
    required = page.locator("fieldset.q:has(abbr.req)")
    for index in range(required.count()):
        required.nth(index).locator("input[type=radio]").last.check()
    screenshot(page, "phone-survey-call-zh")
    page.get_by_role("button", name="保存回答（调查完成）").click()

    assert page.get_by_role("heading", name="调查已完成").is_visible()
    assert page.locator("#response-channel").inner_text() == "电话"
    assert page.locator("#response-agent").inner_text() == "回访坐席 林晓"
    assert page.locator("#call-status").inner_text() == "已完成"
    response_id = page.locator("#call-done").inner_text().split("答卷 ")[1].split(" ")[0]
    stored = page.request.get(f"/api/v1/responses/{response_id}").json()
    assert stored["channel"] == "phone"
    screenshot(page, "phone-survey-done-zh")
    context.close()
