"""Closed-loop pages: the cases inbox and a case page (status, notes, root cause, history, SLA,
delivery log), alert rules, and the 3-day callback worklist. Every change goes through the
services (validated, scoped); scope is applied in the store."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.callbacks import OUTCOMES
from tiyan.domain.cases import TRANSITIONS, CaseStatus
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services import callbacks, case_desk, cases, notifications
from tiyan.services.audit_trail import Export, do_audit_export
from tiyan.services.storage import object_store, read_bytes
from tiyan.store import cases as store
from tiyan.store import org
from tiyan.web.client_address import client_address
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.request_origin import OriginDep
from tiyan.web.ui.delivery_words import delivery_error
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=100)]
STATUSES = tuple(s.value for s in CaseStatus)
CASES_PAGE = 50  # cases per page of the inbox



# --- inbox and case page ------------------------------------------------------------------------

@router.get("/cases", response_class=HTMLResponse)
def inbox(request: Request, ctx: ContextDep, actor: PageActor,
          status: Annotated[str, Query(max_length=16)] = "open",
          mine: bool = False, overdue: bool = False,
          unit: Annotated[str, Query(max_length=64)] = "",
          rule: Annotated[str, Query(max_length=32)] = "",
          page: Annotated[int, Query(ge=1, le=100000)] = 1) -> HTMLResponse:
    actor.require(store.CASE_PERMISSION)
    if status not in ("open", "all", *STATUSES):
        raise InvalidInput("case_pages.not_case_status", status=status, where="status")
    wanted = ("new", "acknowledged", "in_progress") if status == "open" else \
        (() if status == "all" else (status,))
    with ctx.db.read() as conn:
        unit_id = org.unit_id_by_code(conn, unit) if unit else None
        rules = store.rules_with_cases(conn, actor)
        rule_id = next((r.id for r in rules if r.public_id == rule), None) if rule else None
        if rule and rule_id is None:
            raise InvalidInput("case_pages.no_alert_rule_cases", rule=rule, where="rule")
        f = store.CaseFilter(status=wanted, owner_user_id=actor.user_id if mine else None,
                             unit_id=unit_id, rule_id=rule_id,
                             overdue_at=ctx.now() if overdue else None, limit=CASES_PAGE)
        total = store.count_cases(conn, actor, f)
        pages = max(1, -(-total // CASES_PAGE))
        page = min(page, pages)
        rows = store.list_cases(conn, actor, replace(f, offset=(page - 1) * CASES_PAGE))
        units = _units(conn, actor, store.CASE_PERMISSION)
    query = "&".join(f"{k}={quote(v)}" for k, v in (
        ("status", status if status != "open" else ""), ("unit", unit), ("rule", rule),
        ("mine", "true" if mine else ""), ("overdue", "true" if overdue else "")) if v)
    return render(request, "cases.html", actor=actor, rows=rows, units=units, now=ctx.now(),
                  rules=rules, statuses=STATUSES, total=total, page=page, pages=pages,
                  query=query, filters={
                      "status": status, "mine": mine, "overdue": overdue, "unit": unit,
                      "rule": rule})


def _units(conn: Any, actor: Actor, permission: Any) -> list[Any]:
    reach = actor.scope.visibility(permission).unit_ids
    return [u for u in org.list_units(conn, actor) if u["id"] in reach]


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, ctx: ContextDep,
              actor: PageActor) -> HTMLResponse:
    actor.require(store.CASE_PERMISSION)
    return _case_page(request, ctx, actor, case_id[:32])


def _case_page(request: Request, ctx: Context, actor: Actor, case_id: str, *,
               error: TiyanError | None = None, status_code: int = 200,
               revealed: dict[str, str | None] | None = None) -> HTMLResponse:
    t = translator(request)
    locale = t.locale
    with ctx.db.read() as conn:
        row = store.get_case(conn, actor, case_id)
        events = store.events_of(conn, row.id)
        escalated_to, escalated_units = store.escalation_recipients(conn, events)
        timers = store.timers_of(conn, row.id)
        log = [{**n, "last_error": delivery_error(t, n["last_error"])}
               for n in notifications.delivery_log(conn, row.id)]
        complaint = case_desk.complaint(conn, actor, row.response_id, locale,
                                        ctx.settings.text_industry)
        customer = case_desk.customer_card(conn, actor, row, locale)
        task = conn.execute(callbacks.open_task_of_case(row.id)).mappings().first()
        rules = store.case_rules(conn, row.id)
    known = row.status in STATUSES  # a status a later version stored: shown, no moves
    moves = sorted(TRANSITIONS[CaseStatus(row.status)] if known else (), key=STATUSES.index)
    tree = cases.root_causes(ctx)
    causes = list(tree.walk())
    return render(request, "case.html", actor=actor, case=row, events=events, timers=timers,
                  log=log, moves=moves, causes=causes, complaint=complaint,
                  customer=customer, revealed=revealed, task=task, outcomes=OUTCOMES,
                  rules=rules, escalated_to=escalated_to, escalated_units=escalated_units,
                  cause_names={node.code: node.name(locale) for _, node in causes},
                  attachments=cases.attachments_of(events),
                  max_mb=ctx.settings.attachment_max_mb, now=ctx.now(), error=error,
                  status_code=status_code)


@router.post("/cases/{case_id}/contact", response_class=HTMLResponse)
def reveal_contact(request: Request, case_id: str, ctx: ContextDep,
                   actor: PageActor) -> HTMLResponse:
    """The customer's full phone and e-mail on the case page (view_pii; audited)."""
    actor.require(store.CASE_PERMISSION)
    with ctx.db.read() as conn:
        row = store.get_case(conn, actor, case_id[:32])
    shown = case_desk.do_reveal_contact(ctx, actor, customer_id=row.customer_id,
                                        unit_id=row.unit_id, entity="case",
                                        entity_id=row.public_id, ip=client_address(request))
    return _case_page(request, ctx, actor, row.public_id, revealed=shown)


