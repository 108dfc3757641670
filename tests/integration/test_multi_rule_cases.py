"""Every matching rule acts: one case per response listing every rule it matched, the earliest
SLA target of them, and one notification per person however many rules route to them."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.closed_loop_fixtures import Mailbox, smtp
from tests.integration.test_closed_loop import submit, use_smtp
from tests.world import World
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.services.alerts import RuleRequest, do_create_rule, do_delete_rule
from tiyan.store import cases as store
from tiyan.store import tables as t

__all__ = ["smtp"]


def _rule(ctx: Context, world: World, name: str, condition: object, unit: str = "hq",
          **action: object) -> str:
    return do_create_rule(ctx, world.actor("admin@t.test"), RuleRequest(
        name=name, unit_code=unit, condition=condition, action={"kind": "both", **action},
        sla=action.pop("sla", None) if "sla" in action else None))


def test_a_response_matching_three_rules_opens_one_case_listing_them_all(
        ctx: Context, world: World, smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    jobs.run_until_idle(ctx)  # the world's own responses, before any rule exists
    detractor = _rule(ctx, world, "贬损者", {"score": {"item": "nps", "op": "<=", "value": 6}})
    refund = do_create_rule(ctx, world.actor("admin@t.test"), RuleRequest(
        name="退款", unit_code="north", condition={"keywords": ["退款"]},
        action={"kind": "case", "route_role": "cx_manager", "callback": True},
        sla={"acknowledge": {"hours": 1, "working": False}}))
    told = _rule(ctx, world, "通知 CX", {"score": {"item": "csat", "op": "<=", "value": 2}},
                 kind="notify", route_role="cx_manager")
    _rule(ctx, world, "不匹配", {"score": {"item": "nps", "op": ">=", "value": 9}})
    response_id = submit(ctx, world, "n1-as", "n1-e1", 2, "我要退款")  # overall 3: no csat ≤ 2
    with ctx.db.write() as conn:  # the csat rule matches too
        conn.execute(sa.update(t.answer).where(t.answer.c.response_id == response_id,
                                               t.answer.c.question_key == "overall")
                     .values(value_num=1))
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        cases = list(conn.execute(sa.select(t.cx_case).where(
            t.cx_case.c.response_id == response_id)).mappings())
        assert len(cases) == 1
        case = cases[0]
        names = [r.name for r in store.case_rules(conn, case.id)]
        timers = {r.kind: r.due_at for r in store.timers_of(conn, case.id)}
        tasks = conn.execute(sa.select(sa.func.count()).select_from(t.callback_task).where(
            t.callback_task.c.case_id == case.id)).scalar_one()
        rule_ids = dict(conn.execute(sa.select(t.alert_rule.c.public_id, t.alert_rule.c.id)).all())
    assert names == ["贬损者", "退款", "通知 CX"]  # evaluation order; the first names the case
    assert case.title == "贬损者" and case.rule_id == rule_ids[detractor]
    # acknowledge: the refund rule's 1 hour (not working hours) beats the default 4 working hours
    assert timers["acknowledge"] == ctx.now() + dt.timedelta(hours=1)
    assert tasks == 1  # the refund rule asked for a callback
    # the store's manager is told once (detractor); the CX manager once (csat rule, notify),
    # although both the refund rule (case only: no message) and the csat rule route there
    jobs.run_until_idle(ctx)
    assert len(smtp.to("mgr.n1@t.test")) == 1
    to_cx = smtp.to("cx@t.test")
    assert len(to_cx) == 1
    body = to_cx[0].get_payload(decode=True).decode()
    assert f"/cases/{case.public_id}" in body and "贬损者 · 退款 · 通知 CX" in body
    # the inbox finds the case under each rule it matched
    admin = world.actor("admin@t.test")
    with ctx.db.read() as conn:
        for public_id in (detractor, refund, told):
            found = store.list_cases(conn, admin, store.CaseFilter(rule_id=rule_ids[public_id]))
            assert case.id in {r.id for r in found}
        assert {r.name for r in store.rules_with_cases(conn, admin)} >= {"贬损者", "退款",
                                                                        "通知 CX"}
    # a rule that only matched (not the case's first) is kept: deactivated, not deleted
    assert do_delete_rule(ctx, admin, told) is False
    # the rules run again: nothing new
    from tiyan.services.alerts import evaluate_rules_for_response
    assert evaluate_rules_for_response(ctx, response_id) == []


def test_the_case_api_lists_every_rule_matched(ctx: Context, world: World,
                                               client: TestClient) -> None:
    jobs.run_until_idle(ctx)
    first = _rule(ctx, world, "低分", {"score": {"item": "nps", "op": "<=", "value": 6}},
                  kind="case")
    second = _rule(ctx, world, "很低", {"score": {"item": "nps", "op": "<=", "value": 3}},
                   kind="case")
    submit(ctx, world, "s1", "s1-e1", 1, "很差")
    jobs.run_until_idle(ctx)
    headers = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    (case,) = client.get("/api/v1/cases", headers=headers).json()
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=headers).json()
    assert detail["rules"] == [{"id": first, "name": "低分"}, {"id": second, "name": "很低"}]


def test_notify_only_rules_tell_each_person_once_without_a_case(
        ctx: Context, world: World, smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    jobs.run_until_idle(ctx)
    for name in ("A", "B"):
        _rule(ctx, world, name, {"score": {"item": "nps", "op": "<=", "value": 6}},
              kind="notify")
    response_id = submit(ctx, world, "s1", "s1-e1", 1, "一般")
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        opened = conn.execute(sa.select(sa.func.count()).select_from(t.cx_case).where(
            t.cx_case.c.response_id == response_id)).scalar_one()
    assert opened == 0
    mails = smtp.to("mgr.s1@t.test")
    assert len(mails) == 1 and "A · B" in mails[0].get_payload(decode=True).decode()
