"""The behaviour page in chromium on the demo database (customers with transactions): both
languages, a filter applied, a drill-down, an export, laptop and phone screenshots."""

from pathlib import Path

from tests.browser.conftest import screenshot, sign_in


def test_behaviour_in_both_languages_with_a_filter_a_drill_down_and_an_export(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/behaviour?lang=zh-CN")
    assert page.get_by_role("heading", name="消费行为", exact=True).is_visible()
    assert page.get_by_role("heading", name="同期群留存").is_visible()
    page.wait_for_selector("#cohort-heatmap[data-ready=true] canvas")
    assert page.locator("#behaviour-units tbody tr").count() >= 2
    screenshot(page, "dashboard-behaviour-zh")
    page.goto("/dashboard/behaviour?lang=en")
    assert page.get_by_role("heading", name="Behaviour", exact=True).is_visible()
    page.locator("#dash-filters input[name=from]").fill("2026-01-01")
    page.locator("#apply-filters").click()
    page.wait_for_url("**from=2026-01-01**")
    page.locator("#behaviour-units a.drill").first.click()
    page.wait_for_url("**unit=**")
    assert "from=2026-01-01" in page.url
    assert page.locator("#drill-up").is_visible()
    stores = page.locator("#behaviour-units tbody tr").count()
    assert stores >= 1
    page.wait_for_selector("#cohort-heatmap[data-ready=true] canvas")
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Unit code,Unit,Responses") and "Repurchase rate" in lines[0]
    assert len(lines) == stores + 1
    with page.expect_download() as download:
        page.locator("#export-cohorts-xlsx").click()
    assert download.value.suggested_filename == "dashboard-behaviour-cohorts.xlsx"
    screenshot(page, "dashboard-behaviour-en")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dashboard/behaviour?lang=zh-CN")
    page.wait_for_selector("#cohort-heatmap[data-ready=true] canvas")
    screenshot(page, "dashboard-behaviour-phone")


def test_frontline_user_is_told_purchase_figures_are_for_whole_units(page):
    sign_in(page, "advisor@demo.tiyan.dev")
    page.goto("/dashboard/behaviour?lang=zh-CN")
    assert page.get_by_text("消费指标只按整个单位显示。").is_visible()
    assert page.locator("#behaviour-empty").count() == 0
    screenshot(page, "dashboard-behaviour-frontline-zh")
    page.goto("/dashboard/behaviour?lang=en")
    assert page.get_by_text("Purchase figures are shown for whole units only.").is_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dashboard/behaviour?lang=en")
    assert page.locator("#behaviour-staff-only").is_visible()
    screenshot(page, "dashboard-behaviour-frontline-phone")
    page.goto("/dashboard/behaviour?lang=zh-CN")  # leave the demo user in Chinese