def _act(request: Request, ctx: Context, actor: Actor, case_id: str, work: Any) -> Response:
    try:
        work()
    except (InvalidInput, TiyanError) as exc:
        if exc.status in (404, 403):
            raise
        return _case_page(request, ctx, actor, case_id, error=exc, status_code=exc.status)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/status")
def change_status(request: Request, case_id: str, ctx: ContextDep, actor: PageActor,
                  status: Annotated[str, Form(max_length=16)],
                  note: Annotated[str, Form(max_length=5000)] = "") -> Response:
    return _act(request, ctx, actor, case_id[:32], lambda: cases.do_change_status(
        ctx, actor, case_id[:32], status, note.strip() or None))


@router.post("/cases/{case_id}/notes")
def add_note(request: Request, case_id: str, ctx: ContextDep, actor: PageActor,
             note: Annotated[str, Form(max_length=5000)] = "") -> Response:
    return _act(request, ctx, actor, case_id[:32],
                lambda: cases.do_add_note(ctx, actor, case_id[:32], note))


@router.post("/cases/{case_id}/root-cause")
def set_root_cause(request: Request, case_id: str, ctx: ContextDep, actor: PageActor,
                   code: Annotated[str, Form(max_length=64)] = "") -> Response:
    return _act(request, ctx, actor, case_id[:32],
                lambda: cases.do_set_root_cause(ctx, actor, case_id[:32], code))


@router.post("/cases/{case_id}/attachments")
def upload_attachment(request: Request, case_id: str, ctx: ContextDep, actor: PageActor,
                      file: Annotated[UploadFile, File()]) -> Response:
    limit = int(ctx.settings.attachment_max_mb * 1024 * 1024)
    content = file.file.read(limit + 1)
    name, kind = file.filename or "file", file.content_type
    return _act(request, ctx, actor, case_id[:32], lambda: cases.do_attach_file(
        ctx, actor, case_id[:32], name, content, kind))


@router.get("/cases/{case_id}/attachments/{file_id}")
def download_attachment(case_id: str, file_id: str, ctx: ContextDep, actor: PageActor,
                        origin: OriginDep) -> Response:
    """The file, when the actor may see the case; each download is audited (not its name)."""
    actor.require(store.CASE_PERMISSION)
    key, about = cases.access_attachment(ctx, actor, case_id[:32], file_id[:32])
    do_audit_export(ctx, actor, Export("case_attachment", "file", entity_id=case_id[:32],
                                       item=file_id[:32]), origin)
    content = read_bytes(object_store(ctx), key)  # at most TIYAN_ATTACHMENT_MAX_MB
    return Response(content, media_type="application/octet-stream", headers={
        "Content-Disposition": content_disposition(about["name"])})


def content_disposition(name: str) -> str:
    """A download under its own name (RFC 6266; non-ASCII names as RFC 5987 UTF-8)."""
    quoted = quote(name)
    if quoted == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quoted}"


# --- callbacks ------------------------------------------------------------------------------

CALLBACKS_PAGE = 50


