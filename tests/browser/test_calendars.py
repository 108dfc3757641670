"""A store manager's business calendar in chromium, in both languages, on a laptop and a 390 px
phone: a Saturday half day and a holiday saved, a bad time refused in words, China's public
holidays for 2026 imported (twice: nothing added the second time), and the after-sales
department below shown as inheriting the store's calendar."""

from tests.browser.conftest import screenshot, sign_in


def test_a_store_manager_edits_the_calendar_and_imports_holidays(page):
    sign_in(page, "gulou@demo.tiyan.dev")
    page.goto("/?lang=zh-CN")
    page.locator('nav a[href="/calendars"]').first.click()
    page.wait_for_url("**/units/nj-gulou/calendar")
    assert page.get_by_role("heading", name="工作日历 · 南京鼓楼店").is_visible()

    page.get_by_label("星期六 开始", exact=True).fill("09:00")
    page.get_by_label("星期六 结束", exact=True).fill("25:00")
    page.locator("#save-button").click()
    assert "星期六：“25:00”不是有效时间" in page.locator("#cal-error").inner_text()
    page.get_by_label("星期六 结束", exact=True).fill("12:00")
    page.locator("#cal-holidays").fill("2026-12-24 店庆")
    page.locator("#save-button").click()
    page.wait_for_url("**/units/nj-gulou/calendar?done=saved")
    assert page.locator("#cal-source").inner_text() == "本单元有自己的工作日历。"
    page.locator("#cal-year").select_option("2026")
    page.locator("#import-button").click()
    assert "新增放假 33 天、调休上班 6 天" in page.locator("#done").inner_text()
    rows = page.locator("#calendar-days tr[data-kind=workday]")
    assert rows.count() == 6 and "国庆节调休" in rows.last.inner_text()
    assert "店庆" in page.locator("#calendar-days").inner_text()
    screenshot(page, "calendar-zh")

    page.goto("/units/nj-gulou/calendar?lang=en")
    page.locator("#cal-year").select_option("2026")
    page.locator("#import-button").click()
    assert "0 days off and 0 make-up working days added" in page.locator("#done").inner_text()
    assert page.get_by_label("Saturday closes", exact=True).input_value() == "12:00"
    page.get_by_label("Tuesday closes", exact=True).fill("08:00")
    page.locator("#save-button").click()
    assert page.locator("#cal-error").inner_text() == \
        "Tuesday: closing time 08:00 must be after opening time 09:00."
    screenshot(page, "calendar-error-en")

    page.goto("/units/nj-gulou-as/calendar?lang=en")
    assert "it uses Nanjing Gulou" in page.locator("#cal-source").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/units/nj-gulou/calendar?lang=en")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "calendar-phone-en")
    page.goto("/units/nj-gulou/calendar?lang=zh-CN")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "calendar-phone-zh")
    assert page.goto("/units/gz-tianhe/calendar").status == 404  # another store
