"""The webhooks admin page: register endpoints, see the delivery log, redeliver, deactivate.

For admins and CX managers (MANAGE_WEBHOOKS); every change goes through
`tiyan.services.webhooks` (validated, scoped, audit-logged). The signing secret is shown once,
on the page that answers the creation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.channels.outbound import shown_error
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import TiyanError
from tiyan.services import webhooks as service
from tiyan.store import org
from tiyan.store import webhooks as store
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form(max_length=2000)]



@router.get("/admin/webhooks", response_class=HTMLResponse)
def webhook_list(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.MANAGE_WEBHOOKS)
    return _list_page(request, ctx, actor)


def _list_page(request: Request, ctx: Context, actor: Actor, *, status_code: int = 200,
               **values: object) -> HTMLResponse:
    with ctx.db.read() as conn:
        rows = store.list_endpoints(conn, actor)
        reach = actor.scope.visibility(Permission.MANAGE_WEBHOOKS).unit_ids
        units = [u for u in org.list_units(conn, actor) if u["id"] in reach]
    return render(request, "webhooks.html", actor=actor, rows=rows, units=units,
                  events=service.EVENTS, status_code=status_code, **values)


@router.post("/admin/webhooks", response_class=HTMLResponse)
def create_webhook(request: Request, ctx: ContextDep, actor: PageActor, url: Field,
                   unit_code: Annotated[str, Form(max_length=64)],
                   events: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form
                   ) -> HTMLResponse:
    try:
        created = service.do_create_webhook(ctx, actor, url=url.strip(), events=events,
                                            unit_code=unit_code)
    except TiyanError as exc:
        values = {"url": url, "unit_code": unit_code, "events": events}
        return _list_page(request, ctx, actor, status_code=exc.status,
                          error=exc, values=values)
    return _list_page(request, ctx, actor, created=created)


@router.post("/admin/webhooks/{webhook_id}/deactivate")
def deactivate(request: Request, webhook_id: str, ctx: ContextDep, actor: PageActor) -> Response:
    service.do_deactivate_webhook(ctx, actor, webhook_id[:64])
    return RedirectResponse("/admin/webhooks", status_code=303)


@router.get("/admin/webhooks/{webhook_id}", response_class=HTMLResponse)
def webhook_detail(request: Request, webhook_id: str, ctx: ContextDep,
                   actor: PageActor) -> HTMLResponse:
    actor.require(Permission.MANAGE_WEBHOOKS)
    with ctx.db.read() as conn:
        endpoint = store.get_endpoint(conn, actor, webhook_id[:64])
        deliveries = store.list_deliveries(conn, endpoint["id"], limit=200)
    shown = [{**d, "last_error": shown_error(d["last_error"])} for d in deliveries]
    return render(request, "webhook_deliveries.html", actor=actor, endpoint=endpoint,
                  deliveries=shown)


@router.post("/admin/webhooks/{webhook_id}/deliveries/{message_id}/redeliver")
def redeliver(request: Request, webhook_id: str, message_id: str, ctx: ContextDep,
              actor: PageActor) -> Response:
    service.do_redeliver(ctx, actor, webhook_id[:64], message_id[:64])
    return RedirectResponse(f"/admin/webhooks/{webhook_id[:64]}", status_code=303)
