"""Action plans (改进计划): an improvement initiative tied to a KPI, units, an owner and a start
date, with tasks (due dates, statuses) and progress; and its measured effect — the KPI before
and after the start against comparable units that did not run it (difference-in-differences,
tiyan.domain.did, unit level with a t-based confidence interval).

Comparable units: units of the same kind as the plan's units (e.g. the other dealers), outside
the plan's subtrees, that the viewer may see. Each unit's KPI covers its subtree; the periods are
`WINDOW_DAYS` before the start and up to `WINDOW_DAYS` after it (until today); a unit with fewer
than `MIN_RESPONSES` responses in either period is left out.

Only units the viewer may see are measured, on both sides: a plan shared by two dealers shows the
manager of one of them that dealer's figures and the effect measured on the units they see, and
nothing computed from the other dealer — not its figures, and no effect or aggregate it enters
(the effect, its interval and the viewer's own change would give it back, exactly with two
units; an aggregate of other units could be read apart by moving the start date or creating
plans). `Effect.left_out` says how many of the plan's units were not measured for that reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.domain.access import Actor, subtree
from tiyan.domain.did import DidResult, UnitKpi, did_from_units
from tiyan.domain.metrics import MetricsError
from tiyan.domain.voc import nps_of
from tiyan.errors import InvalidInput, NotFound
from tiyan.store import audit, org, users
from tiyan.store import plans as store
from tiyan.store import tables as t
from tiyan.store.scoped import parent_map

KPIS = ("nps", "csat")
TASK_STATUSES = ("todo", "doing", "done")
PLAN_STATUSES = ("active", "done", "cancelled")
WINDOW_DAYS = 90
MIN_RESPONSES = 10


@dataclass(frozen=True)
class TaskRequest:
    title: str
    due_date: dt.date | None = None


@dataclass(frozen=True)
class PlanRequest:
    title: str
    kpi: str
    unit_codes: list[str]
    start_date: dt.date
    owner_email: str | None = None
    tasks: list[TaskRequest] = field(default_factory=list)
    end_date: dt.date | None = None


def _title(text: str, where: str) -> str:
    text = text.strip()
    if not text or len(text) > 300:
        raise InvalidInput("plans.title_characters", where=where)
    return text


def _check(conn: sa.Connection, actor: Actor, req: PlanRequest) -> dict[str, Any]:
    if req.kpi not in KPIS:
        raise InvalidInput("plans.not_kpi", kpi=req.kpi, kpis=', '.join(KPIS),
                           where="kpi")
    codes = list(dict.fromkeys(c.strip() for c in req.unit_codes if c.strip()))
    if not codes:
        raise InvalidInput("plans.plan_needs_least_unit", where="units")
    unit_ids = [org.unit_id_by_code(conn, c) for c in codes]
    store.require_edit(actor, unit_ids)
    owner = None
    if req.owner_email:
        row = users.user_by_email(conn, req.owner_email)
        if row is None:
            raise InvalidInput("plans.no_user_mail", owner_email=req.owner_email, where="owner")
        owner = int(row["id"])
    if req.end_date and req.end_date < req.start_date:
        raise InvalidInput("plans.plan_ends_before_starts", where="end_date")
    return {"title": _title(req.title, "title"), "kpi": req.kpi, "unit_id": unit_ids[0],
            "owner_user_id": owner, "status": "active", "start_date": req.start_date,
            "end_date": req.end_date, "detail": {"unit_ids": unit_ids}}


def do_create_plan(ctx: Context, actor: Actor, req: PlanRequest) -> str:
    now = ctx.now()
    with ctx.db.write() as conn:
        values = _check(conn, actor, req)
        plan_id, public_id = store.insert_plan(conn, values, now)
        for i, task in enumerate(req.tasks):
            store.insert_task(conn, plan_id, _title(task.title, f"tasks[{i}].title"),
                              task.due_date, values["owner_user_id"], now)
        audit.record(conn, at=now, user_id=actor.user_id, action="action_plan.create",
                     entity="action_plan", entity_id=public_id, unit_id=values["unit_id"],
                     detail={"title": values["title"], "kpi": req.kpi})
    return public_id


PLAN_FIELDS = ("title", "kpi", "unit_codes", "owner_email", "start_date", "end_date", "status")


def do_update_plan(ctx: Context, actor: Actor, public_id: str, changes: dict[str, Any]) -> None:
    """Change some of a plan's fields (keys of `PLAN_FIELDS`; owner_email/end_date None clears
    them). The whole plan is checked again as if created, and the change is audited."""
    unknown = sorted(set(changes) - set(PLAN_FIELDS))
    if unknown:
        raise InvalidInput("plans.not_plan_field", unknown=unknown[0], where=unknown[0])
    status = changes.get("status")
    if status is not None and status not in PLAN_STATUSES:
        raise InvalidInput("plans.not_plan_status", status=status,
                           plan_statuses=', '.join(PLAN_STATUSES),
                           where="status")
    now = ctx.now()
    with ctx.db.write() as conn:
        plan = store.access_plan_for_edit(conn, actor, public_id)
        current = {"title": plan.title, "kpi": plan.kpi, "unit_codes": unit_codes(conn, plan),
                   "owner_email": plan.owner_email, "start_date": plan.start_date,
                   "end_date": plan.end_date}
        merged = {**current, **{k: v for k, v in changes.items() if k != "status"}}
        values = _check(conn, actor, PlanRequest(**merged))
        values["status"] = status or plan.status
        if values["owner_user_id"] != plan.owner_user_id:  # open tasks follow the new owner
            conn.execute(sa.update(t.action_task).where(
                t.action_task.c.plan_id == plan.id, t.action_task.c.status != "done",
                t.action_task.c.owner_user_id.is_(None) | (t.action_task.c.owner_user_id
                                                           == plan.owner_user_id))
                .values(owner_user_id=values["owner_user_id"]))
        conn.execute(sa.update(t.action_plan).where(t.action_plan.c.id == plan.id)
                     .values(**values))
        changed = {k: str(v) for k, v in merged.items() if current.get(k) != v}
        if status and status != plan.status:
            changed["status"] = status
        audit.record(conn, at=now, user_id=actor.user_id, action="action_plan.update",
                     entity="action_plan", entity_id=public_id, unit_id=values["unit_id"],
                     detail=changed)


def do_delete_plan(ctx: Context, actor: Actor, public_id: str) -> None:
    """Delete a plan and its tasks (audited with its title)."""
    with ctx.db.write() as conn:
        plan = store.access_plan_for_edit(conn, actor, public_id)
        conn.execute(sa.delete(t.action_task).where(t.action_task.c.plan_id == plan.id))
        conn.execute(sa.delete(t.action_plan).where(t.action_plan.c.id == plan.id))
        audit.record(conn, at=ctx.now(), user_id=actor.user_id, action="action_plan.delete",
                     entity="action_plan", entity_id=public_id, unit_id=plan.unit_id,
                     detail={"title": plan.title})


def do_add_task(ctx: Context, actor: Actor, public_id: str, task: TaskRequest) -> int:
    with ctx.db.write() as conn:
        plan = store.access_plan_for_edit(conn, actor, public_id)
        return store.insert_task(conn, plan.id, _title(task.title, "title"), task.due_date,
                                 plan.owner_user_id, ctx.now())


TASK_FIELDS = ("title", "due_date", "status")


def do_update_task(ctx: Context, actor: Actor, public_id: str, task_id: int,
                   changes: dict[str, Any]) -> None:
    """Change a task's title, due date (None clears it) and/or status."""
    unknown = sorted(set(changes) - set(TASK_FIELDS))
    if unknown:
        raise InvalidInput("plans.not_task_field", unknown=unknown[0], where=unknown[0])
    values: dict[str, Any] = {}
    if "title" in changes:
        values["title"] = _title(changes["title"] or "", "title")
    if "due_date" in changes:
        values["due_date"] = changes["due_date"]
    if "status" in changes:
        status = changes["status"]
        if status not in TASK_STATUSES:
            raise InvalidInput("plans.not_task_status", status=status,
                               task_statuses=', '.join(TASK_STATUSES), where="status")
        values["status"] = status
        values["done_at"] = ctx.now() if status == "done" else None
    with ctx.db.write() as conn:
        plan = store.access_plan_for_edit(conn, actor, public_id)
        if not values:
            _task_exists(conn, plan.id, task_id)
            return
        done = conn.execute(sa.update(t.action_task).where(
            t.action_task.c.id == task_id, t.action_task.c.plan_id == plan.id).values(**values))
        if done.rowcount != 1:
            raise NotFound("plans.plan_no_task", task_id=task_id, where="task")


