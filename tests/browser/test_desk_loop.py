"""The loop at the desk from the alert on (issue 16), in a real browser on the demo: an invited
customer answers the after-sales survey on their phone as a detractor; the demo's rule opens a
case with a callback (the app's own worker); the agent finds it on the callbacks worklist by
its unit, reads why (score, comment), opens the case, reads the complaint in words, acknowledges,
shows the phone (audited), logs the reached call with the customer recovered and resolves; the
call is on the worklist's done tab, and the customer is found again by their phone written
another way. In Chinese on a laptop and in English on a 390 px phone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.browser.conftest import screenshot, sign_in
from tiyan.context import Context
from tiyan.services.links import invitation_url
from tiyan.settings import load_settings
from tiyan.store import tables as t
from tiyan.store.db import Database

COMMENT = "等了两个小时才交车，收费还比报价贵，顾问态度也很差"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def demo(demo_db_url: str) -> Iterator[tuple[Database, Context]]:
    db = Database(demo_db_url)
    yield db, Context(db, load_settings(db_url=demo_db_url, worker_in_app=False))
    db.dispose()


def invited_car_customer(db: Database, ctx: Context, taken: set[str]) -> tuple[str, str]:
    """A sent, unexpired after-sales invitation of a car customer with a phone: (link, unit)."""
    Inv, S, CI = t.invitation, t.survey, t.customer_identity
    with db.read() as conn:
        rows = conn.execute(
            sa.select(Inv.c.public_id, Inv.c.expires_at, t.org_unit.c.code)
            .join(S, S.c.id == Inv.c.survey_id)
            .join(t.org_unit, t.org_unit.c.id == Inv.c.unit_id)
            .join(CI, sa.and_(CI.c.customer_id == Inv.c.customer_id, CI.c.kind == "phone"))
            .where(S.c.code == "after-sales", Inv.c.status == "sent",
                   Inv.c.expires_at > ctx.now())
            .order_by(Inv.c.id.desc())).all()
    public_id, expires, unit = next(r for r in rows if r.public_id not in taken)
    taken.add(public_id)
    return "/i/" + invitation_url(ctx, public_id, expires).rsplit("/", 1)[1], unit


TAKEN: set[str] = set()


def answer_as_a_detractor(browser, server, link: str) -> None:  # type: ignore[no-untyped-def]
    """Every page of the survey: 'no' to the yes/no questions, 2 of 5, NPS 3, a comment."""
    phone = browser.new_context(viewport=PHONE, base_url=server, locale="zh-CN",
                                is_mobile=True, has_touch=True)
    tab = phone.new_page()
    try:
        tab.goto(link)
        for _ in range(6):  # the survey's pages
            questions = tab.locator("fieldset[id^=q-]")
            for k in range(questions.count()):
                question = questions.nth(k)
                values = [x.get_attribute("value")
                          for x in question.locator("input[type=radio]").all()]
                if not values:
                    continue
                want = "3" if question.get_attribute("id") == "q-nps" else (
                    "no" if "no" in values else "2")
                question.locator("label", has=tab.locator(f"input[value='{want}']")).click()
            if tab.locator("textarea").count():
                tab.locator("textarea").first.fill(COMMENT)
            last = tab.locator("form button[type=submit]").last
            done = last.inner_text().strip() == "提交"
            last.click()
            if done:
                break
        tab.get_by_text("感谢您的反馈").wait_for()
    finally:
        phone.close()


def case_opened_for(db: Database, unit: str, since: int) -> str:
    """The case the rule opened on a response newer than `since` at the unit (the app's worker
    analyses the comment, then runs the rules)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with db.read() as conn:
            found = conn.execute(
                sa.select(t.cx_case.c.public_id)
                .join(t.callback_task, t.callback_task.c.case_id == t.cx_case.c.id)
                .join(t.org_unit, t.org_unit.c.id == t.cx_case.c.unit_id)
                .where(t.cx_case.c.response_id > since, t.org_unit.c.code == unit)).scalar()
        if found:
            return str(found)
        time.sleep(0.5)
    raise AssertionError("no case with a callback was opened")


def newest_response(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.select(sa.func.max(t.response.c.id))).scalar_one())


WORDS = {
    "zh-CN": {"callbacks": "回访", "unit": "组织单元", "filter": "筛选",
              "complaint": "客户反馈内容", "ack": "确认受理", "reveal": "显示号码以便拨打",
              "outcome": "通话结果",
              "recovered_q": "是否挽回？", "said": "客户反馈", "log": "记录本次通话",
              "resolve": "标记已解决", "no": "否", "negative": "负面", "recovered": "已挽回",
              "reached": "已联系到", "done": "已完成", "note": "已致歉并预约免费复检"},
    "en": {"callbacks": "Callbacks", "unit": "Unit", "filter": "Filter",
           "complaint": "The complaint", "ack": "Acknowledge", "reveal": "Show phone to call",
           "outcome": "Call outcome", "recovered_q": "Recovered?",
           "said": "What the customer said", "log": "Log the call", "resolve": "Resolve",
           "no": "No", "negative": "Negative", "recovered": "recovered", "reached": "reached",
           "done": "Done", "note": "Apologised, free re-check booked"},
}


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"))


