"""Sign in and see the home page with its trend chart, in Chinese and in English."""

from tests.browser.conftest import screenshot, sign_in
from tiyan.demo.spec import DEMO_PASSWORD


def test_cx_manager_signs_in_and_sees_kpis_and_the_chart_in_both_languages(page):
    sign_in(page, "cx@demo.tiyan.dev")
    assert page.get_by_role("heading", name="体验概览").is_visible()
    page.wait_for_selector("#trend-chart[data-ready=true] canvas")
    tiles = page.locator(".tile .value").all_inner_texts()
    assert len(tiles) == 3 and tiles[0].replace(",", "").strip().isdigit()
    screenshot(page, "home-zh")

    page.get_by_role("link", name="English").click()
    page.wait_for_selector("#trend-chart[data-ready=true] canvas")
    assert page.get_by_role("heading", name="Experience overview").is_visible()
    assert page.get_by_role("link", name="Responses").is_visible()
    screenshot(page, "home-en")

    page.reload()
    assert page.get_by_role("heading", name="Experience overview").is_visible()


def test_a_store_manager_sees_only_their_store_and_no_admin_pages(page):
    sign_in(page, "tianhe@demo.tiyan.dev")
    nav = page.get_by_role("navigation").inner_text()
    assert "用户与角色" not in nav and "回复" in nav
    page.get_by_role("link", name="回复").click()
    page.locator("#response-rows td.unit").first.wait_for()
    units = set(page.locator("#response-rows td.unit").all_inner_texts())
    assert units and all(u.startswith("广州天河店") for u in units)  # its departments, by name
    page.get_by_role("button", name="加载更多").click()
    # (a locator, not wait_for_function: the Content-Security-Policy forbids the eval it uses)
    page.locator("#response-rows tr").nth(60).wait_for()
    screenshot(page, "responses-zh")


def test_wrong_password_shows_a_clear_message(page):
    page.goto("/login")
    page.get_by_label("邮箱").fill("cx@demo.tiyan.dev")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "邮箱或密码错误。"


def test_the_home_page_fits_a_phone(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                  locale="en-US")
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill("bund@demo.tiyan.dev")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#trend-chart[data-ready=true] canvas")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(page, "home-phone-en")
    context.close()
