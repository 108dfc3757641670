"""Customer 360 page and the at-risk worklist of a manager's units (zh-CN/en, unit-scoped)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from tiyan.domain.access import Permission
from tiyan.domain.customer_value import segment_label
from tiyan.services.customer360 import at_risk_threshold, at_risk_worklist, customer_360
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
OWNERS = frozenset({"unit_manager", "cx_manager", "frontline", "agent"})
SENTIMENTS = frozenset({"negative", "neutral", "positive"})
FIELDS = frozenset({"phone", "email", "name", "city", "kind", "plate", "vin", "car_model",
                    "member_level", "vip"})
KINDS = frozenset({"purchase", "repair", "stay", "visit", "refund"})


@router.get("/customers/at-risk", response_class=HTMLResponse)
def at_risk_page(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.VIEW_CUSTOMERS)
    threshold = at_risk_threshold(ctx)
    rows = at_risk_worklist(ctx, actor, limit=50, min_risk=threshold)
    return render(request, "customers_at_risk.html", actor=actor, rows=rows,
                  threshold=threshold, segment_label=segment_label)


@router.get("/customers/{public_id}", response_class=HTMLResponse)
def customer_page(request: Request, ctx: ContextDep, actor: PageActor,
                  public_id: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    view = customer_360(ctx, actor, public_id)
    return render(request, "customer.html", actor=actor, v=view, c=view["customer"],
                  segment_label=segment_label, owners=OWNERS, sentiments=SENTIMENTS,
                  fields=FIELDS, kinds=KINDS)
