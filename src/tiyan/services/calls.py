"""Phone surveys: put a customer on the call list, log each call, enter the answers.

Each use case is one transaction. Logging a call stores the attempt (who, when, outcome, note)
together with the invitation's next call time and status (`tiyan.domain.calls.next_step`, in the
unit's business calendar). Completing a call stores the agent's answers as a response with
channel "phone" and the agent on it, a "completed" attempt pointing at that response, and the
invitation completed — all or nothing. A second submission for the same call (double click,
retry, another agent) returns the first response and stores nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.calls import (
    NextStep,
    Outcome,
    check_callback_at,
    check_note,
    next_step,
    parse_outcome,
)
from tiyan.domain.privacy import mask_value
from tiyan.domain.responses import Channel, Submission, check_answers
from tiyan.errors import Conflict, InvalidInput, NotFound
from tiyan.security import new_public_id
from tiyan.services.arrivals import after_response_stored
from tiyan.services.responses import Stored
from tiyan.store import audit
from tiyan.store import calls as store
from tiyan.store import responses as response_store
from tiyan.store import tables as t
from tiyan.store.cases import calendar_for
from tiyan.store.db import inserted_id
from tiyan.store.invitations import log_invitation_event, record_invitation_status
from tiyan.store.scoped_refs import (
    customer_in_reach,
    staff_in_unit,
    survey_for_unit,
    unit_in_reach,
)
from tiyan.store.surveys import current_version, version_definition

PERMISSION = store.PERMISSION
# Who may put a customer on the worklist: agents, and those who manage the unit's surveys.
PLANNERS = (Permission.ENTER_RESPONSES, Permission.MANAGE_SURVEYS)
DEFAULT_EXPIRY_DAYS = 14


def idempotency_key(call_public_id: str) -> str:
    """A call is completed once: every submission for it carries the same key."""
    return f"phone:{call_public_id}"


def do_schedule_call(ctx: Context, actor: Actor, *, survey_code: str, customer_id: str,
                     unit_code: str | None = None, staff_code: str | None = None,
                     due_at: dt.datetime | None = None, expires_days: int = DEFAULT_EXPIRY_DAYS,
                     data: Mapping[str, Any] | None = None) -> str:
    """Put a customer on the phone worklist for a survey; the call's public id."""
    now = ctx.now()
    if due_at is not None and due_at.tzinfo is None:
        raise InvalidInput("calls.due_needs_time_zone",
                           where="due_at")
    if not 1 <= expires_days <= 90:
        raise InvalidInput("calls.expires_days_between", where="expires_days")
    with ctx.db.write() as conn:
        customer = customer_in_reach(conn, actor, PLANNERS, customer_id)
        if customer["opted_out_at"] is not None or customer["erased_at"] is not None:
            raise InvalidInput("calls.customer_opted_out_surveys_2", where="customer")
        unit_id = customer["unit_id"] if unit_code is None \
            else unit_in_reach(conn, actor, PLANNERS, unit_code)
        survey = survey_for_unit(conn, unit_id, code=survey_code)
        if survey["status"] != "active":
            raise InvalidInput("calls.survey_not_accepting_responses", survey_code=survey_code,
                               where="survey")
        staff_id = None if staff_code is None else staff_in_unit(conn, unit_id, staff_code)
        due = (due_at or now).astimezone(dt.UTC)
        public_id = new_public_id()
        invitation_id = inserted_id(conn.execute(sa.insert(t.invitation).values(
            public_id=public_id, survey_id=survey["id"], customer_id=customer["id"],
            unit_id=unit_id, staff_id=staff_id, touchpoint_id=survey["touchpoint_id"],
            channel="phone", status="queued", data=dict(data or {}), created_at=now,
            expires_at=due + dt.timedelta(days=expires_days), send_at=due, next_call_at=due)))
        log_invitation_event(conn, invitation_id, "queued", now,
                             {"channel": "phone", "by": actor.user_id})
    return public_id


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    status: str
    next_call_at: dt.datetime | None


def do_record_attempt(ctx: Context, actor: Actor, call_id: str, *, outcome: str,
                      callback_at: dt.datetime | None = None,
                      note: str | None = None) -> AttemptResult:
    """Log one call that did not complete the survey, and schedule what comes next."""
    parsed = parse_outcome(outcome)
    now = ctx.now()
    when = check_callback_at(parsed, callback_at, now)
    text = check_note(note)
    with ctx.db.write() as conn:
        call = _open_call(conn, actor, call_id)
        calendar = calendar_for(conn, store.unit_chain(conn, call["unit_id"]))
        step = next_step(parsed, unreached_before=store.unreached_count(conn, call["id"]),
                         now=now, calendar=calendar, callback_at=when)
        store.insert_attempt(conn, invitation_id=call["id"], agent_user_id=actor.user_id,
                             at=now, outcome=str(parsed), callback_at=when, note=text)
        status = _apply(conn, call, step, now, {"outcome": str(parsed), "by": actor.user_id})
    return AttemptResult(parsed, status, step.next_call_at)


def _open_call(conn: sa.Connection, actor: Actor, call_id: str) -> sa.RowMapping:
    call = store.get_call(conn, actor, call_id, for_update=True)
    actor.require(PERMISSION, call["unit_id"])
    if call["status"] in store.CLOSED:
        raise Conflict("calls.call_already_closed", status=call['status'], where="call")
    if call["customer_opted_out_at"] is not None or call["customer_erased_at"] is not None:
        raise Conflict("calls.customer_opted_out_surveys", where="call")
    return call


