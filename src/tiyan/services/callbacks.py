"""The 3-day callback (回访): a task per detractor/complaint (rules with `"callback": true`), in
the agents' worklist (/callbacks); each call is logged with its outcome and whether the customer
is recovered; the recovery rate is a KPI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.callbacks import CALLBACK_DAYS, RecoveryRate, parse_outcome, recovery_rate
from tiyan.errors import InvalidInput, NotFound
from tiyan.security import new_public_id
from tiyan.store import tables as t
from tiyan.store.scoped import visible

PERMISSION = Permission.MANAGE_CASES


def open_callback_task(conn: Connection, response: RowMapping, case_id: int | None,
                       assignee: int | None, now: dt.datetime, reason: str) -> None:
    exists = conn.execute(sa.select(t.callback_task.c.id)
                          .where(t.callback_task.c.response_id == response.id)).first()
    if exists is None:
        conn.execute(sa.insert(t.callback_task).values(
            public_id=new_public_id(), case_id=case_id, response_id=response.id,
            unit_id=response.unit_id, customer_id=response.customer_id,
            assigned_user_id=assignee, reason=reason, status="open",
            due_at=now + dt.timedelta(days=CALLBACK_DAYS), created_at=now))


def open_callback_tasks(conn: Connection,
                        tasks: Sequence[tuple[RowMapping, int | None, int | None]],
                        now: dt.datetime, reason: str) -> None:
    """The same for many (response, case id, assignee): responses that have a task, or come
    twice, are skipped; the new tasks are added in one statement."""
    ids = [response.id for response, _, _ in tasks]
    if not ids:
        return
    have = set(conn.execute(sa.select(t.callback_task.c.response_id)
                            .where(t.callback_task.c.response_id.in_(sorted(set(ids)))))
               .scalars())
    rows = []
    for response, case_id, assignee in tasks:
        if response.id in have:
            continue
        have.add(response.id)
        rows.append({"public_id": new_public_id(), "case_id": case_id,
                     "response_id": response.id, "unit_id": response.unit_id,
                     "customer_id": response.customer_id, "assigned_user_id": assignee,
                     "reason": reason, "status": "open",
                     "due_at": now + dt.timedelta(days=CALLBACK_DAYS), "created_at": now})
    if rows:
        conn.execute(sa.insert(t.callback_task), rows)


@dataclass(frozen=True)
class WorkFilter:
    """Which callback tasks the worklist shows: open or done, in a unit's subtree, only
    overdue ones (open, due before `overdue_at`)."""

    status: str = "open"
    unit_ids: Sequence[int] | None = None
    overdue_at: dt.datetime | None = None


def _work_query(actor: Actor, f: WorkFilter) -> sa.Select[Any]:
    T = t.callback_task
    vis = actor.scope.visibility(PERMISSION)
    query = (sa.select(T, t.org_unit.c.code.label("unit_code"),
                       t.org_unit.c.name_zh.label("unit_name_zh"),
                       t.org_unit.c.name_en.label("unit_name_en"),
                       t.org_unit.c.timezone.label("unit_timezone"),
                       t.customer.c.name.label("customer_name"),
                       t.customer.c.public_id.label("customer_public_id"),
                       t.customer.c.attributes.label("customer_attributes"),
                       t.cx_case.c.public_id.label("case_public_id"),
                       t.cx_case.c.title.label("case_title"),
                       t.response.c.public_id.label("response_public_id"))
             .join(t.org_unit, t.org_unit.c.id == T.c.unit_id)
             .join(t.response, t.response.c.id == T.c.response_id)
             .outerjoin(t.customer, t.customer.c.id == T.c.customer_id)
             .outerjoin(t.cx_case, t.cx_case.c.id == T.c.case_id)
             .where(visible(vis, T.c.unit_id), T.c.status == f.status))
    if f.unit_ids is not None:
        query = query.where(T.c.unit_id.in_(list(f.unit_ids)))
    if f.overdue_at is not None:
        query = query.where(T.c.due_at <= f.overdue_at)
    return query


def worklist(conn: Connection, actor: Actor, *, status: str = "open", limit: int = 200,
             offset: int = 0, f: WorkFilter | None = None) -> list[RowMapping]:
    """The callback tasks the actor may work, soonest due first (done: latest first)."""
    f = f or WorkFilter(status=status)
    T = t.callback_task
    order = (T.c.due_at, T.c.id) if f.status == "open" else (T.c.done_at.desc(), T.c.id.desc())
    query = _work_query(actor, f).order_by(*order).limit(limit).offset(offset)
    return list(conn.execute(query).mappings())


def worklist_count(conn: Connection, actor: Actor, f: WorkFilter) -> int:
    query = sa.select(sa.func.count()).select_from(_work_query(actor, f).subquery())
    return int(conn.execute(query).scalar_one())


def open_task_of_case(case_id: int) -> sa.Select[Any]:
    """The case's open callback task (for logging a call from the case page)."""
    T = t.callback_task
    return (sa.select(T.c.id, T.c.public_id, T.c.due_at).where(
        T.c.case_id == case_id, T.c.status == "open").order_by(T.c.id).limit(1))


