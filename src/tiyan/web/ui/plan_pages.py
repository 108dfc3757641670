"""Action plan pages: the list with a creation form (tasks one per line), and a plan's page with
task statuses, progress and the measured effect (difference-in-differences with its CI); the plan
is edited there (fields, units, owner, status; deleted after a confirmation) and so are its
tasks (title, due date, status; removed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.errors import Forbidden, InvalidInput, NotFound, TiyanError
from tiyan.services import plans as service
from tiyan.store import org
from tiyan.store import plans as store
from tiyan.web.api.params import RowId
from tiyan.web.bodies import PostedForm
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.names import unit_names
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]
Text = Annotated[str, Form(max_length=300)]



def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("plan_pages.not_date_yyyy_mm", text=text, where=where) from None


def parse_tasks(text: str) -> list[service.TaskRequest]:
    """One task a line: an optional due date (YYYY-MM-DD) then the title."""
    tasks = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        head, _, rest = line.partition(" ")
        if len(head) == 10 and head[4] == "-" and head[7] == "-":
            tasks.append(service.TaskRequest(rest, _date(head, f"tasks, line {number}")))
        else:
            tasks.append(service.TaskRequest(line))
    return tasks


@router.get("/plans", response_class=HTMLResponse)
def plans_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(store.VIEW)
    return _plans_page(request, ctx, actor, deleted=request.query_params.get("deleted") == "1")


def _plans_page(request: Request, ctx: Context, actor: Actor, *, status_code: int = 200,
                **values: Any) -> HTMLResponse:
    with ctx.db.read() as conn:
        rows = store.list_plans(conn, actor)
        tasks = store.tasks_of(conn, [r.id for r in rows])
        reach = actor.scope.visibility(store.EDIT).unit_ids
        units = [u for u in org.list_units(conn, actor) if u["id"] in reach]
        names = unit_names(conn, translator(request).locale)
    return render(request, "plans.html", actor=actor, rows=rows, units=units, kpis=service.KPIS,
                  unit_names=names,
                  progress={r.id: service.progress(tasks.get(r.id, [])) for r in rows},
                  today=ctx.now().date().isoformat(), status_code=status_code, **values)


TASK_ROWS = 5  # task rows on the creation form (more on the plan's page)


def task_rows(form: Any) -> list[dict[str, str]]:
    """The creation form's task rows (`task_title0`, `task_due0`, …) as posted."""
    return [{"title": str(form.get(f"task_title{i}") or "").strip()[:300],
             "due": str(form.get(f"task_due{i}") or "").strip()[:10]} for i in range(TASK_ROWS)]


def tasks_of_rows(rows: list[dict[str, str]]) -> list[service.TaskRequest]:
    """A task for each row with a title; a due date given is checked (where: its row)."""
    return [service.TaskRequest(r["title"], _date(r["due"], f"task_due{i}") if r["due"]
                                else None)
            for i, r in enumerate(rows) if r["title"]]


@router.post("/plans", response_class=HTMLResponse)
def create_plan(request: Request, ctx: ContextDep, actor: PageActor, title: Text,
                form: PostedForm,
                kpi: Annotated[str, Form(max_length=16)],
                start_date: Annotated[str, Form(max_length=10)],
                units: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form
                owner: Annotated[str, Form(max_length=320)] = "",
                tasks: Annotated[str, Form(max_length=20000)] = "") -> Response:
    """Tasks come as rows (title and due date), or as lines in `tasks` (API-style posts)."""
    rows = task_rows(form)
    values = {"title": title, "kpi": kpi, "start_date": start_date, "units": units,
              "owner": owner, "tasks": tasks, "task_rows": rows}
    try:
        public_id = service.do_create_plan(ctx, actor, service.PlanRequest(
            title=title, kpi=kpi, unit_codes=units[:50],
            start_date=_date(start_date, "start_date"), owner_email=owner.strip() or None,
            tasks=tasks_of_rows(rows) + parse_tasks(tasks)))
    except TiyanError as exc:
        return _plans_page(request, ctx, actor, status_code=exc.status, error=exc,
                           values=values)
    return RedirectResponse(f"/plans/{public_id}", status_code=303)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str, ctx: ContextDep,
              actor: PageActor) -> HTMLResponse:
    actor.require(store.VIEW)
    return _plan_page(request, ctx, actor, plan_id[:32])


def _plan_page(request: Request, ctx: Context, actor: Actor, plan_id: str, *,
               error: TiyanError | None = None, status_code: int = 200,
               values: dict[str, Any] | None = None, editing: str | None = None,
               confirm_delete: bool = False) -> HTMLResponse:
    with ctx.db.read() as conn:
        plan = store.get_plan(conn, actor, plan_id)
        tasks = store.tasks_of(conn, [plan.id]).get(plan.id, [])
        codes = service.unit_codes(conn, plan)
        reach = actor.scope.visibility(store.EDIT).unit_ids
        can_edit = store.may_edit(actor, store.plan_unit_ids(plan))
        units = [u for u in org.list_units(conn, actor) if u["id"] in reach] if can_edit else []
        names = unit_names(conn, translator(request).locale)  # the plan names its units by code
    effect = service.measured_effect(ctx, actor, plan)
    if values is None:
        values = {"title": plan.title, "kpi": plan.kpi, "units": codes,
                  "owner": plan.owner_email or "", "start_date": plan.start_date.isoformat(),
                  "end_date": plan.end_date.isoformat() if plan.end_date else ""}
    return render(request, "plan.html", actor=actor, plan=plan, tasks=tasks, codes=codes,
                  unit_names=names,
                  progress=service.progress(tasks), effect=effect, can_edit=can_edit,
                  statuses=service.TASK_STATUSES, plan_statuses=service.PLAN_STATUSES,
                  kpis=service.KPIS, units=units, values=values, editing=editing,
                  confirm_delete=confirm_delete, error=error, status_code=status_code,
                  window=service.WINDOW_DAYS, min_n=service.MIN_RESPONSES)


