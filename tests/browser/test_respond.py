"""A respondent on a phone answers through an anonymous link or QR code, in a real chromium."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.browser.conftest import screenshot
from tests.integration.test_respond import LOGIC_SURVEY
from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.surveys import insert_survey

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def demo(demo_db_url: str) -> Iterator[dict[str, object]]:
    """A survey with display and skip logic added to the demo database, and two stores."""
    db = Database(demo_db_url)
    ctx = Context(db, load_settings(db_url=demo_db_url, worker_in_app=False))
    with db.write() as conn:
        stores = [r.id for r in conn.execute(sa.select(t.org_unit.c.id).where(
            t.org_unit.c.kind == "store").order_by(t.org_unit.c.id).limit(2))]
        root = conn.execute(sa.select(t.org_unit.c.id).where(
            t.org_unit.c.parent_id.is_(None)).order_by(t.org_unit.c.id)).scalars().first()
        survey_id, _ = insert_survey(conn, code=f"respond-{secrets.token_hex(3)}", name="Respond",
                                     unit_id=root, definition=parse_definition(LOGIC_SURVEY),
                                     now=ctx.now(), created_by=None)
    yield {"ctx": ctx, "db": db, "survey": survey_id, "stores": stores}
    db.dispose()


@pytest.fixture
def phone(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, base_url=server, locale="zh-CN",
                                  is_mobile=True, has_touch=True)
    yield context
    context.close()


def link(demo: dict[str, object], store_index: int = 0) -> str:
    ctx = demo["ctx"]
    assert isinstance(ctx, Context)
    stores = demo["stores"]
    assert isinstance(stores, list)
    url = anonymous_url(ctx, AnonymousTarget(int(demo["survey"]), stores[store_index]))  # type: ignore[call-overload]
    return "/s/" + url.rsplit("/", 1)[1]


def responses_of(demo: dict[str, object], sid: str) -> list[sa.Row]:  # type: ignore[type-arg]
    db = demo["db"]
    assert isinstance(db, Database)
    with db.read() as conn:
        return list(conn.execute(sa.select(t.response).where(
            t.response.c.idempotency_key == f"session:{sid}")))


def test_display_logic_resume_and_a_double_click_give_one_response(phone, demo):
    tab = phone.new_page()
    tab.goto(link(demo))
    why = tab.locator("#q-why")
    assert tab.get_by_text("推荐?").is_visible() and not why.is_visible()
    tab.locator("#q-nps label").filter(has_text="3").first.click()
    assert why.is_visible()  # shown without a reload
    tab.get_by_label("哪里不好?").fill("排队太久 🐢 too long")
    tab.locator("#q-nps label").filter(has_text="9").click()
    assert not why.is_visible()
    tab.locator("#q-nps label").filter(has_text="4").click()
    sid = tab.locator('input[name="sid"]').input_value()
    screenshot(tab, "respond-phone-page1")
    tab.get_by_role("button", name="下一页").click()
    tab.wait_for_selector("text=您打了 4 分")
    tab.close()

    # The respondent closes the tab and comes back later: page 2 again, answers kept.
    again = phone.new_page()
    again.goto(link(demo))
    assert again.get_by_text("您打了 4 分, 改进什么?").is_visible()
    again.get_by_label("价格").check()
    again.get_by_role("button", name="下一页").click()
    again.wait_for_selector("text=再来?")
    again.locator("#q-again label").filter(has_text="是").click()
    again.get_by_role("button", name="提交").dblclick()
    again.wait_for_selector("text=感谢您的反馈")
    screenshot(again, "respond-phone-thanks")
    stored = responses_of(demo, sid)
    assert len(stored) == 1 and stored[0].channel == "link"


def test_double_submission_without_javascript_stores_one_response(browser, server, demo):
    context = browser.new_context(viewport=PHONE, base_url=server, locale="en-US",
                                  java_script_enabled=False)
    tab = context.new_page()
    tab.goto(link(demo))
    tab.locator("#q-nps label").filter(has_text="10").click()
    sid = tab.locator('input[name="sid"]').input_value()
    tab.get_by_role("button", name="Next").click()
    tab.wait_for_selector("text=Again?")
    tab.locator("#q-again label").filter(has_text="No").click()
    submit = tab.get_by_role("button", name="Submit")
    submit.click(click_count=2, no_wait_after=True)
    tab.wait_for_selector("text=Thank you")
    assert len(responses_of(demo, sid)) == 1
    context.close()


def test_the_qr_link_records_the_store_it_was_printed_for(phone, demo):
    tab = phone.new_page()
    tab.goto(link(demo, 1) + "?c=qr&lang=en")
    assert tab.get_by_text("Recommend us?").is_visible()
    tab.get_by_role("link", name="中文").click()
    tab.get_by_text("推荐?").wait_for()  # the link navigates
    tab.locator("#q-nps label").filter(has_text="10").click()
    sid = tab.locator('input[name="sid"]').input_value()
    tab.get_by_role("button", name="下一页").click()
    tab.wait_for_selector("text=再来?")
    tab.get_by_role("button", name="提交").click()
    tab.wait_for_selector("text=感谢您的反馈")
    stored = responses_of(demo, sid)
    stores = demo["stores"]
    assert isinstance(stores, list)
    assert [(r.unit_id, r.channel) for r in stored] == [(stores[1], "qr")]