@router.get("/callbacks", response_class=HTMLResponse)
def callbacks_page(request: Request, ctx: ContextDep, actor: PageActor,
                   status: Annotated[str, Query(max_length=8)] = "open",
                   unit: Annotated[str, Query(max_length=64)] = "",
                   overdue: bool = False,
                   page: Annotated[int, Query(ge=1, le=100000)] = 1) -> HTMLResponse:
    return _callbacks_page(request, ctx, actor, status="done" if status == "done" else "open",
                           unit=unit, overdue=overdue, page=page)


def _callbacks_page(request: Request, ctx: Context, actor: Actor, *, status: str = "open",
                    unit: str = "", overdue: bool = False, page: int = 1,
                    error: TiyanError | None = None, status_code: int = 200,
                    revealed: dict[str, dict[str, str | None]] | None = None) -> HTMLResponse:
    actor.require(callbacks.PERMISSION)
    with ctx.db.read() as conn:
        unit_ids = None
        if unit:
            unit_ids = store.actor_subtree(conn, org.unit_id_by_code(conn, unit))
        f = callbacks.WorkFilter(status=status, unit_ids=unit_ids,
                                 overdue_at=ctx.now() if overdue and status == "open" else None)
        total = callbacks.worklist_count(conn, actor, f)
        found = callbacks.worklist(conn, actor, f=f, limit=CALLBACKS_PAGE,
                                   offset=(page - 1) * CALLBACKS_PAGE)
        rows = case_desk.present_tasks(conn, actor, found)
        calls = callbacks.calls_of_tasks(conn, [r["id"] for r in rows])
        kpi = callbacks.recovery_kpi(conn, actor)
        units = _units(conn, actor, callbacks.PERMISSION)
    pages = max(1, -(-total // CALLBACKS_PAGE))
    filters = {"status": status, "unit": unit, "overdue": overdue}
    query = "&".join(f"{k}={quote(str(v))}" for k, v in
                     (("status", status), ("unit", unit), ("overdue", "true" if overdue else ""))
                     if v)
    return render(request, "callbacks.html", actor=actor, rows=rows, kpi=kpi, now=ctx.now(),
                  calls=calls, status=status, outcomes=OUTCOMES, error=error, units=units,
                  filters=filters, query=query, page=min(page, pages), pages=pages,
                  total=total, revealed=revealed or {}, status_code=status_code)


@router.post("/callbacks/{task_id}/contact", response_class=HTMLResponse)
def reveal_task_contact(request: Request, task_id: str, ctx: ContextDep, actor: PageActor,
                        status: Annotated[str, Query(max_length=8)] = "open",
                        unit: Annotated[str, Query(max_length=64)] = "",
                        overdue: bool = False,
                        page: Annotated[int, Query(ge=1, le=100000)] = 1) -> HTMLResponse:
    """The customer's full phone on the worklist row (view_pii; audited)."""
    actor.require(callbacks.PERMISSION)
    with ctx.db.read() as conn:
        task = callbacks.task_of(conn, actor, task_id[:32])
    shown = case_desk.do_reveal_contact(ctx, actor, customer_id=task.customer_id,
                                        unit_id=task.unit_id, entity="callback_task",
                                        entity_id=task.public_id, ip=client_address(request))
    return _callbacks_page(request, ctx, actor, status="done" if status == "done" else "open",
                           unit=unit, overdue=overdue, page=page,
                           revealed={task.public_id: shown})


@router.post("/callbacks/{task_id}/calls")
def log_call(request: Request, task_id: str, ctx: ContextDep, actor: PageActor,
             outcome: Annotated[str, Form(max_length=16)],
             recovered: Annotated[str, Form(max_length=8)] = "",
             note: Annotated[str, Form(max_length=5000)] = "",
             satisfaction: Annotated[str, Form(max_length=8)] = "",
             case: Annotated[str, Form(max_length=32)] = "") -> Response:
    """Log one call; from the case page (`case` set) back to that case, else the worklist."""
    flag = {"yes": True, "no": False}.get(recovered)
    try:
        score = _score(satisfaction)
        callbacks.do_log_call(ctx, actor, task_id[:32], outcome=outcome, recovered=flag,
                              satisfaction=score, note=note)
    except InvalidInput as exc:
        if case:
            return _case_page(request, ctx, actor, case, error=exc, status_code=exc.status)
        return _callbacks_page(request, ctx, actor, error=exc, status_code=exc.status)
    if case:
        return RedirectResponse(f"/cases/{quote(case, safe='')}", status_code=303)
    return RedirectResponse("/callbacks", status_code=303)


def _score(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput("case_pages.not_score", text=text,
                           where="satisfaction") from None
