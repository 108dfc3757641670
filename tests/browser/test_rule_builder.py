"""Alert rules built without JSON in chromium, in both languages, on a laptop and a 390 px
phone: rows added with the buttons, a field changed (the row redraws), a wrong value named at
its field, the preview with examples, save; then a respondent's answer that meets both rules
opens one case that lists both."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.browser.conftest import htmx_settled, screenshot, sign_in
from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.surveys import insert_survey

PHONE = {"width": 390, "height": 844}
SURVEY = {
    "title": {"zh-CN": "到店回访", "en": "Visit follow-up"},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-CN": "您有多大可能推荐我们?", "en": "How likely are you to recommend us?"}},
        {"key": "reason", "type": "single", "required": True,
         "text": {"zh-CN": "最不满意的是?", "en": "What disappointed you most?"},
         "options": [{"code": "wait", "text": {"zh-CN": "等待时间", "en": "Waiting"}},
                     {"code": "price", "text": {"zh-CN": "价格", "en": "Price"}}]},
        {"key": "comment", "type": "text",
         "text": {"zh-CN": "还想说什么?", "en": "Anything else?"}},
    ],
}


@pytest.fixture(scope="module")
def demo(demo_db_url: str) -> Iterator[dict[str, object]]:
    db = Database(demo_db_url)
    ctx = Context(db, load_settings(db_url=demo_db_url, worker_in_app=False))
    code = f"rules-{secrets.token_hex(3)}"
    with db.write() as conn:
        root = conn.execute(sa.select(t.org_unit.c.id).where(
            t.org_unit.c.parent_id.is_(None)).order_by(t.org_unit.c.id)).scalars().first()
        store = conn.execute(sa.select(t.org_unit.c.id).where(
            t.org_unit.c.kind == "store").order_by(t.org_unit.c.id)).scalars().first()
        survey_id, _ = insert_survey(conn, code=code, name=f"回访 {code}", unit_id=root,
                                     definition=parse_definition(SURVEY), now=ctx.now(),
                                     created_by=None)
    url = anonymous_url(ctx, AnonymousTarget(survey_id, store))
    yield {"db": db, "code": code, "survey": survey_id, "link": "/s/" + url.rsplit("/", 1)[1]}
    db.dispose()


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_two_rules_built_in_the_browser_open_one_case_listing_both(browser, server, page, demo):
    tag = str(demo["code"])[-6:]
    sign_in(page, "admin@demo.tiyan.dev")
    # rule A, in Chinese on a laptop: detractors, with the preview
    page.goto("/alert-rules?lang=zh-CN")
    page.locator("#new-rule").click()
    page.get_by_role("heading", name="新建预警规则").wait_for()
    htmx_settled(page)
    page.get_by_label("名称").fill(f"贬损者 {tag}")
    page.get_by_label("值").first.fill("六")
    page.locator("#save-button").click()
    page.locator("#err-g0-r0-value").wait_for()
    htmx_settled(page)
    assert page.locator("#err-g0-r0-value").inner_text() == "请输入数字。"
    page.get_by_label("值").first.fill("6")
    page.locator("#preview-button").click()
    page.locator("#preview-count").wait_for()
    assert "会命中" in page.locator("#preview-count").inner_text()
    assert page.locator("#preview ul.examples li").count() >= 1
    screenshot(page, "rule-builder-preview-zh")
    page.locator("#save-button").click()
    page.wait_for_url("**/alert-rules?saved=1")
    assert f"贬损者 {tag}" in page.locator("#rule-rows").inner_text()
    assert "不高于 6" in page.locator("#rule-rows").inner_text()  # words, no JSON
    screenshot(page, "rule-list-zh")

    # rule B, in English on a phone: keywords and a choice answer, only this survey
    page.set_viewport_size(PHONE)
    page.goto("/alert-rules/new?lang=en")
    page.get_by_label("Name").fill(f"Refund over price {tag}")
    page.locator("#g0-r0-field").select_option("keywords")
    page.locator("#g0-r0-value[placeholder]").wait_for()  # the row redrew itself (htmx)
    htmx_settled(page)
    page.locator("#g0-r0-value").fill("退款, refund")
    page.get_by_role("button", name="+ Condition").click()
    page.locator("#g0-r1-field").wait_for()
    htmx_settled(page)
    page.locator("#g0-r1-field").select_option("choice")
    page.locator("#g0-r1-item").wait_for()
    htmx_settled(page)
    page.locator("#g0-r1-item").select_option("reason")
    page.locator("#row-0-1 .options").wait_for()  # the question's options, by label
    htmx_settled(page)
    page.locator("#row-0-1").get_by_label("Price").check()
    page.locator("details.pick summary").first.click()
    page.get_by_label(f"回访 {demo['code']}").check()
    page.locator("#preview-button").click()
    page.locator("#preview-count").wait_for()
    assert "Would have matched 0 of 0 responses" in page.locator("#preview-count").inner_text()
    _fits(page)
    screenshot(page, "rule-builder-phone-en")
    page.locator("#save-button").click()
    page.wait_for_url("**/alert-rules?saved=1")
    _fits(page)
    screenshot(page, "rule-list-phone-en")

    # the respondent: a detractor who chose the price and asks for a refund
    phone = browser.new_context(viewport=PHONE, base_url=server, locale="zh-CN",
                                is_mobile=True, has_touch=True)
    tab = phone.new_page()
    tab.goto(str(demo["link"]))
    tab.locator("#q-nps label").filter(has_text="2").first.click()
    tab.get_by_label("价格").check()
    tab.get_by_label("还想说什么?").fill("等了一个小时，价格还贵，我要退款")
    tab.get_by_role("button", name="提交").click()
    tab.wait_for_selector("text=感谢您的反馈")
    phone.close()

    db = demo["db"]
    assert isinstance(db, Database)
    case = None
    deadline = time.monotonic() + 90  # the app's worker analyses the comment, then the rules
    while case is None and time.monotonic() < deadline:
        with db.read() as conn:
            case = conn.execute(sa.select(t.cx_case.c.public_id).join(
                t.response, t.response.c.id == t.cx_case.c.response_id).where(
                t.response.c.survey_id == demo["survey"])).scalar()
        time.sleep(0.5)
    assert case is not None, "no case was opened"
    with db.read() as conn:
        cases = conn.execute(sa.select(sa.func.count()).select_from(t.cx_case).join(
            t.response, t.response.c.id == t.cx_case.c.response_id).where(
            t.response.c.survey_id == demo["survey"])).scalar_one()
    assert cases == 1
    page.goto(f"/cases/{case}?lang=en")
    listed = page.locator("#case-rules").inner_text()
    assert "rules matched" in listed and f"贬损者 {tag}" in listed \
        and f"Refund over price {tag}" in listed
    _fits(page)
    screenshot(page, "rule-case-phone-en")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/cases/{case}?lang=zh-CN")
    assert "命中" in page.locator("#case-rules").inner_text()
    screenshot(page, "rule-case-zh")