def _apply(conn: sa.Connection, call: sa.RowMapping, step: NextStep, now: dt.datetime,
           detail: dict[str, Any]) -> str:
    values: dict[str, Any] = {"next_call_at": step.next_call_at}
    if step.reason is not None:
        values["last_error"] = step.reason
    store.update_call(conn, call["id"], **values)
    if step.next_call_at is not None:
        detail["next_call_at"] = step.next_call_at.isoformat()
    if step.status is not None and record_invitation_status(conn, call["id"], step.status, now,
                                                            detail):
        return step.status
    log_invitation_event(conn, call["id"], "call", now, detail)
    return str(call["status"])


def do_complete_call(ctx: Context, actor: Actor, call_id: str, *, answers: Mapping[str, Any],
                     language: str | None = None, note: str | None = None,
                     started_at: dt.datetime | None = None) -> Stored:
    """Store the answers the agent entered for the customer, and close the call."""
    text = check_note(note)
    now = ctx.now()
    key = idempotency_key(call_id)
    try:
        with ctx.db.write() as conn:
            existing = response_store.response_by_idempotency_key(conn, key)
            if existing is not None:
                store.get_call(conn, actor, call_id)  # still only for agents of this unit
                return Stored(existing["public_id"], False)
            call = _open_call(conn, actor, call_id)
            version = current_version(conn, call["survey_id"])
            if version["status"] != "active":
                raise InvalidInput("calls.survey_not_accepting_responses",
                                   survey_code=call["survey_code"],
                                   where="survey")
            definition = version_definition(conn, version["id"], ctx.db.immutable_cache)
            checked = check_answers(definition, answers, call["data"] or {})
            if not checked:
                raise InvalidInput("common.response_no_answers", where="answers")
            lang = language or call["customer_language"] or definition.languages[0]
            if lang not in definition.languages:
                raise InvalidInput("calls.survey_not", lang=lang, where="language")
            submission = Submission(
                survey_id=call["survey_id"], survey_version_id=version["id"],
                unit_id=call["unit_id"], answers=checked, channel=Channel.PHONE, language=lang,
                submitted_at=now, started_at=started_at, touchpoint_id=call["touchpoint_id"],
                staff_id=call["staff_id"], customer_id=call["customer_id"],
                agent_user_id=actor.user_id, idempotency_key=key)
            response_id, public_id = response_store.insert_submission(conn, submission, now)
            conn.execute(sa.update(t.response).where(t.response.c.id == response_id)
                         .values(invitation_id=call["id"]))
            store.insert_attempt(conn, invitation_id=call["id"], agent_user_id=actor.user_id,
                                 at=now, outcome=str(Outcome.COMPLETED), callback_at=None,
                                 note=text, response_id=response_id)
            _apply(conn, call, NextStep("completed", None), now,
                   {"outcome": "completed", "by": actor.user_id, "response": public_id})
            after_response_stored(conn, response_id, now)
    except IntegrityError:
        # Two submissions for the same call raced; the other one won.
        with ctx.db.read() as conn:
            existing = response_store.response_by_idempotency_key(conn, key)
        if existing is None:
            raise Conflict("common.response_could_not_stored") from None
        return Stored(existing["public_id"], False)
    return Stored(public_id, True)


def do_reveal_phone(ctx: Context, actor: Actor, call_id: str, *, ip: str | None = None) -> str:
    """The full number for an agent allowed to see personal data; each reveal is audited."""
    with ctx.db.write() as conn:
        call = store.get_call(conn, actor, call_id)
        actor.require(Permission.VIEW_PII, call["unit_id"])
        number = store.phone_number(call)
        if number is None:
            raise NotFound("calls.no_phone_number_customer", where="phone")
        audit.record(conn, at=ctx.now(), user_id=actor.user_id, action="reveal_phone",
                     entity="invitation", entity_id=call_id, unit_id=call["unit_id"], ip=ip)
    return number


def present_call(conn: sa.Connection, actor: Actor, call: sa.RowMapping) -> dict[str, Any]:
    """A call as an agent sees it: the phone always masked (revealed only on request), the
    customer's name masked for roles without VIEW_PII."""
    can_see = actor.scope.visibility(Permission.VIEW_PII).covers_unit(call["unit_id"])
    name = call["customer_name"] or ""
    number = store.phone_number(call)
    return {
        "id": call["public_id"], "status": call["status"], "due_at": call["due_at"],
        "expires_at": call["expires_at"], "attempts": int(call["attempt_count"]),
        "last_attempt_at": call["last_attempt_at"],
        "survey_code": call["survey_code"], "survey_name": call["survey_name"],
        "unit_code": call["unit_code"], "unit_name_zh": call["unit_name_zh"],
        "unit_name_en": call["unit_name_en"], "timezone": call["unit_timezone"],
        "staff_code": call["staff_code"],
        "staff_name": call["staff_name"], "customer_id": call["customer_public_id"],
        "customer_name": name if can_see else mask_value("name", name),
        "phone_masked": mask_value("phone", number) if number else None,
        "can_reveal": can_see and number is not None,
    }