def task_of(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    vis = actor.scope.visibility(PERMISSION)
    row = conn.execute(sa.select(t.callback_task).where(
        t.callback_task.c.public_id == public_id, visible(vis, t.callback_task.c.unit_id))
    ).mappings().first()
    if row is None:
        raise NotFound("callbacks.callback_task_does_not", public_id=public_id,
                       where="callback task")
    return row


def do_log_call(ctx: Context, actor: Actor, public_id: str, *, outcome: str,
                recovered: bool | None = None, satisfaction: float | None = None,
                note: str | None = None) -> None:
    """Log one callback; a reached customer closes the task (recovered or not)."""
    outcome, recovered = parse_outcome(outcome, recovered)
    if satisfaction is not None and not 0 <= satisfaction <= 10:
        raise InvalidInput("callbacks.satisfaction_score", where="satisfaction")
    now = ctx.now()
    with ctx.db.write() as conn:
        task = task_of(conn, actor, public_id)
        actor.require(PERMISSION, task.unit_id)
        if task.status != "open":
            raise InvalidInput("callbacks.callback_task_already_done", where="callback task")
        conn.execute(sa.insert(t.callback_call).values(
            task_id=task.id, user_id=actor.user_id, at=now, outcome=outcome,
            recovered=recovered, satisfaction=satisfaction, note=(note or "").strip() or None))
        if outcome == "reached":
            conn.execute(sa.update(t.callback_task).where(t.callback_task.c.id == task.id)
                         .values(status="done", done_at=now))
        if task.case_id is not None:
            _on_case(conn, task.case_id, actor.user_id, now, outcome, recovered,
                     (note or "").strip()[:5000] or None, satisfaction)


def _on_case(conn: Connection, case_id: int, user_id: int, now: dt.datetime, outcome: str,
             recovered: bool | None, note: str | None = None,
             satisfaction: float | None = None) -> None:
    from tiyan.services.cases import record_first_contact
    from tiyan.store.cases import log_event

    detail: dict[str, Any] = {"outcome": outcome}
    if recovered is not None:
        detail["recovered"] = recovered
    if satisfaction is not None:  # the satisfaction asked again, 0-10
        detail["satisfaction"] = satisfaction
    if note:  # what the customer said, in the case's history too
        detail["note"] = note
    log_event(conn, case_id, at=now, user_id=user_id, kind="callback", detail=detail)
    if outcome == "reached":
        record_first_contact(conn, case_id, user_id, now)


def calls_of(conn: Connection, task_id: int) -> list[RowMapping]:
    return list(conn.execute(sa.select(t.callback_call).where(t.callback_call.c.task_id == task_id)
                             .order_by(t.callback_call.c.at)).mappings())


def calls_of_tasks(conn: Connection, task_ids: list[int]) -> dict[int, list[RowMapping]]:
    """The call log of several tasks at once (task id → calls, oldest first)."""
    out: dict[int, list[RowMapping]] = {}
    if task_ids:
        query = (sa.select(t.callback_call).where(t.callback_call.c.task_id.in_(task_ids))
                 .order_by(t.callback_call.c.at, t.callback_call.c.id))
        for row in conn.execute(query).mappings():
            out.setdefault(row.task_id, []).append(row)
    return out


def recovery_kpi(conn: Connection, actor: Actor, *, start: dt.datetime | None = None,
                 end: dt.datetime | None = None, unit_ids: list[int] | None = None
                 ) -> RecoveryRate:
    """Recovery rate over callback tasks created in [start, end) that the actor may see."""
    vis = actor.scope.visibility(PERMISSION)
    last = (sa.select(t.callback_call.c.task_id, sa.func.max(t.callback_call.c.id).label("cid"))
            .where(t.callback_call.c.outcome == "reached").group_by(t.callback_call.c.task_id)
            .subquery())
    query = (sa.select(t.callback_call.c.recovered)
             .select_from(t.callback_task)
             .outerjoin(last, last.c.task_id == t.callback_task.c.id)
             .outerjoin(t.callback_call, t.callback_call.c.id == last.c.cid)
             .where(visible(vis, t.callback_task.c.unit_id)))
    if start is not None:
        query = query.where(t.callback_task.c.created_at >= start)
    if end is not None:
        query = query.where(t.callback_task.c.created_at < end)
    if unit_ids is not None:
        query = query.where(t.callback_task.c.unit_id.in_(unit_ids))
    return recovery_rate(conn.execute(query).scalars())
