"""The demo's closed loop: a detractor alert rule on the car group, cases for the recent
detractors (some acknowledged, worked, resolved and closed, with root causes and callbacks), and
an action plan on two dealers — so the cases inbox, callbacks, VOC review and plan pages have
something to show. Runs after the demo's comments were analysed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.services import callbacks, cases, plans
from tiyan.services.alerts import RuleRequest, do_create_rule, evaluate_rules_for_response
from tiyan.store import tables as t
from tiyan.store import users
from tiyan.store.scoped import load_actor

RECENT_DAYS = 45
MAX_CASES = 80
CAUSES = ("wait_time", "attitude", "pricing", "quality", "communication", "appointment")
WORKFLOW = ((), ("acknowledged",), ("in_progress",), ("in_progress", "resolved"),
            ("in_progress", "resolved", "closed"))


def build_closed_loop(ctx: Context) -> int:
    """Open the demo's cases; returns how many were opened."""
    with ctx.db.read() as conn:
        admin = load_actor(conn, _user(conn, "admin@demo.tiyan.dev"))
        agent = load_actor(conn, _user(conn, "agent@demo.tiyan.dev"))
    do_create_rule(ctx, admin, RuleRequest(
        name="贬损者回访 Detractor follow-up", unit_code="auto",
        condition={"score": {"item": "nps", "op": "<=", "value": 6}},
        action={"kind": "both", "route_role": "unit_manager", "callback": True}))
    opened = []
    for response_id in _recent_detractors(ctx):
        opened.extend(evaluate_rules_for_response(ctx, response_id))
    for i, public_id in enumerate(opened):
        if i % 3 != 2:
            cases.do_set_root_cause(ctx, admin, public_id, CAUSES[i % len(CAUSES)])
        for status in WORKFLOW[i % len(WORKFLOW)]:
            cases.do_change_status(ctx, admin, public_id, status)
    with ctx.db.read() as conn:
        tasks = callbacks.worklist(conn, agent)
    for i, task in enumerate(tasks[: len(tasks) // 2]):
        callbacks.do_log_call(ctx, agent, task.public_id, outcome="reached",
                              recovered=i % 3 != 0, satisfaction=8 if i % 3 else 4)
    _plan(ctx, admin)
    return len(opened)


def _user(conn: sa.Connection, email: str) -> int:
    row = users.user_by_email(conn, email)
    assert row is not None, email
    return int(row["id"])


def _recent_detractors(ctx: Context) -> list[int]:
    since = ctx.now() - dt.timedelta(days=RECENT_DAYS)
    with ctx.db.read() as conn:
        query = (sa.select(t.response.c.id)
                 .join(t.answer, t.answer.c.response_id == t.response.c.id)
                 .where(t.answer.c.item_code == "nps", t.answer.c.value_num <= 6,
                        t.response.c.submitted_at >= since)
                 .order_by(t.response.c.submitted_at.desc()).limit(MAX_CASES * 3))
        return sorted(conn.execute(query).scalars())


def _plan(ctx: Context, admin: object) -> None:
    start = (ctx.now() - dt.timedelta(days=60)).date()
    plans.do_create_plan(ctx, admin, plans.PlanRequest(  # type: ignore[arg-type]
        title="缩短交车等待", kpi="nps",
        unit_codes=["gz-tianhe", "sz-nanshan"], start_date=start,
        owner_email="south@demo.tiyan.dev", tasks=[
            plans.TaskRequest("预约分时段", start + dt.timedelta(days=14)),
            plans.TaskRequest("交车前电话告知",
                              start + dt.timedelta(days=30)),
            plans.TaskRequest("休息区改造", start + dt.timedelta(days=90))]))
