"""Composite indices (zh-CN/en): the organisation's list and a form to define one (users who
manage surveys). The overview shows a tile per index (analytics/dashboard)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.domain.access import Permission
from tiyan.errors import InvalidInput
from tiyan.services import indices
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.driver_pages import item_labels
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)


def _form(request: Request, ctx: ContextDep, actor: PageActor, *, saved: str | None = None,
          error: InvalidInput | None = None, values: dict[str, str] | None = None) -> HTMLResponse:
    with ctx.db.read() as conn:
        names = item_labels(conn, actor, translator(request).locale)
    return render(request, "dashboard_indices.html", actor=actor, item_names=names,
                  status_code=error.status if error else 200,
                  definitions=indices.list_indices(ctx), saved=saved, error=error,
                  values=values or {})


@router.get("/dashboard/indices", response_class=HTMLResponse)
def indices_page(request: Request, ctx: ContextDep, actor: PageActor,
                 saved: str | None = None) -> HTMLResponse:
    actor.require(Permission.MANAGE_SURVEYS)
    return _form(request, ctx, actor, saved=saved)



@router.post("/dashboard/indices")
def indices_save(request: Request, ctx: ContextDep, actor: PageActor,
                 code: Annotated[str, Form(max_length=200)] = "",
                 name_zh: Annotated[str, Form(max_length=500)] = "",
                 name_en: Annotated[str, Form(max_length=500)] = "",
                 items: Annotated[str, Form(max_length=20000)] = "") -> Response:
    """Define an index (or replace the one with this code); a bad field: the form again, 422."""
    actor.require(Permission.MANAGE_SURVEYS)
    try:
        saved = indices.do_save_index(ctx, actor, code, name_zh, name_en, items)
    except InvalidInput as exc:
        return _form(request, ctx, actor, error=exc, values={
            "code": code, "name_zh": name_zh, "name_en": name_en, "items": items})
    return RedirectResponse(f"/dashboard/indices?saved={saved.code}", status_code=303)


@router.post("/dashboard/indices/{code}/delete")
def indices_delete(request: Request, ctx: ContextDep, actor: PageActor, code: str) -> Response:
    actor.require(Permission.MANAGE_SURVEYS)
    indices.do_delete_index(ctx, actor, code)
    return RedirectResponse("/dashboard/indices", status_code=303)
