"""The dashboards in chromium on the demo database: each page in both languages, a filter applied,
a drill-down, an export, and a phone-sized screen."""

import re

from tests.browser.conftest import screenshot, sign_in
from tiyan.demo.spec import DEMO_PASSWORD


def test_overview_in_both_languages_with_a_filter_and_an_export(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard?lang=zh-CN")
    assert page.get_by_role("heading", name="总览").is_visible()
    page.wait_for_selector("#trend-chart[data-ready=true] canvas")
    assert page.locator("#kpi-tiles .tile").count() >= 3
    rate = page.locator("#response-rate-tile")
    assert rate.get_by_role("heading", name="回复率").is_visible()
    # the demo's SMS answers came from invitations, most of the others went unanswered
    value = rate.locator(".value").inner_text().strip()
    assert re.match(r"\d{2}\.\d%", value) and 15 < float(value[:4]) < 45, value
    assert "95% 置信区间" in rate.inner_text() and "本期间没有发送邀请" not in rate.inner_text()
    screenshot(page, "dashboard-overview-zh")

    page.goto("/dashboard?lang=en")
    assert page.get_by_role("heading", name="Overview").is_visible()
    # a laptop shows the top bar's links, no menu button
    assert page.locator(".topbar nav").is_visible() and page.locator("#menu-toggle").is_hidden()
    # every control of the filter form has the same height, so a row's labels line up
    page.locator("#dash-more summary").click()
    boxes = [page.locator(f"#dash-{x}").bounding_box()
             for x in ("answer", "aspect", "aspect-label", "attr")]
    assert len({(b["y"], b["height"]) for b in boxes}) == 1, boxes
    page.locator("#dash-more summary").click()
    assert page.locator("#response-rate-tile").get_by_role("heading",
                                                           name="Response rate").is_visible()
    page.get_by_label("Channel").select_option("sms")
    page.locator("#apply-filters").click()
    page.wait_for_url("**channel=sms**")
    assert page.get_by_label("Channel").input_value() == "sms"
    page.wait_for_selector("#trend-chart[data-ready=true] canvas")
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    from pathlib import Path

    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith(
        "Month,Responses,Partial period,NPS,n (NPS),NPS 95% CI low")
    screenshot(page, "dashboard-overview-en")

    # a customer segment and the trend by quarter, kept in the URL with the channel
    page.get_by_label("Segment").select_option("loyal")
    page.get_by_label("Trend by").select_option("quarter")
    page.locator("#apply-filters").click()
    page.wait_for_url("**grain=quarter**")
    assert "segment=loyal" in page.url and "channel=sms" in page.url
    assert page.get_by_label("Segment").input_value() == "loyal"
    assert page.locator("#dash-sliced").is_visible()
    assert page.get_by_role("heading", name="Quarter by quarter").is_visible()
    page.wait_for_selector("#trend-chart[data-ready=true] canvas")
    cells = page.locator("#trend-table tbody tr td:first-child").all_inner_texts()
    labels = [x.split("\n")[0] for x in cells]
    assert labels and all(re.fullmatch(r"Q[1-4] \d{4}", x) for x in labels)  # as English writes
    assert "partial: " in cells[0]  # the demo's last quarter runs to today
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Quarter,Responses,Partial period,NPS")
    exported = [row.split(",")[0] for row in text.splitlines()[1:]]
    # the file keeps the period's code (2026-Q4) or the page's words (Q4 2026), in order
    codes = ["-".join(reversed(x.split())) for x in labels[::-1]]
    assert exported in (codes, labels[::-1]), exported
    screenshot(page, "dashboard-overview-segment-quarter-en")


def test_league_drill_down_and_excel_export(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/units?lang=zh-CN")
    assert page.get_by_role("heading", name="单位排行").is_visible()
    rows_before = page.locator("#league tbody tr").count()
    assert rows_before >= 1
    assert page.locator("#league th[data-kpi=response_rate]").inner_text() == "回复率"
    first = page.locator("#league a.drill").first
    name = first.inner_text()
    first.click()
    page.wait_for_url("**unit=**")
    assert name in page.locator(".crumbs").inner_text()
    screenshot(page, "dashboard-units-zh")
    page.goto(page.url + "&lang=en")
    assert page.get_by_role("heading", name="Units league").is_visible()
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    assert download.value.suggested_filename == "dashboard-units.xlsx"
    page.locator("#drill-up").click()
    page.wait_for_selector("#league")
    screenshot(page, "dashboard-units-en")


def test_journey_view_marks_peak_and_end_in_both_languages(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/journey?lang=zh-CN")
    assert page.get_by_role("heading", name="旅程").first.is_visible()
    page.wait_for_selector("#journey-chart[data-ready=true] canvas")
    marks = page.locator("#journey-steps .pill").all_inner_texts()
    assert any("最佳时刻" in m for m in marks) and any("旅程终点" in m for m in marks)
    screenshot(page, "dashboard-journey-zh")
    page.goto("/dashboard/journey?lang=en")
    marks = page.locator("#journey-steps .pill").all_inner_texts()
    assert any("worst moment" in m for m in marks)
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    assert download.value.suggested_filename == "dashboard-journey.csv"
    screenshot(page, "dashboard-journey-en")


def test_dashboards_fit_a_phone(browser, server):
    """On a 375 px screen the top bar's links sit behind a menu button, so the page starts near
    the top; without JavaScript they are shown as they are on a laptop."""
    for script in (True, False):
        context = browser.new_context(viewport={"width": 375, "height": 812}, base_url=server,
                                      locale="en-US", java_script_enabled=script)
        page = context.new_page()
        page.goto("/login?lang=en")
        page.get_by_label("E-mail").fill("cx@demo.tiyan.dev")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/")
        page.goto("/dashboard/units")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        links, toggle = page.locator(".topbar nav"), page.locator("#menu-toggle")
        if not script:
            assert links.is_visible() and toggle.is_hidden()
            context.close()
            continue
        assert toggle.is_visible() and links.is_hidden() and page.locator(".who").is_hidden()
        assert page.locator("h1").bounding_box()["y"] < 100  # was 418 with every link shown
        screenshot(page, "dashboard-units-phone")
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true" and links.is_visible()
        screenshot(page, "dashboard-units-phone-menu")
        page.keyboard.press("Escape")
        assert links.is_hidden() and toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        links.get_by_role("link", name="Responses").click()
        page.wait_for_url("**/responses")
        context.close()



# Remembers, in the tab's session storage, what the page showed right after the filter form was
# sent or a dashboard link clicked (the page's own handlers run first), and whether the apply
# button was disabled; the next page reads it back.
RECORD = """() => { sessionStorage.removeItem("shown");
  const save = () => { const box = document.getElementById("dash-loading");
    sessionStorage.setItem("shown", JSON.stringify([!box.hidden && box.offsetHeight > 0,
      box.innerText.trim(), document.getElementById("apply-filters").disabled])); };
  document.getElementById("dash-filters").addEventListener("submit", save);
  document.addEventListener("click", save); }"""
RECALL = "() => JSON.parse(sessionStorage.getItem('shown'))"


def test_a_view_that_is_loading_says_so_and_keeps_its_filters_in_the_url(browser, server):
    """Filters applied and a drill-down followed: while the next page loads, the loading bar
    shows and the form cannot be sent twice; the new page's URL holds the filters and its bar
    is hidden again."""
    for locale, loading, width in (("en", "Loading…", 1280), ("zh-CN", "正在加载…", 390)):
        context = browser.new_context(viewport={"width": width, "height": 860},
                                      base_url=server, locale="zh-CN")
        page = context.new_page()
        sign_in(page, "cx@demo.tiyan.dev")
        page.goto(f"/dashboard/units?lang={locale}")
        assert page.locator("#dash-loading").is_hidden()
        page.evaluate("() => document.getElementById('dash-loading').hidden = false")
        screenshot(page, f"dashboard-loading-{locale}-{width}")
        page.reload()
        page.evaluate(RECORD)
        page.locator("select[name=channel]").select_option("sms")
        page.locator("#apply-filters").click()
        page.wait_for_url("**channel=sms**")
        assert page.evaluate(RECALL) == [True, loading, True]
        assert page.locator("select[name=channel]").input_value() == "sms"
        assert page.locator("#dash-loading").is_hidden()
        assert not page.locator("#apply-filters").is_disabled()

        page.evaluate(RECORD)
        drill = page.locator("a.drill").first
        target = drill.get_attribute("href") or ""
        assert "channel=sms" in target and "unit=" in target
        drill.click()
        page.wait_for_url(lambda url, target=target: url.endswith(target))
        assert page.evaluate(RECALL)[0] is True
        assert "channel=sms" in page.url and page.locator("#dash-loading").is_hidden()
        context.close()


def test_targets_from_the_tab_bar_and_a_wrong_target_shown_with_a_422(page):
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/dashboard/units?lang=en")
    page.locator(".dash-tabs").get_by_role("link", name="KPI targets").click()
    page.wait_for_url("**/dashboard/targets")
    assert page.locator(".dash-tabs [aria-current=page]").inner_text() == "KPI targets"
    form = page.locator("#target-form")
    form.get_by_label("Period start").fill("2026-01-01")
    form.get_by_label("Period end").fill("2026-12-31")
    form.get_by_label("Target").fill("120")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        form.get_by_role("button", name="Save target").click()
    assert sent.value.status == 422
    errors = page.locator("#targets-errors").inner_text()
    assert "target: a nps target lies from -100 to 100" in errors
    assert form.get_by_label("Target").input_value() == "120"  # the form as it was sent
    screenshot(page, "dashboard-targets-error-en")
