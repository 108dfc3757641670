"""List pages: customers, staff, audit log (all unit-scoped; responses: response_list; users:
account_pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tiyan.domain.access import Permission
from tiyan.domain.customer_value import segment_label
from tiyan.store import audit, customers, org
from tiyan.web.api.cursor import decode_cursor, encode_cursor
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.names import unit_names
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
PAGE = 50


Segment = Annotated[str | None, Query(max_length=64)]


@router.get("/customers", response_class=HTMLResponse)
def customer_list(request: Request, ctx: ContextDep, actor: PageActor,
                  segment: Segment = None,
                  q: Annotated[str, Query(max_length=200)] = "",
                  after: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    """The customers of the user's units, 50 a page, found by name, phone (any format),
    e-mail or external id (store.customers.search_clause)."""
    actor.require(Permission.VIEW_CUSTOMERS)
    with ctx.db.read() as conn:
        chosen = customers.check_segment(conn, segment)
        rows = customers.list_customers(conn, actor, limit=PAGE, segment=chosen, q=q,
                                        after_id=decode_cursor(after),
                                        region=ctx.settings.phone_region)
        segments = customers.segments_in_use(conn)
    next_cursor = encode_cursor(rows[-1]["cursor_id"]) if len(rows) == PAGE else None
    return render(request, "customers.html", actor=actor, rows=rows, segment=chosen,
                  segments=segments, segment_label=segment_label, q=q.strip(),
                  next_cursor=next_cursor, first_page=after is None,
                  pii=actor.can(Permission.VIEW_PII))


@router.get("/staff", response_class=HTMLResponse)
def staff_list(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.VIEW_STAFF)
    with ctx.db.read() as conn:
        rows = org.list_staff(conn, actor)
        units = {u["id"]: u for u in org.list_units(conn, actor)}
    return render(request, "staff.html", actor=actor, rows=rows, units=units)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_list(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(Permission.VIEW_AUDIT)
    with ctx.db.read() as conn:
        rows = audit.list_entries(conn, actor)
        units = unit_names(conn, translator(request).locale)  # an export's unit filter, named
    return render(request, "audit.html", actor=actor, rows=rows, units=units)
