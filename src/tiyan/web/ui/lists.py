"""List pages: responses, customers, staff, audit log (all unit-scoped; users: account_pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from tiyan.domain.access import Permission
from tiyan.domain.customer_value import segment_label
from tiyan.store import audit, customers, org, responses
from tiyan.web.api.cursor import decode_cursor, decode_time_cursor, encode_cursor
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
PAGE = 50


Segment = Annotated[str | None, Query(max_length=64)]


@router.get("/responses", response_class=HTMLResponse)
def response_list(request: Request, ctx: ContextDep, actor: PageActor,
                  after: Annotated[str | None, Query(max_length=100)] = None,
                  segment: Segment = None) -> HTMLResponse:
    actor.require(Permission.VIEW_RESPONSES)
    with ctx.db.read() as conn:
        chosen = customers.check_segment(conn, segment)
        rows = responses.list_responses(conn, actor, responses.ResponseFilter(segment=chosen),
                                        after=decode_time_cursor(after), limit=PAGE)
        answers = responses.answers_for(conn, actor, [r["id"] for r in rows])
        segments = customers.segments_in_use(conn)
    template = "_response_rows.html" if request.headers.get("hx-request") else "responses.html"
    return render(request, template, actor=actor, rows=rows, answers=answers,
                  next_cursor=(encode_cursor(rows[-1]["id"], rows[-1]["submitted_at"])
                               if len(rows) == PAGE else None),
                  can_export=actor.can(Permission.EXPORT), segment=chosen, segments=segments,
                  segment_label=segment_label)


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
    return render(request, "audit.html", actor=actor, rows=rows)
