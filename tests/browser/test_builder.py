"""The survey builder and the journey editor in a real chromium, against `tiyan serve`."""

from __future__ import annotations

import secrets

from tests.browser.conftest import htmx_settled, screenshot, sign_in
from tiyan.demo.spec import DEMO_PASSWORD


def test_a_cx_manager_builds_a_survey_with_display_logic_and_publishes_version_2(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.get_by_role("link", name="问卷").first.click()
    page.wait_for_url("**/surveys")
    assert page.locator("table.data").get_by_text("售后服务回访 After-sales").is_visible()
    code = f"browser-nps-{secrets.token_hex(3)}"
    page.select_option("#new-template", "plain_nps")
    page.locator("#new-name").fill("浏览器测试 NPS")
    page.locator("#new-code").fill(code)
    page.select_option("#new-unit", "auto")
    page.get_by_role("button", name="从模板创建").click()
    page.wait_for_url(f"**/surveys/{code}")
    assert page.locator(".status").inner_text() == "草稿"

    page.get_by_role("button", name="发布草稿 v1").click()
    page.wait_for_url("**published=1")
    assert "v1" in page.locator("#live-version").inner_text()

    # Add an open question (htmx swaps the editor in place), try to save it empty …
    page.select_option("#new_type", "text")
    page.get_by_role("button", name="添加题目").click()
    question = page.locator("#q-2")
    question.wait_for()
    htmx_settled(page)  # the swapped-in editor's hx-post is bound only once it settles
    page.get_by_role("button", name="保存草稿").click()
    page.locator("#q-2.has-error").wait_for()
    htmx_settled(page)
    assert "缺少 zh-CN 文本" in question.get_by_role("alert").inner_text()  # in the page's language

    # … then fill it in, shown only to detractors (NPS ≤ 6), and publish.
    question.get_by_label("题目编码").fill("what_wrong")
    question.locator("textarea[name='q2.text.zh-CN']").fill("哪里让您不满意？")
    question.locator("textarea[name='q2.text.en']").fill("What disappointed you?")
    if not question.locator("details.logic:not(.skip)").evaluate("d => d.open"):
        question.locator("summary", has_text="显示条件").click()
    question.locator("input[name='q2.c0.source']").fill("nps")
    question.locator("select[name='q2.c0.op']").select_option("<=")
    question.locator("input[name='q2.c0.value']").fill("6")
    screenshot(page, "builder-editing-zh")
    page.get_by_role("button", name="保存并发布").click()
    page.wait_for_url("**published=2")
    assert page.locator("#published-notice").inner_text().startswith("已发布版本 v2")
    assert "v2" in page.locator("#live-version").inner_text()
    versions = page.locator("#versions tbody tr")
    assert versions.count() == 2
    assert page.locator("#q-2 input[name='q2.c0.value']").input_value() == "6"
    screenshot(page, "builder-published-zh")

    page.get_by_role("link", name="预览").first.click()
    assert "nps ≤ 6" in page.locator(".pq[data-key=what_wrong] .logic").inner_text()
    page.goto(page.url + "?lang=en")
    assert page.get_by_text("What disappointed you?").is_visible()
    screenshot(page, "builder-preview-en")


def test_the_survey_list_shows_status_version_touchpoint_and_responses(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/surveys?lang=en")
    row = page.locator("table.data tr", has_text="After-sales").first
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == "Collecting" and cells[3].startswith("v1") and "Follow-up" in cells[4]
    assert int(cells[5].replace(",", "")) > 100
    screenshot(page, "surveys-list-en")


def test_the_journey_editor_adds_a_touchpoint_and_reorders(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/journeys/car_after_sales")
    steps = page.locator("#main-flow > li.step")
    assert steps.count() == 6
    follow_up = page.locator("li.step[data-code=follow_up]")
    assert "售后服务回访" in follow_up.locator("> .listeners").inner_text()
    assert "短信" in follow_up.inner_text() or "SMS" in follow_up.inner_text()
    screenshot(page, "journey-after-sales-zh")

    code = f"j_{secrets.token_hex(3)}"
    page.goto("/journeys")
    page.locator("#j-code").fill(code)
    page.locator("#j-zh").fill("浏览器测试旅程")
    page.locator("#j-en").fill("Browser journey")
    page.get_by_role("button", name="创建旅程").click()
    page.wait_for_url(f"**/journeys/{code}")
    for tp, zh in (("arrive", "到店"), ("wait", "等候"), ("leave", "离店")):
        page.locator("#tp-code").fill(tp)
        page.locator("#tp-zh").fill(zh)
        page.locator("#tp-en").fill(tp.title())
        page.get_by_role("button", name="添加", exact=True).click()
        page.locator(f"li.step[data-code={tp}]").wait_for()
    order = page.locator("#main-flow > li.step").evaluate_all("els => els.map(e => e.dataset.code)")
    assert order == ["arrive", "wait", "leave"]
    page.get_by_role("button", name="前移 离店").click()
    page.wait_for_load_state()
    order = page.locator("#main-flow > li.step").evaluate_all("els => els.map(e => e.dataset.code)")
    assert order == ["arrive", "leave", "wait"]
    screenshot(page, "journey-editor-zh")


def test_the_journey_page_reads_on_a_phone(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                  locale="en-US")
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill("admin@demo.tiyan.dev")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    page.goto("/journeys/hotel_stay")
    assert page.locator("#main-flow > li.step").count() == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "journey-hotel-phone-en")
    page.goto("/surveys/hotel-stay")
    assert page.locator("#q-0").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "builder-phone-en")
    context.close()


def test_a_skip_rule_is_edited_with_its_own_control_and_errors_show_inline(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/surveys")
    code = f"browser-skip-{secrets.token_hex(3)}"
    page.select_option("#new-template", "plain_nps")
    page.locator("#new-name").fill("浏览器测试 跳转")
    page.locator("#new-code").fill(code)
    page.select_option("#new-unit", "auto")
    page.get_by_role("button", name="从模板创建").click()
    page.wait_for_url(f"**/surveys/{code}")

    question = page.locator("#q-0")
    skip = question.locator("details.skip")
    if not skip.evaluate("d => d.open"):
        skip.locator("summary", has_text="跳转逻辑").click()
    # "end the survey" with no condition: refused, the message inside the skip control.
    question.locator("select[name='q0.s0.target']").select_option("end")
    page.get_by_role("button", name="保存草稿").click()
    page.locator("#q-0.has-error").wait_for()
    htmx_settled(page)
    assert "跳转规则至少需要一个条件" in question.locator("details.skip .error").inner_text()
    assert question.locator("select[name='q0.s0.target']").input_value() == "end"

    question.locator("input[name='q0.s0.c0.source']").fill("nps")
    question.locator("select[name='q0.s0.c0.op']").select_option(">=")
    question.locator("input[name='q0.s0.c0.value']").fill("9")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url("**saved=1")
    assert page.locator("#q-0 select[name='q0.s0.target']").input_value() == "end"
    assert page.locator("#q-0 input[name='q0.s0.c0.value']").input_value() == "9"
    assert page.locator("#q-0 legend").get_by_text("有跳转").is_visible()
    screenshot(page, "builder-skip-rule-zh")
