"""REST API for outbound webhooks: register endpoints, read their delivery log, redeliver."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.engine import RowMapping

from tiyan.channels.outbound import shown_error
from tiyan.domain.access import Permission
from tiyan.services.webhooks import do_create_webhook, do_deactivate_webhook, do_redeliver
from tiyan.store import webhooks as store
from tiyan.web.api import webhook_schemas as s
from tiyan.web.api.cursor import decode_cursor, encode_cursor
from tiyan.web.api.schemas import ErrorBody
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=ERRORS)


@router.post("", response_model=s.WebhookCreated, status_code=201)
def create_webhook(body: s.WebhookIn, ctx: ContextDep, actor: ApiActor) -> s.WebhookCreated:
    """Register an endpoint; the reply carries its signing secret, shown this once."""
    created = do_create_webhook(ctx, actor, url=body.url, events=body.events,
                                unit_code=body.unit_code)
    with ctx.db.read() as conn:
        row = store.get_endpoint(conn, actor, created.public_id)
    return s.WebhookCreated(**_webhook(row).model_dump(), secret=created.secret)


@router.get("", response_model=list[s.WebhookOut])
def list_webhooks(ctx: ContextDep, actor: ApiActor) -> list[s.WebhookOut]:
    actor.require(Permission.MANAGE_WEBHOOKS)
    with ctx.db.read() as conn:
        return [_webhook(row) for row in store.list_endpoints(conn, actor)]


@router.get("/{webhook_id}", response_model=s.WebhookOut)
def get_webhook(webhook_id: str, ctx: ContextDep, actor: ApiActor) -> s.WebhookOut:
    actor.require(Permission.MANAGE_WEBHOOKS)
    with ctx.db.read() as conn:
        return _webhook(store.get_endpoint(conn, actor, webhook_id[:64]))


@router.post("/{webhook_id}/deactivate", response_model=s.WebhookOut)
def deactivate_webhook(webhook_id: str, ctx: ContextDep, actor: ApiActor) -> s.WebhookOut:
    """Stop sending to this endpoint (waiting deliveries are cancelled)."""
    actor.require(Permission.MANAGE_WEBHOOKS)
    do_deactivate_webhook(ctx, actor, webhook_id[:64])
    with ctx.db.read() as conn:
        return _webhook(store.get_endpoint(conn, actor, webhook_id[:64]))


@router.get("/{webhook_id}/deliveries", response_model=s.DeliveryPage)
def list_deliveries(webhook_id: str, ctx: ContextDep, actor: ApiActor,
                    cursor: Annotated[str | None, Query(max_length=64)] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50) -> s.DeliveryPage:
    """The delivery log, newest first: status, attempts, last answer and next attempt."""
    actor.require(Permission.MANAGE_WEBHOOKS)
    with ctx.db.read() as conn:
        endpoint = store.get_endpoint(conn, actor, webhook_id[:64])
        rows = store.list_deliveries(conn, endpoint["id"], after_id=decode_cursor(cursor),
                                     limit=limit)
    next_cursor = encode_cursor(rows[-1]["id"]) if len(rows) == limit else None
    return s.DeliveryPage(items=[_delivery(r) for r in rows], next_cursor=next_cursor)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", response_model=s.DeliveryOut,
             status_code=202)
def redeliver(webhook_id: str, delivery_id: str, ctx: ContextDep,
              actor: ApiActor) -> s.DeliveryOut:
    """Send a delivery again now, with the same message id."""
    actor.require(Permission.MANAGE_WEBHOOKS)
    return _delivery(do_redeliver(ctx, actor, webhook_id[:64], delivery_id[:64]))


def _webhook(row: RowMapping) -> s.WebhookOut:
    return s.WebhookOut(id=row["public_id"], url=row["url"], events=list(row["events"]),
                        unit_code=row["unit_code"], active=row["active"],
                        created_at=row["created_at"])


def _delivery(row: RowMapping) -> s.DeliveryOut:
    return s.DeliveryOut(id=row["message_id"], event_type=row["event_type"],
                         status=row["status"], attempts=row["attempts"],
                         last_status_code=row["last_status_code"],
                         last_error=shown_error(row["last_error"]),
                         next_attempt_at=row["next_attempt_at"], created_at=row["created_at"],
                         delivered_at=row["delivered_at"])
