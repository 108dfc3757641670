"""Anonymous links in chromium, in both languages, on a laptop and a 390 px phone: a respondent
answers page 1, goes back with the browser's button and resumes the same response; after the
thank-you page, back shows "already answered" instead of a fresh survey, and a second answer
from the same phone gets the polite page; the CX manager finds it in the flagged list, with its
reason, and restores it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.browser.conftest import screenshot, sign_in
from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.services.links import AnonymousTarget, anonymous_url
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database
from tiyan.store.surveys import insert_survey

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
SURVEY = {
    "title": {"zh-CN": "到店体验", "en": "Your visit"},
    "questions": [
        {"key": "nps", "type": "nps", "item_code": "nps", "required": True,
         "text": {"zh-CN": "您有多大可能向朋友推荐我们?",
                  "en": "How likely are you to recommend us?"}},
        {"key": "again", "type": "yesno", "page": 2, "required": True,
         "text": {"zh-CN": "您还会再来吗?", "en": "Would you come again?"}},
    ],
}
WORDS = {
    "zh-CN": {"next": "下一页", "submit": "提交", "thanks": "感谢您的反馈！", "yes": "是",
              "answered": "感谢您，我们已收到您的回答", "nps": "您有多大可能向朋友推荐我们?",
              "again": "您还会再来吗?", "flagged": "被标记的回答", "reason": "同一设备已回答过",
              "restore": "恢复", "restored": "该回答已恢复，计入所有指标。"},
    "en": {"next": "Next", "submit": "Submit", "thanks": "Thank you!",
           "yes": "Yes", "answered": "Thank you, we already have your answer",
           "nps": "How likely are you to recommend us?", "again": "Would you come again?",
           "flagged": "Flagged answers", "reason": "same device answered already",
           "restore": "Restore", "restored": "The answer is restored and counts in every figure."},
}


@pytest.fixture(scope="module")
def demo(demo_db_url: str) -> Iterator[dict[str, object]]:
    """A two-page survey at the demo's top unit, answered through a store of the car group."""
    db = Database(demo_db_url)
    ctx = Context(db, load_settings(db_url=demo_db_url, worker_in_app=False))
    with db.write() as conn:
        store = conn.execute(sa.select(t.org_unit.c.id).where(
            t.org_unit.c.code == "gz-tianhe")).scalar_one()
        root = conn.execute(sa.select(t.org_unit.c.id).where(
            t.org_unit.c.parent_id.is_(None)).order_by(t.org_unit.c.id)).scalars().first()
        code = f"guard-{secrets.token_hex(3)}"
        survey_id, _ = insert_survey(conn, code=code, name="Guard", unit_id=root,
                                     definition=parse_definition(SURVEY), now=ctx.now(),
                                     created_by=None)
    url = anonymous_url(ctx, AnonymousTarget(survey_id, store))
    yield {"db": db, "link": "/s/" + url.rsplit("/", 1)[1], "code": code, "survey": survey_id}
    db.dispose()


def statuses(demo: dict[str, object]) -> list[tuple[str, str | None]]:
    db = demo["db"]
    assert isinstance(db, Database)
    with db.read() as conn:
        return [(r.status, r.flag_reasons) for r in conn.execute(
            sa.select(t.response.c.status, t.response.c.flag_reasons)
            .where(t.response.c.survey_id == demo["survey"]).order_by(t.response.c.id))]


def sessions(demo: dict[str, object]) -> int:
    db = demo["db"]
    assert isinstance(db, Database)
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.survey_session).where(
            t.survey_session.c.survey_id == demo["survey"])).scalar_one())


@pytest.mark.parametrize("lang,viewport,name", [("zh-CN", PHONE, "phone-zh"),
                                                ("en", LAPTOP, "laptop-en"),
                                                ("en", PHONE, "phone-en"),
                                                ("zh-CN", LAPTOP, "laptop-zh")])