def do_delete_task(ctx: Context, actor: Actor, public_id: str, task_id: int) -> None:
    with ctx.db.write() as conn:
        plan = store.access_plan_for_edit(conn, actor, public_id)
        done = conn.execute(sa.delete(t.action_task).where(
            t.action_task.c.id == task_id, t.action_task.c.plan_id == plan.id))
        if done.rowcount != 1:
            raise NotFound("plans.plan_no_task", task_id=task_id, where="task")


def _task_exists(conn: sa.Connection, plan_id: int, task_id: int) -> None:
    found = conn.execute(sa.select(t.action_task.c.id).where(
        t.action_task.c.id == task_id, t.action_task.c.plan_id == plan_id)).first()
    if found is None:
        raise NotFound("plans.plan_no_task", task_id=task_id, where="task")


def do_set_task_status(ctx: Context, actor: Actor, public_id: str, task_id: int,
                       status: str) -> None:
    do_update_task(ctx, actor, public_id, task_id, {"status": status})


def do_set_plan_status(ctx: Context, actor: Actor, public_id: str, status: str) -> None:
    do_update_plan(ctx, actor, public_id, {"status": status})


def unit_codes(conn: sa.Connection, plan: Any) -> list[str]:
    ids = store.plan_unit_ids(plan)
    found = dict(conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.code)
                              .where(t.org_unit.c.id.in_(ids))).all())
    return [found[i] for i in ids if i in found]


