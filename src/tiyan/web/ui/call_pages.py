"""Phone survey pages for call-centre agents: the worklist (/calls) and one call (/calls/{id})
with the customer, the survey form the agent fills on the customer's behalf, and the outcome
buttons (no answer, busy, call back at …, refused, wrong number).

Every change goes through `tiyan.services.calls` (one transaction, unit-scoped); the forms work
without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.answer_forms import FieldError, answers_from_form, check_page, form_values
from tiyan.domain.calls import ATTEMPT_OUTCOMES
from tiyan.domain.survey_flow import pipe, piping_values, walk
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services import calls as service
from tiyan.store import calls as store
from tiyan.store import tables as t
from tiyan.store.surveys import current_version, version_definition
from tiyan.web.bodies import PostedForm
from tiyan.web.client_address import client_address
from tiyan.web.deps import ContextDep, PageActor, translator
from tiyan.web.ui.question_views import question_views
from tiyan.web.ui.render import render, viewer_zone

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=100)]



@router.get("/calls", response_class=HTMLResponse)
def worklist(request: Request, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(service.PERMISSION)
    now = ctx.now()
    with ctx.db.read() as conn:
        rows = [service.present_call(conn, actor, r) for r in store.worklist(conn, actor, now)]
        upcoming = store.upcoming_count(conn, actor, now)
    return render(request, "calls.html", actor=actor, rows=rows, upcoming=upcoming)


def _call_page(request: Request, ctx: Context, actor: Actor, call_id: str, *,
               status_code: int = 200, **values: Any) -> HTMLResponse:
    with ctx.db.read() as conn:
        row = store.get_call(conn, actor, call_id)
        call = service.present_call(conn, actor, row)
        attempts = store.attempts_of(conn, row["id"])
        version = current_version(conn, row["survey_id"])
        definition = version_definition(conn, version["id"], ctx.db.immutable_cache)
        response = None
        done = next((a for a in attempts if a["response_id"] is not None), None)
        if done is not None:
            response = conn.execute(
                t.response.select().where(t.response.c.id == done["response_id"])
            ).mappings().first()
    locale = values.pop("locale", None)
    lang = locale if locale in definition.languages else (
        row["customer_language"] if row["customer_language"] in definition.languages
        else definition.languages[0])
    answers = values.pop("answers", {})
    errors: dict[str, FieldError] = values.pop("errors", {})
    data, customer = piping_values(row["data"], row)
    views = question_views(definition, definition.questions, lang=lang, t=translator(request),
                           values=answers, errors=errors, seed=row["public_id"],
                           answers=answers, data=data, customer=customer)
    # the agent reads the title and the introduction out as the respondent page shows them
    title = pipe(definition.title.get(lang) or next(iter(definition.title.values())),
                 definition, lang, answers, data, customer)
    intro = pipe(definition.intro.get(lang, ""), definition, lang, answers, data, customer)
    return render(request, "call.html", actor=actor, call=call, attempts=attempts,
                  definition=definition, lang=lang, views=views, response=response, done=done,
                  survey_title=title, survey_intro=intro,
                  outcomes=[str(o) for o in ATTEMPT_OUTCOMES],
                  closed=row["status"] in store.CLOSED, status_code=status_code, **values)


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, call_id: str, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    actor.require(service.PERMISSION)
    return _call_page(request, ctx, actor, call_id[:32])


@router.post("/calls/{call_id}/phone", response_class=HTMLResponse)
def reveal(request: Request, call_id: str, ctx: ContextDep, actor: PageActor) -> HTMLResponse:
    number = service.do_reveal_phone(ctx, actor, call_id[:32], ip=client_address(request))
    return _call_page(request, ctx, actor, call_id[:32], revealed=number)


@router.post("/calls/{call_id}/attempts", response_model=None)
def log_attempt(request: Request, call_id: str, ctx: ContextDep, actor: PageActor,
                outcome: Annotated[str, Form(max_length=16)],
                callback_at: Annotated[str, Form(max_length=40)] = "",
                note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    call_id = call_id[:32]
    try:
        with ctx.db.read() as conn:
            store.get_call(conn, actor, call_id)  # 404 outside the agent's scope
        zone = viewer_zone(request, actor)  # the page shows and asks times in the viewer's zone
        when = _local_input(callback_at, zone) if outcome == "call_back" else None
        service.do_record_attempt(ctx, actor, call_id, outcome=outcome, callback_at=when,
                                  note=note)
    except TiyanError as exc:
        return _call_page(request, ctx, actor, call_id, status_code=exc.status,
                          attempt_error=exc, note=note, callback_value=callback_at)
    return RedirectResponse(f"/calls?logged={call_id}", status_code=303)


def _local_input(value: str, timezone: str) -> dt.datetime | None:
    """A datetime-local field ("2026-11-21T15:00"), read in the viewer's time zone."""
    if not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("call_pages.not_date_time", value=value, where="callback_at") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(timezone))


@router.post("/calls/{call_id}/response", response_model=None)
def complete(request: Request, call_id: str, ctx: ContextDep, actor: PageActor,
             form: PostedForm) -> Response:
    call_id = call_id[:32]
    posted = form_values(form.multi_items())
    note = str(form.get("note", ""))
    lang = str(form.get("lang", "")) or None
    with ctx.db.read() as conn:
        row = store.get_call(conn, actor, call_id)
        definition = version_definition(conn, current_version(conn, row["survey_id"])["id"],
                                        ctx.db.immutable_cache)
    raw, unknown = answers_from_form(definition.questions, posted)
    page = check_page(walk(definition, raw, dict(row["data"] or {})).shown, raw, unknown)
    try:
        if unknown:
            raise InvalidInput("common.survey_no_question", unknown=unknown[0],
                               where=f"answers.{unknown[0]}")
        if page.errors:
            key = next(iter(page.errors))
            raise InvalidInput("calls.fix_answers", where=f"answers.{key}")
        service.do_complete_call(ctx, actor, call_id, answers=raw, language=lang, note=note)
    except TiyanError as exc:
        return _call_page(request, ctx, actor, call_id, status_code=exc.status,
                          answer_error=exc, answers=raw, errors=page.errors, note=note,
                          locale=lang)
    return RedirectResponse(f"/calls/{call_id}", status_code=303)
