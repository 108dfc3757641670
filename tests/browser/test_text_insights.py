"""The text insights page in chromium on the demo database: both languages, a filter kept in the
URL, the heat map drawn, quotes linked to their responses, the aspect table exported."""

from pathlib import Path

from tests.browser.conftest import screenshot, sign_in


def test_text_insights_in_both_languages_with_a_filter_and_an_export(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/text?lang=zh-CN")
    assert page.get_by_role("heading", name="文本洞察").first.is_visible()
    page.wait_for_selector("#aspect-heatmap[data-ready=true] canvas")
    assert page.locator("#aspect-table tbody tr").count() >= 3
    assert page.locator("#negative-quotes li").count() >= 1
    assert page.locator("#negative-quotes a").first.get_attribute("href").startswith(
        "/responses/")
    screenshot(page, "dashboard-text-zh")

    page.goto("/dashboard/text?lang=en")
    assert page.get_by_role("heading", name="Text insights").first.is_visible()
    page.get_by_label("Channel").select_option("sms")
    page.locator("#apply-filters").click()
    page.wait_for_url("**channel=sms**")
    assert page.get_by_label("Channel").input_value() == "sms"
    page.wait_for_selector("#aspect-heatmap[data-ready=true] canvas")
    headers = page.locator("#aspect-table thead th").all_inner_texts()
    assert headers[:2] == ["Aspect", "Mentions"]
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    assert download.value.suggested_filename == "dashboard-text.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Aspect code,Aspect,Mentions,Negative")
    screenshot(page, "dashboard-text-en")