def progress(tasks: list[Any]) -> float | None:
    return sum(1 for x in tasks if x.status == "done") / len(tasks) if tasks else None


# --- measured effect ----------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitFigures:
    code: str
    before: float
    after: float
    n_before: int
    n_after: int


@dataclass(frozen=True)
class Effect:
    kpi: str
    before_start: dt.date
    after_end: dt.date
    treated: list[UnitFigures]
    control: list[UnitFigures]
    result: DidResult | None
    problem: str | None  # why there is no result (too few units, not started)
    left_out: int = 0  # the plan's units outside the viewer's scope: not measured, not shown


def _kpi_value(kpi: str, scores: list[float]) -> float:
    value = nps_of(scores) if kpi == "nps" else sum(scores) / len(scores)
    return float(value or 0.0)


def measured_effect(ctx: Context, actor: Actor, plan: Any) -> Effect:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    start = dt.datetime.combine(plan.start_date, dt.time(), zone).astimezone(dt.UTC)
    end = min(ctx.now(), start + dt.timedelta(days=WINDOW_DAYS))
    before = start - dt.timedelta(days=WINDOW_DAYS)
    dates = (before.astimezone(zone).date(), end.astimezone(zone).date())
    reach = actor.scope.visibility(store.VIEW).unit_ids
    plan_units = store.plan_unit_ids(plan)
    left_out = sum(1 for u in plan_units if u not in reach)
    if end <= start:
        return Effect(plan.kpi, *dates, [], [], None, "not_started", left_out)
    with ctx.db.read() as conn:
        groups = _groups(conn, reach, plan_units)
        unit_of = {u: g for g, members in groups.items() for u in members}
        pre = store.kpi_by_unit(conn, plan.kpi, unit_of, before, start)
        post = store.kpi_by_unit(conn, plan.kpi, unit_of, start, end)
        codes = dict(conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.code)
                                  .where(t.org_unit.c.id.in_(list(groups)))).all())
    treated_ids = set(plan_units)
    figures: dict[bool, list[UnitFigures]] = {True: [], False: []}
    for group in sorted(groups):
        a, b = pre.get(group, []), post.get(group, [])
        if len(a) >= MIN_RESPONSES and len(b) >= MIN_RESPONSES:
            figures[group in treated_ids].append(UnitFigures(
                codes[group], _kpi_value(plan.kpi, a), _kpi_value(plan.kpi, b), len(a), len(b)))
    try:
        result = did_from_units([UnitKpi(f.code, f.before, f.after) for f in figures[True]],
                                [UnitKpi(f.code, f.before, f.after) for f in figures[False]])
        problem = None
    except MetricsError:
        result, problem = None, "too_few_units"
    return Effect(plan.kpi, *dates, figures[True], figures[False], result, problem, left_out)


def _groups(conn: sa.Connection, reach: frozenset[int],
            treated: list[int]) -> dict[int, frozenset[int]]:
    """The plan's units and comparable units (same kind, outside the plan) that the viewer may
    see (`reach`) → their subtrees."""
    parents = parent_map(conn)
    kinds = set(conn.execute(sa.select(t.org_unit.c.kind)
                             .where(t.org_unit.c.id.in_(treated))).scalars())
    covered = frozenset().union(*(subtree(parents, u) for u in treated))
    above = {a for u in treated for a in _ancestors(parents, u)}
    peers = conn.execute(sa.select(t.org_unit.c.id).where(
        t.org_unit.c.kind.in_(kinds), t.org_unit.c.active)).scalars()
    control = [u for u in peers if u not in covered and u not in above]
    return {u: subtree(parents, u) for u in [*treated, *control] if u in reach}


def _ancestors(parents: dict[int, int | None], unit: int) -> list[int]:
    out, node = [], parents.get(unit)
    while node is not None and node not in out:
        out.append(node)
        node = parents.get(node)
    return out
