"""Escalation to the top with a fake clock, seen in the browser: a detractor's case that nobody
handles climbs one step per overdue timer (the CX manager, then the administrators), each told
by e-mail over real SMTP, and the case's history says whom each step told, in Chinese on a laptop
and in English on a 390 px phone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import conftest as shared
from tests.browser.conftest import running_server, screenshot
from tests.integration.closed_loop_fixtures import Mailbox, smtp  # noqa: F401 - the fixture
from tests.integration.test_closed_loop import add_detractor_rule, cases_by_unit, use_smtp
from tests.world import PASSWORD, build_world
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.store import cases as store
from tiyan.store.db import Database
from tiyan.store.migrate import upgrade


@pytest.fixture
def escalated(tmp_path: Path, smtp: Mailbox) -> Iterator[tuple[str, str]]:  # noqa: F811
    """A fixture world on its own SQLite file whose n1-as detractor case ran out of all its
    timers four days after it opened; the server's address and the case's id."""
    url = f"sqlite:///{tmp_path / 'tiyan.db'}"
    db = Database(url)
    upgrade(db)
    ctx = Context(db, shared.test_settings(url), shared.Clock())
    use_smtp(ctx, smtp.port)
    world = build_world(ctx)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    case = cases_by_unit(ctx, world)["n1-as"]
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]  # nobody acknowledged, called, closed
    jobs.run_until_idle(ctx)
    with db.read() as conn:
        levels = [e.detail["level"] for e in store.events_of(conn, case.id)
                  if e.kind == "escalated"]
        assert conn.execute(sa.text("SELECT count(*) FROM case_timer WHERE case_id = :c AND "
                                    "breached_at IS NOT NULL"), {"c": case.id}).scalar() == 3
    db.dispose()
    assert levels == [1, 2, 3]
    # each step told one step further up: the CX manager, then the administrators (the top)
    assert any("工单已升级" in str(m["Subject"]) for m in smtp.to("cx@t.test"))
    assert any("工单已升级" in str(m["Subject"]) for m in smtp.to("admin@t.test"))
    previous = os.environ.get("TIYAN_WORKER_IN_APP")
    os.environ["TIYAN_WORKER_IN_APP"] = "false"  # the fake clock's work is done; nothing more
    try:
        with running_server(url, tmp_path / "serve.log") as base:
            yield base, case.public_id
    finally:
        if previous is None:
            os.environ.pop("TIYAN_WORKER_IN_APP", None)
        else:
            os.environ["TIYAN_WORKER_IN_APP"] = previous


def _sign_in(page, email: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/login?lang={lang}")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/")
    page.goto(f"/lang/{lang}?next=/")


def test_an_unhandled_case_climbs_to_the_top_and_its_history_says_whom_each_step_told(
        browser, escalated) -> None:  # type: ignore[no-untyped-def]
    base, case = escalated
    laptop = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base,
                                 locale="zh-CN")
    page = laptop.new_page()
    _sign_in(page, "cx@t.test", "zh-CN")
    page.goto(f"/cases/{case}")
    history = page.locator("#case-history tbody tr", has_text="超时升级")
    assert history.count() == 3
    steps = [history.nth(i).inner_text() for i in range(3)]
    assert "第 1 级" in steps[0] and "已通知 cx" in steps[0]
    assert "第 2 级" in steps[1] and "已通知 admin" in steps[1]
    assert "第 3 级" in steps[2] and "已通知 admin" in steps[2]   # the top, told again
    screenshot(page, "escalation-history-zh")
    laptop.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, base_url=base,
                                locale="en", is_mobile=True, has_touch=True)
    page = phone.new_page()
    _sign_in(page, "admin@t.test", "en")
    page.goto(f"/cases/{case}")
    history = page.locator("#case-history tbody tr", has_text="Escalated")
    assert history.count() == 3
    assert "level 3" in history.nth(2).inner_text()
    assert "told admin" in history.nth(2).inner_text()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the case page is {wide} px wide on a 390 px phone"
    screenshot(page, "escalation-history-en-phone")
    phone.close()
