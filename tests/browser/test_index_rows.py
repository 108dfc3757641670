"""A CX manager defines a composite index from rows in chromium (items picked by their question
texts, weights), in Chinese on a laptop and in English on a 390 px phone, with a wrong weight
named at its row."""

from tests.browser.conftest import screenshot, sign_in


def test_a_cx_manager_defines_an_index_from_rows(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/indices?lang=zh-CN")
    first = page.locator("#index-row-0 select")
    labels = first.locator("option").all_inner_texts()
    assert len(labels) > 3 and all("_" not in label for label in labels[1:])  # texts, no codes
    page.locator('#index-form input[name="code"]').fill("svc-rows")
    page.locator('#index-form input[name="name_zh"]').fill("服务指数")
    page.locator('#index-form input[name="name_en"]').fill("Service index")
    first.select_option(index=1)
    page.locator("#index-row-1 select").select_option(index=2)
    page.get_by_label("权重 1", exact=True).fill("2")
    page.get_by_label("权重 2", exact=True).fill("0")
    page.get_by_role("button", name="保存指数").click()
    assert page.locator("#index-row-error-1").inner_text() == "请填写大于 0 的权重。"
    page.get_by_label("权重 2", exact=True).fill("1")
    page.get_by_role("button", name="保存指数").click()
    page.wait_for_url("**/dashboard/indices?saved=svc-rows")
    assert "服务指数" in page.locator("#indices").inner_text()
    screenshot(page, "index-rows-zh")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dashboard/indices?edit=svc-rows&lang=en")
    assert page.get_by_label("Weight 1", exact=True).input_value() == "2"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "index-rows-phone-en")


def test_a_store_manager_creates_a_plan_with_task_rows(page):
    sign_in(page, "tianhe@demo.tiyan.dev")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/plans?lang=en")
    page.locator("#plan-title").fill("Faster callbacks (rows)")
    page.locator("#plan-units").select_option("gz-tianhe")
    page.get_by_label("Task 1", exact=True).fill("Train the advisors")
    page.get_by_label("Due date of task 1", exact=True).fill("2026-12-20")
    page.get_by_label("Task 2", exact=True).fill("Call back within a day")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "plan-task-rows-phone-en")
    page.get_by_role("button", name="Create plan").click()
    page.wait_for_url("**/plans/*")
    tasks = page.locator("#task-rows").inner_text()
    assert "Train the advisors" in tasks and "Call back within a day" in tasks
    page.goto(page.url + "?lang=zh-CN")
    assert "2026年12月20日" in page.locator("#task-rows").inner_text()  # the page's language
    screenshot(page, "plan-task-rows-zh")
