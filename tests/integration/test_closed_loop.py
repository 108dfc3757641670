"""Closed loop end to end: alert rules → cases routed by role → e-mail to a real SMTP server →
callback → closed; scope, SLA escalation with a fake clock, retries when a channel is down."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.closed_loop_fixtures import Inbox, Mailbox, free_port, http_inbox, smtp
from tests.world import World
from tiyan.context import Context
from tiyan.errors import Conflict, InvalidInput, NotFound
from tiyan.services import jobs
from tiyan.services.alerts import RuleRequest, do_create_rule, evaluate_rules_for_response
from tiyan.services.callbacks import do_log_call, recovery_kpi, worklist
from tiyan.services.cases import (
    do_add_note,
    do_change_status,
    do_set_root_cause,
    escalate_overdue_cases,
)
from tiyan.services.notifications import do_set_preference
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import cases as store
from tiyan.store import tables as t

__all__ = ["http_inbox", "smtp"]
DETRACTOR = {"score": {"item": "nps", "op": "<=", "value": 6}}


def use_smtp(ctx: Context, port: int) -> None:
    ctx.settings = ctx.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})


def add_detractor_rule(ctx: Context, world: World, **action: object) -> str:
    return do_create_rule(ctx, world.actor("admin@t.test"), RuleRequest(
        name="贬损者 detractor", unit_code="hq", condition=DETRACTOR,
        action={"kind": "both", "callback": True, **action}))


def submit(ctx: Context, world: World, unit: str, staff: str, nps: int,
           comment: str = "ok") -> int:
    stored = do_submit_response(ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code=unit, staff_code=staff,
        answers={"nps": nps, "overall": 3, "comment": comment}, submitted_at=ctx.now()))
    with ctx.db.read() as conn:
        return int(conn.execute(sa.select(t.response.c.id).where(
            t.response.c.public_id == stored.public_id)).scalar_one())


def cases_by_unit(ctx: Context, world: World) -> dict[str, sa.RowMapping]:
    with ctx.db.read() as conn:
        rows = store.list_cases(conn, world.actor("admin@t.test"), store.CaseFilter())
    return {r.unit_code: r for r in rows}


def test_detractor_response_opens_a_case_for_the_store_manager_who_gets_an_email(
        ctx: Context, world: World, smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)  # the world's responses: text analysis, then the rules
    cases = cases_by_unit(ctx, world)
    # detractors in the world: n1-as (nps 3), n2 (6), s1 (2); promoters open nothing
    assert set(cases) == {"n1-as", "n2", "s1"}
    # n1-as has no unit manager: routed up to n1's manager; n2 has none up to hq: no owner
    assert cases["n1-as"].owner_email == "mgr.n1@t.test"
    assert cases["s1"].owner_email == "mgr.s1@t.test"
    assert cases["n2"].owner_email is None
    assert cases["n1-as"].status == "new"
    mails = smtp.to("mgr.n1@t.test")
    assert len(mails) == 1 and "贬损者" in str(mails[0]["Subject"])
    assert f"/cases/{cases['n1-as'].public_id}" in mails[0].get_payload(decode=True).decode()
    # each case is opened once, even when the rules run again
    response_id = int(cases["s1"].response_id)
    assert evaluate_rules_for_response(ctx, response_id) == []


def test_rules_evaluate_after_text_analysis_on_sentiment_keywords_and_scope(
        ctx: Context, world: World) -> None:
    jobs.run_until_idle(ctx)
    do_create_rule(ctx, world.actor("admin@t.test"), RuleRequest(
        name="refund", unit_code="south", condition={"keywords": ["退款"]},
        action={"kind": "case"}))
    north = submit(ctx, world, "n2", "n2-e1", 9, "我要退款")
    south = submit(ctx, world, "s1", "s1-e1", 9, "我要退款，太差了")
    jobs.run_until_idle(ctx)
    cases = cases_by_unit(ctx, world)
    assert cases["s1"].response_id == south  # the rule is set on south: only its subtree
    assert north not in {c.response_id for c in cases.values()}
    with ctx.db.read() as conn:  # evaluated after the analysis was stored
        analysed = conn.execute(sa.select(sa.func.count()).select_from(t.text_analysis)
                                .where(t.text_analysis.c.response_id == south)).scalar_one()
    assert analysed == 1


def test_repeat_complaint_by_the_same_customer(ctx: Context, world: World) -> None:
    with ctx.db.write() as conn:
        customer_id = conn.execute(sa.select(t.customer.c.id)).scalars().first()
    do_create_rule(ctx, world.actor("admin@t.test"), RuleRequest(
        name="again", unit_code="hq", action={"kind": "case"},
        condition={"all": [{"score": {"item": "nps", "value": 6}},
                           {"repeat_complaint": {"within_days": 30}}]}))
    do_create_rule(ctx, world.actor("admin@t.test"), RuleRequest(
        name="first", unit_code="hq", action={"kind": "case"}, condition=DETRACTOR))
    first = submit(ctx, world, "s1", "s1-e1", 2)
    second = submit(ctx, world, "s1", "s1-e1", 3)
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.response).where(t.response.c.id.in_([first, second]))
                     .values(customer_id=customer_id))
    evaluate_rules_for_response(ctx, first)
    ctx.clock.advance(days=2)  # type: ignore[attr-defined]
    evaluate_rules_for_response(ctx, second)
    with ctx.db.read() as conn:
        titles = {store.case_for_response(conn, rid).title for rid in (first, second)}  # type: ignore[union-attr]
    assert titles == {"first", "again"}


def test_store_manager_never_sees_another_stores_cases(ctx: Context, world: World) -> None:
    add_detractor_rule(ctx, world, kind="case")
    jobs.run_until_idle(ctx)
    s1_case = cases_by_unit(ctx, world)["s1"].public_id
    manager = world.actor("mgr.n1@t.test")
    with ctx.db.read() as conn:
        seen = store.list_cases(conn, manager, store.CaseFilter())
        assert {r.unit_code for r in seen} == {"n1-as"}
        with pytest.raises(NotFound):
            store.get_case(conn, manager, s1_case)
    with pytest.raises(NotFound):
        do_change_status(ctx, manager, s1_case, "acknowledged")


def test_status_workflow_notes_root_cause_and_history(ctx: Context, world: World) -> None:
    add_detractor_rule(ctx, world, kind="case")
    jobs.run_until_idle(ctx)
    case = cases_by_unit(ctx, world)["n1-as"].public_id
    manager = world.actor("mgr.n1@t.test")
    with pytest.raises(Conflict, match="a new case cannot become closed"):
        do_change_status(ctx, manager, case, "closed")
    with pytest.raises(InvalidInput) as err:
        do_change_status(ctx, manager, case, "done")
    assert err.value.where == "status"
    for status in ("acknowledged", "in_progress"):
        do_change_status(ctx, manager, case, status)
    do_add_note(ctx, manager, case, "已致电客户，约好周六返修")
    do_set_root_cause(ctx, manager, case, "wait_time")
    with pytest.raises(InvalidInput):
        do_set_root_cause(ctx, manager, case, "bad_luck")
    do_change_status(ctx, manager, case, "resolved")
    do_change_status(ctx, manager, case, "closed")
    assert do_change_status(ctx, manager, case, "in_progress") == "reopened"
    with ctx.db.read() as conn:
        row = store.get_case(conn, manager, case)
        events = [(e.kind, e.user_email) for e in store.events_of(conn, row.id)]
        timers = {x.kind: x.met_at for x in store.timers_of(conn, row.id)}
    assert events == [("opened", None)] + [(k, "mgr.n1@t.test") for k in (
        "acknowledged", "in_progress", "note", "root_cause", "resolved", "closed", "reopened")]
    assert row.root_cause == "wait_time" and row.closed_at is None and row.status == "in_progress"
    assert all(timers.values())


def test_sla_runs_out_in_working_hours_and_escalates_up_the_hierarchy(
        ctx: Context, world: World, smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    case = cases_by_unit(ctx, world)["n1-as"]
    with ctx.db.read() as conn:
        due = {x.kind: x.due_at for x in store.timers_of(conn, case.id)}
    # opened Friday 2026-11-20 18:00 Shanghai (10:00 UTC), after hours: 4 working hours end
    # Monday 13:00 Shanghai; first contact 24 h and close 72 h around the clock
    assert due["acknowledge"] == dt.datetime(2026, 11, 23, 5, tzinfo=dt.UTC)
    assert due["contact"] == ctx.now() + dt.timedelta(hours=24)
    ctx.clock.advance(hours=25)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)  # the contact timer's job is due; acknowledge not yet
    with ctx.db.read() as conn:
        events = [e for e in store.events_of(conn, case.id) if e.kind == "escalated"]
    assert [e.detail["timer"] for e in events] == ["contact"]
    # mgr.n1 owns it at n1; the next level up with a manager is north's CX manager
    assert len(smtp.to("cx@t.test")) >= 1
    assert "工单已升级" in str(smtp.to("cx@t.test")[0]["Subject"])
    assert escalate_overdue_cases(ctx) == 0  # escalated once per timer


def test_each_escalation_goes_one_step_up_the_hierarchy_to_the_top_and_tells_each(
        ctx: Context, world: World, smtp: Mailbox) -> None:
    """A store department's case owned by the store manager, with a region manager above: the
    three timers that run out climb to the region manager, the CX manager, then the
    administrators, each told by e-mail, and the history names each one (issue 16: a level-2
    escalation went to the same region manager again)."""
    from tiyan.services.accounts import do_create_user

    do_create_user(ctx, None, email="mgr.north@t.test", name="北区经理", password="x" * 12,
                   role="unit_manager", unit_code="north")
    use_smtp(ctx, smtp.port)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    case = cases_by_unit(ctx, world)["n1-as"]
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]  # nobody acted on it
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        steps = [e.detail for e in store.events_of(conn, case.id) if e.kind == "escalated"]
        emails = dict(conn.execute(sa.select(t.app_user.c.id, t.app_user.c.email)).all())
        units = dict(conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.code)).all())
    assert [(s["level"], emails[s["to_user_id"]], units[s["to_unit_id"]]) for s in steps] == [
        (1, "mgr.north@t.test", "north"), (2, "cx@t.test", "north"), (3, "admin@t.test", "hq")]
    for email in ("mgr.north@t.test", "cx@t.test", "admin@t.test"):
        assert any("工单已升级" in str(m["Subject"]) for m in smtp.to(email)), email
    assert not any("工单已升级" in str(m["Subject"]) for m in smtp.to("mgr.n1@t.test"))


def test_timer_that_ran_out_while_the_app_was_down_escalates_on_restart(
        ctx: Context, world: World) -> None:
    add_detractor_rule(ctx, world, kind="case")
    jobs.run_until_idle(ctx)
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]  # nothing ran meanwhile
    jobs.run_until_idle(ctx)  # a worker starts again: the due timer jobs run
    with ctx.db.read() as conn:
        breached = conn.execute(sa.select(sa.func.count()).select_from(t.case_timer)
                                .where(t.case_timer.c.breached_at.is_not(None))).scalar_one()
    assert breached == 9  # three timers on each of the three cases
    with ctx.db.read() as conn:
        levels = sorted(conn.execute(sa.select(t.cx_case.c.escalation_level)).scalars())
        steps = [e.detail["level"] for e in store.events_of(conn, min(
            conn.execute(sa.select(t.cx_case.c.id)).scalars())) if e.kind == "escalated"]
    # timers that ran out together climb one step each (they all said level 1 before)
    assert levels == [3, 3, 3] and steps == [1, 2, 3]


def test_a_channel_that_is_down_is_retried_and_visible(ctx: Context, world: World) -> None:
    port = free_port()  # nothing listens here yet
    use_smtp(ctx, port)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        rows = list(conn.execute(sa.select(t.notification)).mappings())
    assert rows and all(r.status == "retrying" and r.last_error for r in rows)
    assert len(cases_by_unit(ctx, world)) == 3  # the cases are there regardless
    box = Mailbox(port)
    from aiosmtpd.controller import Controller

    from tests.integration.closed_loop_fixtures import _Handler

    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        ctx.clock.advance(minutes=5)  # type: ignore[attr-defined]
        jobs.run_until_idle(ctx)
    finally:
        controller.stop()
    with ctx.db.read() as conn:
        rows = list(conn.execute(sa.select(t.notification)).mappings())
    assert all(r.status == "sent" and r.attempts == 2 for r in rows)
    assert len(box.messages) == len(rows)


@pytest.mark.parametrize("channel", ["slack", "wecom", "dingtalk", "feishu", "webhook"])
def test_chat_and_signed_webhook_payloads(ctx: Context, world: World, http_inbox: Inbox,
                                          channel: str) -> None:
    secret = do_set_preference(ctx, world.actor("mgr.s1@t.test"), channel=channel,
                               target=http_inbox.url)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    assert len(http_inbox.bodies) == 1
    body = http_inbox.bodies[0]
    case = cases_by_unit(ctx, world)["s1"].public_id
    text = str(body)
    assert case in text
    if channel == "slack":
        assert body["text"].startswith("[tiyan]")
    elif channel in ("wecom", "dingtalk"):
        assert body["msgtype"] == "markdown"
    elif channel == "feishu":
        assert body["msg_type"] == "post"
    else:
        from tiyan.channels.webhooks import sign

        headers = http_inbox.headers[0]
        assert secret and body["type"] == "case.opened"
        import json

        raw = json.dumps(body, ensure_ascii=False).encode()
        assert headers["webhook-signature"] == sign(
            secret, headers["webhook-id"], int(headers["webhook-timestamp"]), raw)


def test_callback_recovers_the_customer_and_closes_the_loop(
        ctx: Context, world: World, smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    add_detractor_rule(ctx, world)
    jobs.run_until_idle(ctx)
    agent = world.actor("agent@t.test")
    with ctx.db.read() as conn:
        tasks = {r.unit_code: r for r in worklist(conn, agent)}
    assert set(tasks) == {"n1-as", "n2", "s1"}
    assert tasks["s1"].due_at == ctx.now() + dt.timedelta(days=3)
    with pytest.raises(InvalidInput) as err:
        do_log_call(ctx, agent, tasks["s1"].public_id, outcome="reached")
    assert err.value.where == "recovered"
    do_log_call(ctx, agent, tasks["s1"].public_id, outcome="no_answer")
    do_log_call(ctx, agent, tasks["s1"].public_id, outcome="reached", recovered=True,
                satisfaction=9)
    do_log_call(ctx, agent, tasks["n2"].public_id, outcome="reached", recovered=False)
    case = tasks["s1"].case_public_id
    manager = world.actor("mgr.s1@t.test")
    do_change_status(ctx, manager, case, "resolved")
    do_change_status(ctx, manager, case, "closed")
    with ctx.db.read() as conn:
        kpi = recovery_kpi(conn, agent)
        row = store.get_case(conn, manager, case)
        kinds = [e.kind for e in store.events_of(conn, row.id)]
        left = {r.unit_code for r in worklist(conn, agent)}
    assert (kpi.recovered, kpi.reached, kpi.rate) == (1, 2, 0.5)
    assert kinds == ["opened", "callback", "callback", "in_progress", "resolved", "closed"]
    assert row.first_contact_at is not None and row.status == "closed"
    assert left == {"n1-as"}
    assert len(smtp.to("mgr.s1@t.test")) == 1


def _wait_for(check: Callable[[], bool], what: str, limit_s: float = 60.0) -> None:
    """Poll until `check()` holds (the worker thread runs on its own); fail after `limit_s`."""
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"the worker never got there: {what}")
        time.sleep(0.05)


def test_a_new_app_process_escalates_timers_that_ran_out_while_nothing_ran(
        ctx: Context, world: World, smtp: Mailbox) -> None:
    """The app runs with its worker thread, stops; four days pass with nothing running; a new
    app (its own engine, as a new process would have) starts and its worker escalates."""
    from fastapi.testclient import TestClient

    from tiyan.store.db import Database
    from tiyan.web.app import create_app

    settings = ctx.settings.model_copy(update={
        "worker_in_app": True, "worker_poll_seconds": 0.05, "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port})

    def count(db: Database, query: sa.Select[Any]) -> int:
        with db.read() as conn:
            return int(conn.execute(query).scalar_one())

    timers = sa.select(sa.func.count()).select_from(t.case_timer)
    breached = timers.where(t.case_timer.c.breached_at.is_not(None))
    add_detractor_rule(ctx, world, kind="case")
    with TestClient(create_app(Context(ctx.db, settings, ctx.clock))):
        _wait_for(lambda: count(ctx.db, timers) == 9, "three cases with three timers each")
    ctx.clock.advance(days=4)  # type: ignore[attr-defined]  # the app is down meanwhile
    assert count(ctx.db, breached) == 0
    fresh = Database(settings.db_url)
    try:
        with TestClient(create_app(Context(fresh, settings, ctx.clock))):
            _wait_for(lambda: count(fresh, breached) == 9, "every timer escalated")
            _wait_for(lambda: len(smtp.to("cx@t.test")) >= 1, "the escalation e-mail")
    finally:
        fresh.dispose()
    with ctx.db.read() as conn:
        escalated = conn.execute(sa.select(sa.func.count()).select_from(t.case_event).where(
            t.case_event.c.kind == "escalated")).scalar_one()
    assert escalated >= 3  # every case moved up at least once
    assert "工单已升级" in str(smtp.to("cx@t.test")[0]["Subject"])
