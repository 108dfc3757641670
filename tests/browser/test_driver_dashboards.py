"""Key drivers, staff scorecards and competitor gaps in chromium on the demo database: each page
in both languages, a filter applied, an export, a benchmark entered; screenshots."""

import datetime as dt
from pathlib import Path

from tests.browser.conftest import screenshot, sign_in


def test_key_drivers_in_both_languages_with_a_filter_and_an_export(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/drivers?lang=zh-CN")
    assert page.get_by_role("heading", name="关键驱动因素").is_visible()
    page.wait_for_selector("#drivers-chart[data-ready=true] canvas")
    assert page.locator("#drivers tbody tr").count() >= 2
    assert page.locator("#drivers-intervals").is_visible()  # intervals and rank ranges
    assert page.locator("#drivers-quadrant-rule").is_visible()
    assert page.locator("#drivers .drivers-interval").count() >= 2
    screenshot(page, "dashboard-drivers-zh")
    # three recent days (the demo runs to today): too few responses for 17 items, and the page
    # says how many it needs
    last = dt.date.today() - dt.timedelta(days=1)
    page.goto(f"/dashboard/drivers?lang=en&from={last - dt.timedelta(days=2)}&to={last}")
    assert page.locator("#drivers-not-enough").is_visible()
    assert "Not enough data to rank drivers" in page.locator("#drivers-not-enough").inner_text()
    assert page.locator("#drivers").count() == 0
    screenshot(page, "dashboard-drivers-not-enough-en")
    page.goto("/dashboard/drivers?lang=en&outcome=csat")
    assert page.get_by_role("heading", name="Key drivers").is_visible()
    page.get_by_label("Channel").select_option("sms")
    page.locator("#apply-filters").click()
    page.wait_for_url("**channel=sms**")
    assert "outcome=csat" in page.url
    if page.locator("#drivers").count():
        page.wait_for_selector("#drivers-chart[data-ready=true] canvas")
        with page.expect_download() as download:
            page.locator("#export-csv").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("Item code,Item")
    screenshot(page, "dashboard-drivers-en")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dashboard/drivers?lang=zh-CN")
    page.wait_for_selector("#drivers-chart[data-ready=true] canvas")
    screenshot(page, "dashboard-drivers-phone")


def test_staff_scorecards_in_both_languages_with_a_filter(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/staff?lang=zh-CN")
    assert page.get_by_role("heading", name="员工计分卡").is_visible()
    assert page.locator("#staff-cards tbody tr").count() >= 1
    screenshot(page, "dashboard-staff-zh")
    page.goto("/dashboard/staff?lang=en&kpi=csat")
    page.get_by_label("Channel").select_option("sms")
    page.locator("#apply-filters").click()
    page.wait_for_url("**channel=sms**")
    assert "kpi=csat" in page.url
    assert page.get_by_role("heading", name="Staff scorecards").is_visible()
    screenshot(page, "dashboard-staff-en")


def test_competitor_gap_entered_and_shown_in_both_languages(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/competitors?lang=en")
    assert page.get_by_role("heading", name="Competitor gaps").is_visible()
    form = page.locator("#compete-form")
    form.get_by_label("Competitor", exact=True).fill("Rival Motors")
    start = page.locator("#dash-filters input[name=from]").input_value()
    end = page.locator("#dash-filters input[name=to]").input_value()
    form.get_by_label("Period start").fill(start)
    form.get_by_label("Period end").fill(end)
    form.get_by_label("Competitor value").fill("25")
    form.get_by_role("button").click()
    page.wait_for_selector("#compete-saved")
    assert page.locator("#competitor-gaps tbody tr").count() >= 1
    screenshot(page, "dashboard-competitors-en")
    page.goto("/dashboard/competitors?lang=zh-CN")
    assert page.get_by_role("heading", name="竞争对手差距").is_visible()
    assert "Rival Motors" in page.locator("#competitor-gaps").inner_text()
    screenshot(page, "dashboard-competitors-zh")


def test_key_drivers_with_comment_aspects_and_repurchase_in_both_languages(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/drivers?lang=zh-CN&include=aspects")
    assert page.get_by_role("heading", name="关键驱动因素").is_visible()
    assert page.locator("#drivers-raw").count() == 0  # aspects come from driver_aspect_agg
    page.wait_for_selector("#drivers-chart[data-ready=true] canvas")
    tagged = page.locator("#drivers tbody tr .tag-comments")
    assert tagged.count() >= 1 and tagged.first.inner_text() == "来自评论"
    screenshot(page, "dashboard-drivers-aspects-zh")
    page.goto("/dashboard/drivers?lang=en&outcome=repurchase&include=aspects")
    assert page.get_by_role("heading", name="Key drivers").is_visible()
    assert "too recent to tell" in page.locator("#drivers-repurchase").inner_text()
    assert page.locator("#drivers-raw").is_visible()  # repurchase reads the responses
    assert page.locator("#outcomes [aria-current=page]").inner_text() == "Repurchase"
    if page.locator("#drivers").count():
        page.wait_for_selector("#drivers-chart[data-ready=true] canvas")
        with page.expect_download() as download:
            page.locator("#export-csv").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].endswith(",Source")
    screenshot(page, "dashboard-drivers-repurchase-en")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dashboard/drivers?lang=en&include=aspects")
    page.wait_for_selector("#drivers-chart[data-ready=true] canvas")
    screenshot(page, "dashboard-drivers-aspects-phone")
    page.goto("/dashboard/drivers?lang=zh-CN&outcome=repurchase")
    assert "复购" in page.locator("#drivers-repurchase").inner_text()
    screenshot(page, "dashboard-drivers-repurchase-phone-zh")
