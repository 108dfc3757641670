"""The cases inbox and the VOC review in a real browser, in Chinese and in English."""

from tests.browser.conftest import screenshot, sign_in


def test_store_manager_filters_the_inbox_and_opens_a_case_in_both_languages(page):
    sign_in(page, "tianhe@demo.tiyan.dev")
    page.goto("/cases?lang=zh-CN")
    assert page.get_by_role("heading", name="工单").is_visible()
    assert page.get_by_role("link", name="工单", exact=True).is_visible()  # in the navigation
    # the open cases are those of the last hours before the demo was built: at night there
    # may be none at this store, so the inbox is judged on all its cases
    open_rows = page.locator("#case-rows tbody tr").count()
    page.get_by_label("状态").select_option("all")
    page.get_by_label("只看我的").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/cases?status=all&**")
    rows = page.locator("#case-rows tbody tr")
    assert rows.count() >= max(open_rows, 1)
    units = set(page.locator("#case-rows td:nth-child(3) .small").all_inner_texts())
    assert units <= {"gz-tianhe", "gz-tianhe-as", "gz-tianhe-sales"}
    screenshot(page, "cases-zh")
    page.locator("#case-rows tbody tr a").first.click()
    page.get_by_role("heading", name="处理记录").wait_for()
    assert page.get_by_role("heading", name="SLA 时限").is_visible()

    page.get_by_role("link", name="English").click()
    page.get_by_role("heading", name="History").wait_for()  # the link navigates
    page.get_by_label("Note", exact=True).fill("Called the customer, apologised")
    page.get_by_role("button", name="Add note").click()
    page.locator("#case-history").get_by_text("Called the customer, apologised").wait_for()
    page.get_by_role("link", name="All cases").click()
    page.get_by_role("heading", name="Cases").wait_for()
    page.get_by_label("Status").select_option("closed")
    page.get_by_role("button", name="Filter").click()
    statuses = set(page.locator("#case-rows td:nth-child(2)").all_inner_texts())
    assert statuses <= {"Closed"}
    screenshot(page, "cases-en")


def test_cx_manager_reads_the_voc_review_in_both_languages(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/voc?lang=zh-CN")
    assert page.get_by_role("heading", name="VOC 复盘").is_visible()
    page.wait_for_selector("#impact-chart[data-ready=true] canvas")
    assert page.locator("#aspect-rows tbody tr").count() >= 3
    assert page.locator("#aspect-rows .quote").count() >= 1
    lost = [float(x) for x in page.locator("#aspect-rows td:nth-child(5)").all_inner_texts()]
    assert lost == sorted(lost, reverse=True)  # ranked by NPS points lost
    screenshot(page, "voc-zh")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="English").click()
    page.wait_for_selector("#impact-chart[data-ready=true] canvas")
    assert page.get_by_role("heading", name="VOC review").is_visible()
    assert page.get_by_text("NPS points lost").first.is_visible()
    page.get_by_label("Unit").select_option("auto-south")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**unit=auto-south**")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_text("Subscribed").wait_for()
    screenshot(page, "voc-en")