@pytest.mark.parametrize(("locale", "viewport"), [("zh-CN", LAPTOP), ("en", PHONE)],
                         ids=["zh-CN-laptop", "en-phone"])
def test_a_detractors_answer_becomes_a_case_the_agent_recovers(
        browser, server, demo, locale, viewport):  # type: ignore[no-untyped-def]
    db, ctx = demo
    w = WORDS[locale]
    link, unit = invited_car_customer(db, ctx, TAKEN)
    since = newest_response(db)
    answer_as_a_detractor(browser, server, link)
    case = case_opened_for(db, unit, since)

    context = browser.new_context(viewport=viewport, base_url=server, locale=locale)
    page = context.new_page()
    try:
        sign_in(page, "agent@demo.tiyan.dev")
        page.goto(f"/callbacks?lang={locale}")
        page.get_by_role("heading", name=w["callbacks"]).wait_for()
        page.locator("#cb-unit").select_option(unit)
        page.get_by_role("button", name=w["filter"], exact=True).click()
        page.wait_for_url(f"**unit={unit}**")
        row = page.locator("#callback-rows tbody tr").filter(
            has=page.locator(f'a[href="/cases/{case}"]'))
        text = row.inner_text()
        assert "****" in text and COMMENT[:10] in text  # whom (masked) and why
        assert row.locator(".score").inner_text().strip() == "3"
        assert fits(page)
        screenshot(page, f"desk-loop-callbacks-{locale}")

        row.locator(f'a[href="/cases/{case}"]').click()
        page.get_by_role("heading", name=w["complaint"]).wait_for()
        answers = page.locator("#complaint-answers").inner_text()
        assert "2 / 5" in answers and "3 / 10" in answers and w["no"] in answers
        assert "proc_" not in answers and "sat_" not in answers
        complaint = page.locator("#complaint").inner_text()
        assert COMMENT[:10] in complaint and w["negative"] in complaint
        assert "****" in page.locator("#customer-phone").inner_text()
        page.get_by_role("button", name=w["ack"], exact=True).click()
        page.locator(".status-acknowledged").first.wait_for()
        page.get_by_role("button", name=w["reveal"]).click()
        page.locator("#call-customer").wait_for()
        phone = page.locator("#customer-phone").inner_text().strip()
        assert "****" not in phone
        customer = page.locator("#customer-name a").get_attribute("href")
        page.get_by_label(w["outcome"]).select_option("reached")
        page.get_by_label(w["recovered_q"]).select_option("yes")
        page.locator("#call-satisfaction").fill("8")
        page.get_by_label(w["said"], exact=True).fill(w["note"])
        page.get_by_role("button", name=w["log"], exact=True).click()
        page.locator("#case-history").get_by_text(w["note"]).wait_for()
        page.get_by_role("button", name=w["resolve"], exact=True).click()
        page.locator(".status-resolved").first.wait_for()
        history = page.locator("#case-history").inner_text()
        assert w["recovered"] in history and w["reached"] in history and "8/10" in history
        states = page.locator("#sla-timers [data-timer-state]")
        assert states.count() == 3
        for k in range(states.count()):  # every clock's state readable, none clipped
            box, card = states.nth(k).bounding_box(), page.locator("#sla-timers").bounding_box()
            assert box and card and box["x"] + box["width"] <= card["x"] + card["width"] + 1
        assert fits(page)
        screenshot(page, f"desk-loop-case-{locale}")

        page.goto(f"/callbacks?status=done&unit={unit}")
        done = page.locator("#callback-rows tbody tr").filter(
            has=page.locator(f'a[href="/cases/{case}"]'))
        calls = done.inner_text()
        assert w["reached"] in calls and w["recovered"] in calls and "8/10" in calls
        screenshot(page, f"desk-loop-done-{locale}")

        # the customer calls back later: found by their phone however it is written
        digits = phone.replace(" ", "").removeprefix("+86")
        typed = (f"{digits[:3]}-{digits[3:7]}-{digits[7:]}" if locale == "zh-CN"
                 else f"+86 {digits}")
        page.goto(f"/customers?lang={locale}")
        page.locator("#customer-q").fill(typed)
        page.locator("#customer-search button[type=submit]").click()
        page.wait_for_url("**q=**")
        found = page.locator('[data-testid="customers"] tbody tr')
        assert found.count() == 1 and found.locator("a").get_attribute("href") == customer
        assert fits(page)
        screenshot(page, f"desk-loop-search-{locale}")
        with db.read() as conn:
            reveals = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log).where(
                t.audit_log.c.action == "reveal_phone",
                t.audit_log.c.entity_id == case)).scalar_one()
        assert reveals == 1
    finally:
        context.close()
