"""The demo's closed loop: a detractor alert rule on the car group, in place since the survey
programme began, and the year of cases it opened — one per detractor, opened minutes after the
answer arrived, acknowledged by the dealer's manager in business hours, the customer called back
by the call centre (sometimes after a missed call or two) and asked again how satisfied they
are, the root cause noted, resolved and closed; a share of them late, so that SLA timers run out
and escalate up the hierarchy as the worker would have done at the time. Cases of the last
hours and days are still open at the moment the demo world ends. And an action plan on two
dealers. So the cases inbox, callbacks, VOC review (SLA compliance, recovery rate) and plan
pages show a year of plausible work.

The history is demo-built: it is written in bulk (as the demo's responses are) by replaying
each case's story through the same workflow rules as the services (`check_transition`, the
timers each status meets, the first contact a reached callback makes, the escalation ladder),
with the clock at each step. Nothing is sent: the demo's users have their e-mail notifications
paused (their addresses are not real), so no delivery is invented and none can fail; a user who
sets up a channel gets the notifications of new cases from then on. Deterministic: the same seed
and end give the same history.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.demo.bulk import demo_public_id
from tiyan.domain.cases import (
    MEETS,
    CaseStatus,
    TimerKind,
    check_transition,
    escalation_chain,
    escalation_step,
    parse_sla,
)
from tiyan.domain.worktime import BusinessCalendar, add_working_time
from tiyan.services import cases, notifications, plans
from tiyan.services.alerts import RuleRequest, do_create_rule
from tiyan.services.jobs import enqueue_many
from tiyan.store import cases as case_store
from tiyan.store import tables as t
from tiyan.store import users
from tiyan.store.scoped import load_actor, parent_map

RULE = "贬损者回访"
RULE_UNIT = "auto"
DETRACTOR = 6  # NPS at or below: a case
CAUSES = ("wait_time", "attitude", "pricing", "quality", "communication", "appointment")
# the call centre calls every day from 09:00 to 21:00 (the dealers keep their own calendars)
CALL_CENTRE = BusinessCalendar(hours={d: ((dt.time(9), dt.time(21)),) for d in range(7)})
LATE_ACK, LATE_CALL, LATE_RESOLVE, STAYS_RESOLVED = 0.08, 0.07, 0.08, 0.15


# --- one case's story: what happens when, before the end of the demo is applied --------------

@dataclass(frozen=True)
class Step:
    at: dt.datetime
    kind: str  # acknowledged, callback, root_cause, resolved, closed
    detail: dict[str, Any] = field(default_factory=dict)


def case_story(rng: random.Random, opened: dt.datetime, nps: float,
               calendar: BusinessCalendar) -> list[Step]:
    """The steps of one detractor's case, in time order: the manager acknowledges in working
    hours (mostly within 1–2 hours, some late), the call centre rings back (no answer once or
    twice now and then) and re-asks satisfaction — recovered from 7 of 10 — the root cause is
    noted and the case resolved in working hours, and most are closed a few days later."""
    hours = dt.timedelta(hours=1)
    ack_in = rng.uniform(4.5, 14) if rng.random() < LATE_ACK else rng.lognormvariate(0, 0.6)
    ack = add_working_time(opened, ack_in * hours, calendar)
    steps = [Step(ack, "acknowledged")]
    call = add_working_time(min(ack, opened + 2 * hours), rng.uniform(0.3, 5) * hours,
                            CALL_CENTRE)
    if rng.random() < LATE_CALL:
        call = add_working_time(call, rng.uniform(14, 40) * hours, CALL_CENTRE)
    for _ in range(rng.choices((0, 1, 2), (70, 22, 8))[0]):
        steps.append(Step(call, "callback", {"outcome": "no_answer"}))
        call = add_working_time(call, rng.uniform(2, 9) * hours, CALL_CENTRE)
    satisfaction = float(min(10, max(0, round(nps + rng.gauss(2.8, 2.2)))))
    steps.append(Step(call, "callback", {"outcome": "reached", "recovered": satisfaction >= 7,
                                         "satisfaction": satisfaction}))
    work = rng.uniform(20, 45) if rng.random() < LATE_RESOLVE else rng.uniform(0.5, 8)
    resolved = add_working_time(call, work * hours, calendar)
    if rng.random() < 0.9:
        steps.append(Step(resolved - dt.timedelta(minutes=rng.randint(2, 30)), "root_cause",
                          {"to": rng.choice(CAUSES)}))
    steps.append(Step(resolved, "resolved"))
    if rng.random() >= STAYS_RESOLVED:
        steps.append(Step(add_working_time(resolved, rng.uniform(4, 40) * hours, calendar),
                          "closed"))
    return sorted(steps, key=lambda s: s.at)


# --- replaying a story up to the end of the demo ----------------------------------------------

@dataclass
class CaseState:
    """A case as the services would have left it, replayed step by step."""

    status: str = CaseStatus.NEW.value
    acknowledged_at: dt.datetime | None = None
    first_contact_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    root_cause: str | None = None
    escalation_level: int = 0
    updated_at: dt.datetime | None = None
    met: dict[str, dt.datetime] = field(default_factory=dict)
    breached: dict[str, dt.datetime] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    task_done_at: dt.datetime | None = None


def replay(steps: Sequence[Step], *, opened: dt.datetime, due: dict[str, dt.datetime],
           end: dt.datetime, owner: int | None, actor: int, agent: int,
           ladder: Sequence[tuple[int, int]], opened_detail: dict[str, Any]) -> CaseState:
    """Apply the steps that happened by `end` with the services' workflow rules; a timer that
    ran out unmet escalates at its due time, one step up the ladder each time."""
    state = CaseState(updated_at=opened)
    state.events.append({"at": opened, "user_id": None, "kind": "opened",
                         "detail": opened_detail})
    for step in steps:
        if step.at > end:
            break
        _breach(state, due, step.at, ladder)
        _apply(state, step, actor, agent)
    _breach(state, due, end, ladder)
    return state


def _breach(state: CaseState, due: dict[str, dt.datetime], until: dt.datetime,
            ladder: Sequence[tuple[int, int]]) -> None:
    for kind, at in sorted(due.items(), key=lambda kv: kv[1]):
        if at <= until and kind not in state.met and kind not in state.breached:
            state.breached[kind] = at
            state.escalation_level += 1
            target = escalation_step(ladder, state.escalation_level)
            state.events.append({"at": at, "user_id": None, "kind": "escalated",
                                 "detail": cases.escalated_detail(kind, at,
                                                                  state.escalation_level,
                                                                  target)})
            state.updated_at = at


def _move(state: CaseState, target: CaseStatus, at: dt.datetime, user: int) -> None:
    event = check_transition(CaseStatus(state.status), target)
    for key, value in cases._stamps(state, target, at).items():  # type: ignore[arg-type]
        setattr(state, key, value)
    for kind in MEETS.get(target, ()):
        state.met.setdefault(kind.value, at)
    state.events.append({"at": at, "user_id": user, "kind": event,
                         "detail": {"from": state.status, "to": target.value}})
    state.status = target.value


def _apply(state: CaseState, step: Step, actor: int, agent: int) -> None:
    at = step.at
    if step.kind == "acknowledged":
        if state.status != CaseStatus.NEW:  # the call centre reached the customer first
            return
        _move(state, CaseStatus.ACKNOWLEDGED, at, actor)
    elif step.kind == "callback":
        outcome = step.detail["outcome"]
        reached = outcome == "reached"
        state.calls.append({"at": at, "user_id": agent, "outcome": outcome,
                            "recovered": step.detail.get("recovered"),
                            "satisfaction": step.detail.get("satisfaction"), "note": None})
        state.events.append({"at": at, "user_id": agent, "kind": "callback", "detail": {
            "outcome": outcome, **({"recovered": step.detail["recovered"],
                                    "satisfaction": step.detail["satisfaction"]}
                                   if reached else {})}})
        if reached:  # services.cases.record_first_contact
            state.task_done_at = at
            for kind in (TimerKind.CONTACT.value, TimerKind.ACKNOWLEDGE.value):
                state.met.setdefault(kind, at)
            if state.status in (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED):
                _move(state, CaseStatus.IN_PROGRESS, at, agent)
            elif state.first_contact_at is None:
                state.first_contact_at = at
    elif step.kind == "root_cause":
        state.events.append({"at": at, "user_id": actor, "kind": "root_cause",
                             "detail": {"from": state.root_cause, "to": step.detail["to"]}})
        state.root_cause = step.detail["to"]
    else:
        _move(state, CaseStatus(step.kind), at, actor)
    state.updated_at = at


# --- building it --------------------------------------------------------------------------------

def build_closed_loop(ctx: Context, *, seed: int = 20261123) -> int:
    """Pause the demo users' e-mail, create the detractor rule at the start of the programme
    and write the year of cases it opened up to now (`ctx.now()`: the end of the demo world);
    returns how many cases."""
    end = ctx.now()
    with ctx.db.read() as conn:
        admin = load_actor(conn, _user(conn, "admin@demo.tiyan.dev"))
        agent = _user(conn, "agent@demo.tiyan.dev")
        cx = _user(conn, "cx@demo.tiyan.dev")
        start = conn.execute(sa.select(sa.func.min(t.response.c.submitted_at))).scalar_one()
        people = [int(u) for u in conn.execute(sa.select(t.app_user.c.id)
                                               .order_by(t.app_user.c.id)).scalars()]
    _pause_email(ctx, people)
    clock = ctx.clock
    try:
        ctx.clock = lambda: start - dt.timedelta(hours=1)  # the rule was there from the start
        do_create_rule(ctx, admin, RuleRequest(
            name=RULE, unit_code=RULE_UNIT,
            condition={"score": {"item": "nps", "op": "<=", "value": DETRACTOR}},
            action={"kind": "both", "route_role": "unit_manager", "callback": True}))
    finally:
        ctx.clock = clock
    with ctx.db.write() as conn:
        count = _write_cases(ctx, conn, random.Random(seed * 7919 + 3), end, agent, cx)
    _plan(ctx, admin)
    return count


def _pause_email(ctx: Context, people: Sequence[int]) -> None:
    """Each demo user's e-mail notifications, set up and paused (shown as such on their
    notification settings): the demo's addresses receive nothing."""
    for user_id in people:
        with ctx.db.read() as conn:
            actor = load_actor(conn, user_id)
            email = conn.execute(sa.select(t.app_user.c.email)
                                 .where(t.app_user.c.id == user_id)).scalar_one()
        notifications.do_set_preference(ctx, actor, channel="email", target=email, active=False)