def _act(request: Request, ctx: Context, actor: Actor, plan_id: str, work: Any, *,
         values: dict[str, Any] | None = None, editing: str | None = None) -> Response:
    try:
        work()
    except (InvalidInput, Forbidden, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.where == "plan":
            raise
        return _plan_page(request, ctx, actor, plan_id, error=exc, status_code=exc.status,
                          values=values, editing=editing)
    return RedirectResponse(f"/plans/{plan_id}", status_code=303)


@router.post("/plans/{plan_id}/edit")
def edit_plan(request: Request, plan_id: str, ctx: ContextDep, actor: PageActor, title: Text,
              kpi: Annotated[str, Form(max_length=16)],
              start_date: Annotated[str, Form(max_length=10)],
              units: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form
              owner: Annotated[str, Form(max_length=320)] = "",
              end_date: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Change the plan's title, KPI, units, owner and dates (the whole form is sent)."""
    plan_id = plan_id[:32]
    values = {"title": title, "kpi": kpi, "units": units, "owner": owner,
              "start_date": start_date, "end_date": end_date}
    return _act(request, ctx, actor, plan_id, lambda: service.do_update_plan(
        ctx, actor, plan_id, {
            "title": title, "kpi": kpi, "unit_codes": units[:50],
            "start_date": _date(start_date, "start_date"),
            "end_date": _date(end_date, "end_date") if end_date.strip() else None,
            "owner_email": owner.strip() or None}), values=values, editing="plan")


@router.post("/plans/{plan_id}/status")
def set_plan_status(request: Request, plan_id: str, ctx: ContextDep, actor: PageActor,
                    status: Annotated[str, Form(max_length=16)]) -> Response:
    return _act(request, ctx, actor, plan_id[:32], lambda: service.do_set_plan_status(
        ctx, actor, plan_id[:32], status))


@router.get("/plans/{plan_id}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, plan_id: str, ctx: ContextDep,
                   actor: PageActor) -> HTMLResponse:
    """Asks before deleting (works without JavaScript)."""
    actor.require(store.VIEW)
    return _plan_page(request, ctx, actor, plan_id[:32], confirm_delete=True)


@router.post("/plans/{plan_id}/delete")
def delete_plan(request: Request, plan_id: str, ctx: ContextDep, actor: PageActor,
                confirm: Annotated[str, Form(max_length=8)] = "") -> Response:
    if confirm != "yes":
        return RedirectResponse(f"/plans/{plan_id[:32]}/delete", status_code=303)
    service.do_delete_plan(ctx, actor, plan_id[:32])
    return RedirectResponse("/plans?deleted=1", status_code=303)


@router.post("/plans/{plan_id}/tasks")
def add_task(request: Request, plan_id: str, ctx: ContextDep, actor: PageActor, title: Text,
             due_date: Annotated[str, Form(max_length=10)] = "") -> Response:
    return _act(request, ctx, actor, plan_id[:32], lambda: service.do_add_task(
        ctx, actor, plan_id[:32], service.TaskRequest(
            title, _date(due_date, "due_date") if due_date.strip() else None)))


@router.post("/plans/{plan_id}/tasks/{task_id}")
def set_task(request: Request, plan_id: str, task_id: RowId, ctx: ContextDep, actor: PageActor,
             status: Annotated[str, Form(max_length=16)] = "",
             title: Annotated[str, Form(max_length=300)] = "",
             due_date: Annotated[str, Form(max_length=10)] = "",
             whole: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Change a task: its status alone (the select in the list), or title, due date and status
    (the task's edit form, sent with whole=yes; an empty due date clears it)."""
    plan_id = plan_id[:32]

    def work() -> None:
        changes: dict[str, Any] = {"status": status}
        if whole == "yes":
            changes["title"] = title
            changes["due_date"] = _date(due_date, "due_date") if due_date.strip() else None
        service.do_update_task(ctx, actor, plan_id, task_id, changes)

    return _act(request, ctx, actor, plan_id, work, editing=f"task-{task_id}")


@router.post("/plans/{plan_id}/tasks/{task_id}/delete")
def delete_task(request: Request, plan_id: str, task_id: RowId, ctx: ContextDep,
                actor: PageActor) -> Response:
    return _act(request, ctx, actor, plan_id[:32], lambda: service.do_delete_task(
        ctx, actor, plan_id[:32], task_id))

