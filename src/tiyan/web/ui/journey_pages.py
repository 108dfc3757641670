"""The journey pages: every journey, and one journey as a flow of touchpoints with the surveys
and channels listening at each — plus the editor's forms (plain POST + redirect, no script)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.journeys import LISTENING_CHANNELS
from tiyan.errors import TiyanError
from tiyan.services import journeys as service
from tiyan.store import journeys as store
from tiyan.store import surveys as survey_store
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.builder import Posted
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


@router.get("/journeys", response_class=HTMLResponse)
def journey_list(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    return _list_page(request, ctx, actor)


def _list_page(request: Request, ctx: Context, actor: Actor, **values: Any) -> HTMLResponse:
    actor.require(Permission.VIEW_DASHBOARD)
    with ctx.db.read() as conn:
        rows = store.list_journeys(conn)
    return render(request, "journeys.html", actor=actor, rows=rows,
                  can_edit=actor.can(Permission.MANAGE_SURVEYS),
                  values=values.pop("values", {}), **values)


@router.post("/journeys")
def create_journey(request: Request, ctx: ContextDep, actor: PageActor,
                   fields: Posted) -> Response:
    code = fields.get("code", "").strip()
    try:
        service.do_create_journey(ctx, actor, code=code, name_zh=fields.get("name_zh", ""),
                                  name_en=fields.get("name_en", ""),
                                  description=fields.get("description", "").strip() or None)
    except TiyanError as exc:
        return _list_page(request, ctx, actor, error=exc, values=fields, status_code=exc.status)
    return RedirectResponse(f"/journeys/{code}", status_code=303)


@router.get("/journeys/{code}", response_class=HTMLResponse)
def journey_page(request: Request, ctx: ContextDep, actor: PageActor, code: str) -> HTMLResponse:
    return _journey_page(request, ctx, actor, code[:64])


def _journey_page(request: Request, ctx: Context, actor: Actor, code: str,
                  **values: Any) -> HTMLResponse:
    with ctx.db.read() as conn:
        view = service.journey_view(conn, actor, code)
        manageable = actor.scope.visibility(Permission.MANAGE_SURVEYS)
        surveys = [s for s in survey_store.survey_overview(conn, actor)
                   if manageable.covers_unit(s["unit_id"])]
    flat: list[tuple[service.Step, service.Step | None]] = [(step, None) for step in view.steps]
    flat += [(child, step) for step in view.steps for child in step.children]
    return render(request, "journey.html", actor=actor, view=view, journey=view.journey,
                  all_touchpoints=flat, surveys=surveys, channels=LISTENING_CHANNELS,
                  can_edit=actor.can(Permission.MANAGE_SURVEYS),
                  values=values.pop("values", {}), **values)


def _do(request: Request, ctx: Context, actor: Actor, code: str, fields: dict[str, str],
        change: Any, anchor: str = "") -> Response:
    """Run one editor change; redirect back on success, re-render with the error otherwise."""
    try:
        change()
    except TiyanError as exc:
        return _journey_page(request, ctx, actor, code, error=exc, values=fields,
                             status_code=exc.status)
    return RedirectResponse(f"/journeys/{code}{anchor}", status_code=303)


@router.post("/journeys/{code}")
def update_journey(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                   fields: Posted) -> Response:
    return _do(request, ctx, actor, code, fields, lambda: service.do_update_journey(
        ctx, actor, code, name_zh=fields.get("name_zh"), name_en=fields.get("name_en"),
        description=fields.get("description", "")))


@router.post("/journeys/{code}/delete")
def delete_journey(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                   fields: Posted) -> Response:
    try:
        service.do_delete_journey(ctx, actor, code)
    except TiyanError as exc:
        return _journey_page(request, ctx, actor, code, error=exc, status_code=exc.status)
    return RedirectResponse("/journeys", status_code=303)


@router.post("/journeys/{code}/touchpoints")
def add_touchpoint(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                   fields: Posted) -> Response:
    position = fields.get("position", "").strip()
    return _do(request, ctx, actor, code, fields, lambda: service.do_add_touchpoint(
        ctx, actor, code, code=fields.get("code", "").strip(),
        name_zh=fields.get("name_zh", ""), name_en=fields.get("name_en", ""),
        parent=fields.get("parent") or None,
        position=int(position) if position.isdigit() else None), "#flow")


@router.post("/journeys/{code}/touchpoints/{touchpoint}/move")
def move_touchpoint(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                    touchpoint: str, fields: Posted) -> Response:
    step = -1 if fields.get("direction") == "earlier" else 1
    return _do(request, ctx, actor, code, fields, lambda: service.do_move_touchpoint(
        ctx, actor, code, touchpoint, step), "#flow")


@router.post("/journeys/{code}/touchpoints/rename")
def rename_touchpoint(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                      fields: Posted) -> Response:
    """Rename the chosen touchpoint; an empty name keeps the current one."""
    return _do(request, ctx, actor, code, fields, lambda: service.do_update_touchpoint(
        ctx, actor, code, fields.get("touchpoint", ""),
        name_zh=fields.get("name_zh", "").strip() or None,
        name_en=fields.get("name_en", "").strip() or None), "#flow")


@router.post("/journeys/{code}/touchpoints/{touchpoint}/delete")
def delete_touchpoint(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                      touchpoint: str, fields: Posted) -> Response:
    return _do(request, ctx, actor, code, fields, lambda: service.do_delete_touchpoint(
        ctx, actor, code, touchpoint), "#flow")


@router.post("/journeys/{code}/listeners")
def set_listener(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                 fields: Posted) -> Response:
    channels = [c for c in LISTENING_CHANNELS if f"channel.{c}" in fields]
    return _do(request, ctx, actor, code, fields, lambda: service.do_set_listener(
        ctx, actor, code, fields.get("touchpoint", ""), fields.get("survey", ""), channels),
        "#flow")


@router.post("/journeys/{code}/listeners/remove")
def remove_listener(request: Request, ctx: ContextDep, actor: PageActor, code: str,
                    fields: Posted) -> Response:
    return _do(request, ctx, actor, code, fields, lambda: service.do_remove_listener(
        ctx, actor, code, fields.get("touchpoint", ""), fields.get("survey", "")), "#flow")
