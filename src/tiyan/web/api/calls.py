"""REST API for phone surveys: the agent's worklist, planning a call, logging attempts,
entering the customer's answers, revealing the number (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from tiyan.services import calls as service
from tiyan.store import calls as store
from tiyan.web.api.schemas import ErrorBody, Strict
from tiyan.web.client_address import client_address
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1/calls", tags=["phone surveys"], responses=ERRORS)


class CallOut(BaseModel):
    id: str
    status: str
    due_at: dt.datetime
    expires_at: dt.datetime
    attempts: int
    last_attempt_at: dt.datetime | None
    survey_code: str
    survey_name: str
    unit_code: str
    staff_code: str | None
    customer_id: str | None
    customer_name: str
    phone_masked: str | None = Field(description="e.g. 138****8000; POST …/phone reveals it")


class AttemptOut(BaseModel):
    at: dt.datetime
    outcome: str
    agent: str | None
    callback_at: dt.datetime | None
    note: str | None
    response_id: str | None


class CallDetail(CallOut):
    attempt_log: list[AttemptOut]


class CallPage(BaseModel):
    items: list[CallOut]
    upcoming: int = Field(description="open calls in your units that fall due later")


class CallIn(Strict):
    survey: str = Field(min_length=1, max_length=64, description="survey code")
    customer_id: str = Field(min_length=1, max_length=32)
    unit_code: str | None = Field(default=None, max_length=64,
                                  description="default: the customer's unit")
    staff_code: str | None = Field(default=None, max_length=64)
    due_at: dt.datetime | None = Field(default=None, description="default: now")
    expires_days: int = Field(default=service.DEFAULT_EXPIRY_DAYS, ge=1, le=90)
    data: dict[str, Any] = Field(default_factory=dict,
                                 description="invitation data for display logic and piping")


class AttemptIn(Strict):
    outcome: str = Field(max_length=16, description="no_answer | busy | call_back | refused | "
                         "wrong_number (a completed call posts its answers to …/response)")
    callback_at: dt.datetime | None = Field(default=None, description="required for call_back")
    note: str | None = Field(default=None, max_length=2000)


class AttemptResult(BaseModel):
    outcome: str
    status: str
    next_call_at: dt.datetime | None


class CallResponseIn(Strict):
    answers: dict[str, Any]
    language: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=2000)
    started_at: dt.datetime | None = None


class CallResponseOut(BaseModel):
    response_id: str
    created: bool


class PhoneOut(BaseModel):
    phone: str


def _out(item: dict[str, Any]) -> CallOut:
    return CallOut(**{k: item[k] for k in CallOut.model_fields})


@router.get("", response_model=CallPage)
def worklist(ctx: ContextDep, actor: ApiActor,
             limit: Annotated[int, Query(ge=1, le=500)] = 200) -> CallPage:
    """Calls due now in your units, longest waiting first."""
    actor.require(service.PERMISSION)
    now = ctx.now()
    with ctx.db.read() as conn:
        rows = store.worklist(conn, actor, now, limit=limit)
        items = [_out(service.present_call(conn, actor, r)) for r in rows]
        upcoming = store.upcoming_count(conn, actor, now)
    return CallPage(items=items, upcoming=upcoming)


@router.post("", response_model=CallOut, status_code=201)
def plan_call(body: CallIn, ctx: ContextDep, actor: ApiActor) -> CallOut:
    """Put a customer on the phone worklist for a survey."""
    public_id = service.do_schedule_call(
        ctx, actor, survey_code=body.survey, customer_id=body.customer_id,
        unit_code=body.unit_code, staff_code=body.staff_code, due_at=body.due_at,
        expires_days=body.expires_days, data=body.data)
    with ctx.db.read() as conn:
        call = store.get_call(conn, actor, public_id, reach=service.PLANNERS)
        return _out(service.present_call(conn, actor, call))


@router.get("/{call_id}", response_model=CallDetail)
def call_detail(call_id: str, ctx: ContextDep, actor: ApiActor) -> CallDetail:
    actor.require(service.PERMISSION)
    with ctx.db.read() as conn:
        row = store.get_call(conn, actor, call_id[:32])
        item = service.present_call(conn, actor, row)
        attempts = store.attempts_of(conn, row["id"])
    return CallDetail(**_out(item).model_dump(), attempt_log=[AttemptOut(
        at=a["at"], outcome=a["outcome"], agent=a["agent_name"], callback_at=a["callback_at"],
        note=a["note"], response_id=a["response_public_id"]) for a in attempts])


@router.post("/{call_id}/attempts", response_model=AttemptResult, status_code=201)
def log_attempt(call_id: str, body: AttemptIn, ctx: ContextDep,
                actor: ApiActor) -> AttemptResult:
    """Log a call that did not complete the survey; the reply says when it is due again."""
    result = service.do_record_attempt(ctx, actor, call_id[:32], outcome=body.outcome,
                                       callback_at=body.callback_at, note=body.note)
    return AttemptResult(outcome=str(result.outcome), status=result.status,
                         next_call_at=result.next_call_at)


@router.post("/{call_id}/response", response_model=CallResponseOut, status_code=201)
def complete_call(call_id: str, body: CallResponseIn, ctx: ContextDep, actor: ApiActor,
                  response: Response) -> CallResponseOut:
    """Enter the customer's answers: stored as a response with channel "phone" and you as the
    agent; the call is completed. Repeating it returns the first response (200)."""
    stored = service.do_complete_call(ctx, actor, call_id[:32], answers=body.answers,
                                      language=body.language, note=body.note,
                                      started_at=body.started_at)
    if not stored.created:
        response.status_code = 200
    return CallResponseOut(response_id=stored.public_id, created=stored.created)


@router.post("/{call_id}/phone", response_model=PhoneOut)
def reveal_phone(call_id: str, request: Request, ctx: ContextDep, actor: ApiActor) -> PhoneOut:
    """The full number (needs the view_pii permission); every reveal is in the audit log."""
    return PhoneOut(phone=service.do_reveal_phone(ctx, actor, call_id[:32],
                                                  ip=client_address(request)))