def test_back_resumes_the_response_and_a_second_answer_is_flagged_politely(
        browser, server, demo, lang, viewport, name):
    words = WORDS[lang]
    before = statuses(demo)
    # each run is another phone: its own browser (user agent), so only its own answers count
    context = browser.new_context(viewport=viewport, base_url=server, locale=lang,
                                  user_agent=f"guard-test {name}",
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    tab = context.new_page()
    try:
        tab.goto(str(demo["link"]))
        assert tab.get_by_text(words["nps"]).is_visible()
        tab.locator("#q-nps label").filter(has_text="9").click()
        sid = tab.locator('input[name="sid"]').input_value()
        tab.get_by_role("button", name=words["next"]).click()
        tab.wait_for_selector(f"text={words['again']}")
        tab.go_back()  # the browser's own back button
        tab.wait_for_selector(f"text={words['nps']}")
        assert tab.locator('#q-nps input[value="9"]').is_checked()  # the answer is kept
        assert tab.locator('input[name="sid"]').input_value() == sid  # the same response
        screenshot(tab, f"guard-back-{name}")
        tab.get_by_role("button", name=words["next"]).click()
        tab.wait_for_selector(f"text={words['again']}")
        tab.reload()  # a reload resumes the same page too
        tab.wait_for_selector(f"text={words['again']}")
        tab.locator("#q-again label").filter(has_text=words["yes"]).click()
        tab.get_by_role("button", name=words["submit"]).click()
        tab.wait_for_selector(f"text={words['thanks']}")
        tab.go_back()  # after the thank-you page: answered, not a fresh survey
        tab.wait_for_selector(f"text={words['answered']}")
        assert tab.locator("form").count() == 0
        assert tab.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(tab, f"guard-answered-{name}")
        assert statuses(demo)[len(before):] == [("complete", None)]

        # The same phone loses its session cookie and answers once more: stored, flagged,
        # and the respondent is told politely.
        context.clear_cookies(name="tiyan_sid")
        tab.goto(str(demo["link"]))
        tab.wait_for_selector(f"text={words['answered']}")  # the device cookie is still there
        context.clear_cookies()
        tab.goto(str(demo["link"]))  # no cookie at all: the same network and browser
        tab.locator("#q-nps label").filter(has_text="10").click()
        tab.get_by_role("button", name=words["next"]).click()
        tab.locator("#q-again label").filter(has_text=words["yes"]).click()
        tab.get_by_role("button", name=words["submit"]).click()
        tab.wait_for_selector(f"text={words['thanks']}")  # a stranger on the same Wi-Fi, maybe
        assert statuses(demo)[len(before):] == [("complete", None), ("flagged", "network")]
    finally:
        context.close()
    assert sessions(demo) == len(statuses(demo))  # the back button started no other session


def test_a_second_answer_with_the_device_cookie_sees_the_polite_page(browser, server, demo):
    before = len(statuses(demo))
    for lang, viewport in (("zh-CN", PHONE), ("en", LAPTOP)):
        words = WORDS[lang]
        context = browser.new_context(viewport=viewport, base_url=server, locale=lang,
                                      user_agent=f"guard-cookie {lang}")
        tab = context.new_page()
        try:
            for score in ("8", "10"):
                tab.goto(str(demo["link"]))
                if score == "10":  # answered already: a new session from the same device
                    tab.wait_for_selector(f"text={words['answered']}")
                    context.clear_cookies(name="tiyan_sid")
                    # a form saved in another tab before the first answer was sent
                    tab.goto(str(demo["link"]) + "?p=1")
                    tab.wait_for_selector(f"text={words['answered']}")
                    break
                tab.locator("#q-nps label").filter(has_text=score).click()
                tab.get_by_role("button", name=words["next"]).click()
                tab.locator("#q-again label").filter(has_text=words["yes"]).click()
                tab.get_by_role("button", name=words["submit"]).click()
                tab.wait_for_selector(f"text={words['thanks']}")
            # a script posting both pages with the device cookie: stored, flagged, told so
            said = {"accept-language": lang}
            tab.request.post(str(demo["link"]), form={"page": "1", "a.nps": "10"}, headers=said)
            reply = tab.request.post(str(demo["link"]), form={"page": "2", "a.again": "yes"},
                                     headers=said)
            assert reply.status == 200 and words["answered"] in reply.text()
        finally:
            context.close()
    got = statuses(demo)[before:]
    assert [s for s, _ in got] == ["complete", "flagged", "complete", "flagged"]
    assert [r for _, r in got if r] == ["device", "device"]


def test_the_cx_manager_sees_the_flagged_answers_and_restores_one(page, demo):
    flagged_before = [s for s in statuses(demo) if s[0] == "flagged"]
    assert flagged_before, "the respondent tests run first"
    sign_in(page, "cx@demo.tiyan.dev")
    for lang, viewport in (("zh-CN", LAPTOP), ("en", PHONE)):
        words = WORDS[lang]
        page.set_viewport_size(viewport)
        page.goto(f"/surveys/{demo['code']}/links?unit=gz-tianhe&lang={lang}")
        assert page.locator("#guard-device_limit").input_value() == "1"
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"guard-links-{lang}-{viewport['width']}")
        page.locator("#link-guard a.button").click()
        page.wait_for_url("**/flagged-responses?survey=*")
        assert page.get_by_role("heading", name=words["flagged"]).is_visible()
        rows = page.locator("#flagged-rows tbody tr")
        assert rows.count() == len([s for s in statuses(demo) if s[0] == "flagged"])
        assert words["reason"] in page.locator("#flagged-rows").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        screenshot(page, f"guard-flagged-{lang}-{viewport['width']}")
        rows.first.get_by_role("button", name=words["restore"]).click()
        page.wait_for_selector("#done")
        assert page.locator("#done").inner_text() == words["restored"]
    assert len([s for s in statuses(demo) if s[0] == "flagged"]) == len(flagged_before) - 2
    page.goto("/flagged-responses?state=restored&lang=zh-CN")
    assert page.locator("#flagged-rows tbody tr").count() >= 2
    assert "已计入（已恢复）" in page.locator("#flagged-rows").inner_text()
