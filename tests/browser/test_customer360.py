"""The customer 360 page and the at-risk worklist on the demo, after a real `tiyan predict train`
and `tiyan predict score`: a CX manager opens the worklist and a customer (phone and e-mail in
full), in Chinese and English; an analyst sees the same customer with personal data masked."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.browser.conftest import screenshot, sign_in
from tests.demo_db import TIYAN

PHONE = re.compile(r"^1\d{2} \d{4} \d{4}$")  # a mainland mobile as Chinese writes it


@pytest.fixture(scope="module")
def scored(demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Train and score the churn model on the demo (the model file in a temporary folder)."""
    env = {**os.environ, "TIYAN_DATA_DIR": str(tmp_path_factory.mktemp("models"))}
    for command in ("train", "score"):
        done = subprocess.run([TIYAN, "predict", command, "--db", demo_db_url], env=env,
                              capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, done.stderr
    return demo_db_url


def test_a_cx_manager_works_the_at_risk_list_and_sees_a_customer_in_full(
        page, scored) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "cx@demo.tiyan.dev")
    page.goto("/customers/at-risk?lang=zh-CN")
    assert page.get_by_role("heading", name="高流失风险客户").is_visible()
    hint = page.get_by_test_id("at-risk-hint").inner_text()
    assert re.search(r"不低于\d+%", hint)
    rows = page.locator("[data-testid=at-risk] tbody tr")
    assert rows.count() >= 5
    threshold = int(re.search(r"(\d+)%", hint).group(1))  # type: ignore[union-attr]
    risks = [int(x.rstrip("%")) for x in
             page.locator("[data-testid=at-risk] tbody td:nth-child(4)").all_inner_texts()]
    assert min(risks) >= threshold - 1  # shown rounded
    segments = page.locator("[data-testid=at-risk] tbody td:nth-child(3)").all_inner_texts()
    assert not [s for s in segments if re.fullmatch(r"[a-z_ ]+", s)], segments  # names
    definition = page.get_by_test_id("churn-definition").inner_text()
    assert re.search(r"汽车售后：超过\d+天未到店即视为流失", definition), definition
    assert "基准流失率" in definition
    screenshot(page, "at-risk-zh")

    rows.first.locator("a").click()
    page.wait_for_url("**/customers/*")
    assert page.get_by_role("heading", name="流失风险").is_visible()
    assert page.get_by_test_id("risk-probability").inner_text().endswith("%")
    assert page.locator("[data-testid=reasons] li").count() >= 1
    assert page.get_by_role("heading", name="建议的下一步行动").is_visible()
    phone = page.get_by_test_id("identity-phone").inner_text()
    assert PHONE.match(phone), phone
    assert "*" not in page.get_by_test_id("customer-name").inner_text()
    assert page.locator("[data-testid=transactions] tbody tr").count() >= 1
    screenshot(page, "customer360-zh")

    page.get_by_role("link", name="English").click()
    page.get_by_role("heading", name="Churn risk").wait_for()  # the link navigates
    assert page.get_by_test_id("actions").is_visible()
    actions = page.get_by_test_id("actions").inner_text()
    assert "expected value kept" not in actions or "assumed uplift (not measured)" in actions
    assert page.get_by_test_id("identity-phone").inner_text() == "+86 " + phone  # international
    screenshot(page, "customer360-en")


def test_an_analyst_sees_the_customer_with_personal_data_masked(
        browser, server, scored) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                  locale="en-US")
    cx = context.new_page()
    sign_in_en(cx, "cx@demo.tiyan.dev")
    cx.goto("/customers/at-risk")
    first = cx.locator("[data-testid=at-risk] tbody tr").first
    assert first.evaluate("row => getComputedStyle(row).display") == "grid"  # a card
    assert cx.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(cx, "at-risk-phone-en")
    href = cx.locator("[data-testid=at-risk] tbody tr a").first.get_attribute("href")
    cx.goto(str(href))
    full_phone = cx.get_by_test_id("identity-phone").inner_text()
    context.close()  # a fresh context for the analyst

    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=server,
                                  locale="en-US")
    analyst = context.new_page()
    sign_in_en(analyst, "analyst@demo.tiyan.dev")
    analyst.goto(str(href))
    assert analyst.get_by_role("heading", name="Churn risk").is_visible()
    masked = analyst.get_by_test_id("identity-phone").inner_text()
    assert masked != full_phone and "****" in masked and masked[-4:] == full_phone[-4:]
    assert "*" in analyst.get_by_test_id("customer-name").inner_text()
    assert analyst.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(analyst, "customer360-analyst-phone-en")
    context.close()


def sign_in_en(page, email: str) -> None:  # type: ignore[no-untyped-def]
    from tiyan.demo.spec import DEMO_PASSWORD

    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