@dataclass(frozen=True)
class _Detractor:
    response_id: int
    unit_id: int
    customer_id: int | None
    submitted_at: dt.datetime
    nps: float


def _detractors(conn: sa.Connection, rule_unit: int, parents: dict[int, int | None],
                end: dt.datetime) -> Iterator[_Detractor]:
    from tiyan.domain.access import subtree

    units = sorted(subtree(parents, rule_unit))
    query = (sa.select(t.response.c.id, t.response.c.unit_id, t.response.c.customer_id,
                       t.response.c.submitted_at, t.answer.c.value_num)
             .join(t.answer, t.answer.c.response_id == t.response.c.id)
             .where(t.answer.c.item_code == "nps", t.answer.c.value_num <= DETRACTOR,
                    t.response.c.unit_id.in_(units), t.response.c.submitted_at <= end)
             .order_by(t.response.c.submitted_at, t.response.c.id))
    for row in conn.execute(query):
        yield _Detractor(int(row[0]), int(row[1]), row[2], row[3], float(row[4]))


def _write_cases(ctx: Context, conn: sa.Connection, rng: random.Random, end: dt.datetime,
                 agent: int, cx: int) -> int:
    rule = conn.execute(sa.select(t.alert_rule).where(t.alert_rule.c.name == RULE)
                        ).mappings().one()
    policy = parse_sla(rule.sla)
    parents = parent_map(conn)
    rule_unit = conn.execute(sa.select(t.org_unit.c.id).where(t.org_unit.c.code == RULE_UNIT)
                             ).scalar_one()
    calendars: dict[int, BusinessCalendar] = {}
    owners: dict[int, int | None] = {}
    ladders: dict[int, list[tuple[int, int]]] = {}
    built: list[tuple[_Detractor, str, dict[str, dt.datetime], int | None, CaseState]] = []
    for d in _detractors(conn, rule_unit, parents, end):
        if d.unit_id not in calendars:
            chain = escalation_chain(d.unit_id, parents)
            calendars[d.unit_id] = case_store.calendar_for(conn, chain)
            owners[d.unit_id] = cases._route(conn, chain, "unit_manager")
            ladders[d.unit_id] = cases.escalation_ladder_of(conn, d.unit_id, owners[d.unit_id])
        opened = d.submitted_at + dt.timedelta(seconds=rng.randint(20, 300))  # after analysis
        if opened > end:
            continue
        owner, calendar = owners[d.unit_id], calendars[d.unit_id]
        due = cases.sla_due(policy, opened, calendar)
        steps = case_story(rng, opened, d.nps, calendar)
        state = replay(steps, opened=opened, due=due, end=end, owner=owner,
                       actor=owner or cx, agent=agent, ladder=ladders[d.unit_id],
                       opened_detail={"rule": rule.name, "owner_user_id": owner,
                                      "route_role": "unit_manager",
                                      "due": {k: v.isoformat() for k, v in due.items()}})
        built.append((d, demo_public_id("case", d.response_id, opened), due, owner, state))
    ids = conn.execute(sa.insert(t.cx_case).returning(t.cx_case.c.id,
                                                      sort_by_parameter_order=True), [{
        "public_id": public_id, "response_id": d.response_id, "rule_id": rule.id,
        "unit_id": d.unit_id, "customer_id": d.customer_id, "owner_user_id": owner,
        "status": s.status, "title": rule.name[:300], "root_cause": s.root_cause,
        "created_at": s.events[0]["at"], "due_at": min(due.values()),
        "closed_at": s.closed_at, "acknowledged_at": s.acknowledged_at,
        "first_contact_at": s.first_contact_at, "resolved_at": s.resolved_at,
        "escalation_level": s.escalation_level, "updated_at": s.updated_at}
        for d, public_id, due, owner, s in built]).scalars().all()
    timers, events, tasks, jobs = [], [], [], []
    for case_id, (d, _, due, owner, s) in zip(ids, built, strict=True):
        opened = s.events[0]["at"]
        for kind, at in due.items():
            timers.append({"case_id": case_id, "kind": kind, "due_at": at,
                           "met_at": s.met.get(kind), "breached_at": s.breached.get(kind)})
            if at > end and kind not in s.met:
                jobs.append((at, case_id))
        events += [{"case_id": case_id, **e} for e in sorted(s.events, key=lambda e: e["at"])]
        tasks.append({"public_id": demo_public_id("callback", d.response_id, opened),
                      "case_id": case_id, "response_id": d.response_id, "unit_id": d.unit_id,
                      "customer_id": d.customer_id, "assigned_user_id": owner, "reason": "case",
                      "status": "done" if s.task_done_at else "open",
                      "due_at": opened + dt.timedelta(days=3), "created_at": opened,
                      "done_at": s.task_done_at})
    conn.execute(sa.insert(t.case_timer), timers)
    conn.execute(sa.insert(t.case_event), events)
    task_ids = conn.execute(sa.insert(t.callback_task).returning(
        t.callback_task.c.id, sort_by_parameter_order=True), tasks).scalars().all()
    calls = [{"task_id": task_id, **call} for task_id, (*_, s) in zip(task_ids, built,
                                                                      strict=True)
             for call in s.calls]
    if calls:
        conn.execute(sa.insert(t.callback_call), calls)
    for at, case_id in sorted(set(jobs)):
        enqueue_many(conn, [(cases.CHECK_TIMERS, {"case_id": case_id})], run_at=at)
    return len(built)


def _user(conn: sa.Connection, email: str) -> int:
    row = users.user_by_email(conn, email)
    assert row is not None, email
    return int(row["id"])


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
