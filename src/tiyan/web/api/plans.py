"""REST API for action plans (改进计划): create, list (scoped), one plan with its progress and
measured effect, change its fields and status, delete; tasks added, changed and removed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.engine import RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, subtree
from tiyan.errors import InvalidInput
from tiyan.services import plans as service
from tiyan.store import org
from tiyan.store import plans as store
from tiyan.store.scoped import parent_map
from tiyan.web.api import plan_schemas as s
from tiyan.web.api.params import RowId
from tiyan.web.api.schemas import ErrorBody
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["action plans"])


def _out(conn: Any, row: RowMapping, tasks: list[RowMapping]) -> s.PlanOut:
    return s.PlanOut(
        id=row.public_id, title=row.title, kpi=row.kpi, status=row.status,
        units=service.unit_codes(conn, row), owner_email=row.owner_email,
        owner_name=row.owner_name, start_date=row.start_date, end_date=row.end_date,
        created_at=row.created_at, progress=service.progress(tasks),
        tasks=[s.TaskOut(id=x.id, title=x.title, due_date=x.due_date, status=x.status,
                         owner_name=x.owner_name, done_at=x.done_at) for x in tasks])


@router.get("/plans", response_model=list[s.PlanOut])
def list_plans(ctx: ContextDep, actor: ApiActor,
               status: Annotated[s.PlanStatus | None, Query()] = None,
               unit: Annotated[str | None, Query(max_length=64)] = None) -> list[s.PlanOut]:
    """Plans in the caller's units, latest start first; `unit` = plans on that unit's subtree."""
    actor.require(store.VIEW)
    with ctx.db.read() as conn:
        units = frozenset(subtree(parent_map(conn), org.unit_id_by_code(conn, unit))) \
            if unit else None
        rows = store.list_plans(conn, actor, status=status, unit_ids=units)
        tasks = store.tasks_of(conn, [r.id for r in rows])
        return [_out(conn, r, tasks.get(r.id, [])) for r in rows]


@router.post("/plans", response_model=s.PlanDetail, status_code=201)
def create_plan(body: s.PlanIn, ctx: ContextDep, actor: ApiActor) -> s.PlanDetail:
    """Create a plan on units the caller manages cases at, with its first tasks."""
    public_id = service.do_create_plan(ctx, actor, service.PlanRequest(
        title=body.title, kpi=body.kpi, unit_codes=body.units, start_date=body.start_date,
        end_date=body.end_date, owner_email=body.owner_email,
        tasks=[service.TaskRequest(x.title, x.due_date) for x in body.tasks]))
    return _detail(ctx, actor, public_id)


@router.get("/plans/{plan_id}", response_model=s.PlanDetail)
def get_plan(plan_id: str, ctx: ContextDep, actor: ApiActor) -> s.PlanDetail:
    """The plan, its tasks and progress, and its measured effect (difference-in-differences
    against comparable units, 95% CI) or why there is none."""
    actor.require(store.VIEW)
    return _detail(ctx, actor, plan_id[:32])


def _detail(ctx: Context, actor: Actor, public_id: str) -> s.PlanDetail:
    with ctx.db.read() as conn:
        row = store.get_plan(conn, actor, public_id)
        plan = _out(conn, row, store.tasks_of(conn, [row.id]).get(row.id, []))
    effect = service.measured_effect(ctx, actor, row)
    r = effect.result
    return s.PlanDetail(**plan.model_dump(), effect=s.EffectOut(
        kpi=effect.kpi, before_start=effect.before_start, after_end=effect.after_end,
        effect=r.effect if r else None, low=r.low if r else None, high=r.high if r else None,
        p_value=r.p_value if r else None, significant=r.significant if r else None,
        problem=effect.problem,
        treated=[_figures(f) for f in effect.treated],
        control=[_figures(f) for f in effect.control], units_left_out=effect.left_out))


def _figures(f: service.UnitFigures) -> s.UnitFiguresOut:
    return s.UnitFiguresOut(unit=f.code, before=f.before, after=f.after, n_before=f.n_before,
                            n_after=f.n_after)


@router.patch("/plans/{plan_id}", response_model=s.PlanDetail)
def update_plan(plan_id: str, body: s.PlanPatch, ctx: ContextDep,
                actor: ApiActor) -> s.PlanDetail:
    """Change the fields sent (title, KPI, units, owner, dates, status active/done/cancelled)."""
    changes = body.model_dump(exclude_unset=True)
    if "units" in changes:
        changes["unit_codes"] = changes.pop("units")
    _not_null(changes, ("title", "kpi", "unit_codes", "start_date", "status"))
    service.do_update_plan(ctx, actor, plan_id[:32], changes)
    return _detail(ctx, actor, plan_id[:32])


def _not_null(changes: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in changes and changes[name] is None:
            raise InvalidInput("plans.may_not_null", where=name.replace("unit_codes", "units"))


@router.delete("/plans/{plan_id}", response_model=s.Deleted)
def delete_plan(plan_id: str, ctx: ContextDep, actor: ApiActor) -> s.Deleted:
    service.do_delete_plan(ctx, actor, plan_id[:32])
    return s.Deleted(deleted=True)


@router.post("/plans/{plan_id}/tasks", response_model=s.PlanDetail, status_code=201)
def add_task(plan_id: str, body: s.TaskIn, ctx: ContextDep, actor: ApiActor) -> s.PlanDetail:
    service.do_add_task(ctx, actor, plan_id[:32], service.TaskRequest(body.title, body.due_date))
    return _detail(ctx, actor, plan_id[:32])


@router.patch("/plans/{plan_id}/tasks/{task_id}", response_model=s.PlanDetail)
def update_task(plan_id: str, task_id: RowId, body: s.TaskPatch, ctx: ContextDep,
                actor: ApiActor) -> s.PlanDetail:
    """Change a task's title, due date and/or status (todo, doing, done)."""
    changes = body.model_dump(exclude_unset=True)
    _not_null(changes, ("title", "status"))
    service.do_update_task(ctx, actor, plan_id[:32], task_id, changes)
    return _detail(ctx, actor, plan_id[:32])


@router.delete("/plans/{plan_id}/tasks/{task_id}", response_model=s.PlanDetail)
def delete_task(plan_id: str, task_id: RowId, ctx: ContextDep,
                actor: ApiActor) -> s.PlanDetail:
    service.do_delete_task(ctx, actor, plan_id[:32], task_id)
    return _detail(ctx, actor, plan_id[:32])
