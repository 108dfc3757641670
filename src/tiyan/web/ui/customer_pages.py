"""Customer 360 page (each opening audited; erasure after a confirmation, for roles that may)
and the at-risk worklist of a manager's units (zh-CN/en, unit-scoped)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.analytics.insights import aspect_names
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.customer_value import segment_label
from tiyan.services.audit_trail import Origin
from tiyan.services.churn import current_model_info, lapse_rules_of
from tiyan.services.customer360 import at_risk_threshold, at_risk_worklist, customer_360
from tiyan.services.erasure import can_erase, do_erase_customer
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.request_origin import OriginDep
from tiyan.web.ui.names import survey_names, unit_names
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
OWNERS = frozenset({"unit_manager", "cx_manager", "frontline", "agent"})
SENTIMENTS = frozenset({"negative", "neutral", "positive"})
FIELDS = frozenset({"phone", "email", "name", "city", "kind", "plate", "vin", "car_model",
                    "member_level", "member_tier", "vip"})
KINDS = frozenset({"purchase", "repair", "stay", "visit", "refund"})
CustomerId = Annotated[str, Path(max_length=64)]


@router.get("/customers/at-risk", response_class=HTMLResponse)
def at_risk_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.VIEW_CUSTOMERS)
    threshold = at_risk_threshold(ctx)
    rows = at_risk_worklist(ctx, actor, limit=50, min_risk=threshold)
    info = current_model_info(ctx) or {}
    base_rate = info["churners"] / info["rows"] if info.get("rows") else None
    with ctx.db.read() as conn:
        units = unit_names(conn, translator(request).locale)
    return render(request, "customers_at_risk.html", actor=actor, rows=rows, units=units,
                  threshold=threshold, segment_label=segment_label,
                  definition=list(lapse_rules_of(info).values()), base_rate=base_rate)


@router.get("/customers/{public_id}", response_class=HTMLResponse)
def customer_page(request: Request, ctx: ContextDep, actor: PageActor, origin: OriginDep,
                  public_id: CustomerId) -> HTMLResponse:
    return _customer_page(request, ctx, actor, origin, public_id)


@router.get("/customers/{public_id}/erase", response_class=HTMLResponse)
def confirm_erase(request: Request, ctx: ContextDep, actor: PageActor, origin: OriginDep,
                  public_id: CustomerId) -> HTMLResponse:
    """Asks before erasing, naming the customer and what goes (works without JavaScript)."""
    return _customer_page(request, ctx, actor, origin, public_id, confirm_erase=True)


@router.post("/customers/{public_id}/erase")
def erase(ctx: ContextDep, actor: PageActor, origin: OriginDep, public_id: CustomerId,
          confirm: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Erases the customer (services/erasure: 404 outside the actor's customers, 403 without
    erase_customers there), then shows the page in its erased state."""
    if confirm != "yes":
        return RedirectResponse(f"/customers/{quote(public_id, safe='')}/erase", status_code=303)
    done = do_erase_customer(ctx, actor, public_id, ip=origin.ip, via="page")
    return RedirectResponse(f"/customers/{quote(done.customer_id, safe='')}?erased=1",
                            status_code=303)


def _customer_page(request: Request, ctx: Context, actor: Actor, origin: Origin,
                   public_id: str, *, confirm_erase: bool = False) -> HTMLResponse:
    view = customer_360(ctx, actor, public_id, origin)
    customer = view["customer"]
    erasable = customer["erased_at"] is None and can_erase(actor, customer["unit_id"])
    if confirm_erase and customer["erased_at"] is None:
        actor.require(Permission.ERASE_CUSTOMERS, customer["unit_id"])
    locale = translator(request).locale
    with ctx.db.read() as conn:
        units, surveys = unit_names(conn, locale), survey_names(conn)
    aspects = {code: zh if locale == "zh-CN" else en for code, (zh, en) in aspect_names().items()}
    return render(request, "customer.html", actor=actor, v=view, c=customer,
                  unit_names=units, survey_names=surveys, aspect_names=aspects,
                  segment_label=segment_label, owners=OWNERS, sentiments=SENTIMENTS,
                  fields=FIELDS, kinds=KINDS, can_erase=erasable,
                  confirm_erase=confirm_erase and erasable,
                  just_erased=request.query_params.get("erased") == "1")
