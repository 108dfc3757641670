"""Action plans (改进计划) and their tasks; unit scope applied here. A plan's units are its
`unit_id` plus `detail["unit_ids"]` (all of them, the first being `unit_id`).

A plan is seen by those who may see its first unit, and created, changed or deleted (its tasks
too) only by someone who manages cases at every one of its units (`access_plan_for_edit`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.errors import Forbidden, NotFound
from tiyan.security import new_public_id
from tiyan.store import tables as t
from tiyan.store.scoped import visible

VIEW = Permission.VIEW_DASHBOARD
EDIT = Permission.MANAGE_CASES


def insert_plan(conn: Connection, values: dict[str, Any], now: dt.datetime) -> tuple[int, str]:
    public_id = new_public_id()
    result = conn.execute(sa.insert(t.action_plan).values(public_id=public_id, created_at=now,
                                                          **values))
    return int(result.inserted_primary_key[0]), public_id  # type: ignore[index]


def insert_task(conn: Connection, plan_id: int, title: str, due: dt.date | None,
                owner_user_id: int | None, now: dt.datetime) -> int:
    result = conn.execute(sa.insert(t.action_task).values(
        plan_id=plan_id, title=title, due_date=due, owner_user_id=owner_user_id, status="todo",
        created_at=now))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _listing() -> sa.Select[Any]:
    owner = t.app_user.alias("owner")
    return (sa.select(t.action_plan, t.org_unit.c.code.label("unit_code"),
                      t.org_unit.c.kind.label("unit_kind"),
                      owner.c.name.label("owner_name"), owner.c.email.label("owner_email"))
            .join(t.org_unit, t.org_unit.c.id == t.action_plan.c.unit_id)
            .outerjoin(owner, owner.c.id == t.action_plan.c.owner_user_id))


def list_plans(conn: Connection, actor: Actor, *, status: str | None = None,
               unit_ids: frozenset[int] | None = None) -> list[RowMapping]:
    """Plans the actor may see, latest start first; `status` and `unit_ids` (plans with any of
    their units among them) narrow the list."""
    vis = actor.scope.visibility(VIEW)
    query = _listing().where(visible(vis, t.action_plan.c.unit_id))
    if status:
        query = query.where(t.action_plan.c.status == status)
    rows = list(conn.execute(query.order_by(t.action_plan.c.start_date.desc(),
                                            t.action_plan.c.id.desc())).mappings())
    if unit_ids is not None:
        rows = [r for r in rows if unit_ids.intersection(plan_unit_ids(r))]
    return rows


def get_plan(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    vis = actor.scope.visibility(VIEW)
    row = conn.execute(_listing().where(t.action_plan.c.public_id == public_id,
                                        visible(vis, t.action_plan.c.unit_id))
                       ).mappings().first()
    if row is None:
        raise NotFound("plans.action_plan_does_not", public_id=public_id,
                       where="plan")
    return row


def plan_unit_ids(plan: RowMapping) -> list[int]:
    """All the plan's units, its first unit first."""
    return list(plan.detail.get("unit_ids") or [plan.unit_id])


def may_edit(actor: Actor, unit_ids: Iterable[int]) -> bool:
    return actor.scope.visibility(EDIT).covers_all(unit_ids)


def require_edit(actor: Actor, unit_ids: Iterable[int]) -> None:
    """A plan on these units is created or changed only by someone who manages cases at every
    one of them: a manager of one dealer may not change a plan other dealers share."""
    actor.require(EDIT)
    if not may_edit(actor, unit_ids):
        raise Forbidden("plans.only_someone_who_manages", where="units")


def access_plan_for_edit(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    """A plan the actor may see and change with its tasks (see `require_edit`)."""
    plan = get_plan(conn, actor, public_id)
    require_edit(actor, plan_unit_ids(plan))
    return plan


def tasks_of(conn: Connection, plan_ids: list[int]) -> dict[int, list[RowMapping]]:
    out: dict[int, list[RowMapping]] = {}
    if plan_ids:
        owner = t.app_user.alias("owner")
        query = (sa.select(t.action_task, owner.c.name.label("owner_name"))
                 .outerjoin(owner, owner.c.id == t.action_task.c.owner_user_id)
                 .where(t.action_task.c.plan_id.in_(plan_ids))
                 .order_by(t.action_task.c.due_date.is_(None), t.action_task.c.due_date,
                           t.action_task.c.id))
        for row in conn.execute(query).mappings():
            out.setdefault(row.plan_id, []).append(row)
    return out


def kpi_by_unit(conn: Connection, kpi: str, unit_of: dict[int, int], start: dt.datetime,
                end: dt.datetime) -> dict[int, list[float]]:
    """Scores of `kpi` (an item code) per group, for responses of the units in `unit_of`
    (unit → group) submitted in [start, end)."""
    query = (sa.select(t.response.c.unit_id, t.answer.c.value_num)
             .join(t.response, t.response.c.id == t.answer.c.response_id)
             .where(t.answer.c.item_code == kpi, t.answer.c.value_num.is_not(None),
                    t.response.c.unit_id.in_(sorted(unit_of)),
                    t.response.c.submitted_at >= start, t.response.c.submitted_at < end,
                    t.response.c.status == "complete"))
    out: dict[int, list[float]] = {}
    for unit_id, value in conn.execute(query):
        out.setdefault(unit_of[unit_id], []).append(float(value))
    return out
