"""REST API for personal invitations: rules, invitations, business events, SMS delivery reports.

    /api/v1/invitation-rules          GET list, POST create; /{id}: GET, PUT, DELETE
    /api/v1/invitations               GET list (status, channel, survey, rule; cursor), POST one
    /api/v1/invitations/{id}          GET with the status timeline
    /api/v1/events                    POST a business event (creates invitations by rule)
    /api/v1/channels/sms/status       POST the SMS provider's delivery report (?key=…)
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.engine import RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.contact_rules import CHANNELS, RuleSettings
from tiyan.domain.privacy import mask_value
from tiyan.errors import Forbidden, InvalidInput, NotFound
from tiyan.services import events, invitation_rules, invitations
from tiyan.services.invitations import shown_last_error
from tiyan.store import invitation_rules as rule_store
from tiyan.store import outreach
from tiyan.store.invitations import invitation_timeline
from tiyan.web.api import invitation_schemas as s
from tiyan.web.api.cursor import decode_cursor, encode_cursor
from tiyan.web.api.params import MAX_ID, RowId
from tiyan.web.api.schemas import ErrorBody
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1", tags=["invitations"], responses=ERRORS)
Code = Annotated[str | None, Query(max_length=64)]
STATUSES = ("queued", "sent", "opened", "started", "completed", "bounced", "failed", "expired",
            "refused", "suppressed")


# --- rules ----------------------------------------------------------------------------------

def _settings(body: s.RuleIn) -> RuleSettings:
    return RuleSettings(name=body.name, event_type=body.event_type, channel=body.channel,
                        delay_minutes=body.delay_minutes, expires_days=body.expires_days,
                        reminder_days=tuple(body.reminder_days),
                        sampling_percent=body.sampling_percent,
                        quarantine_days=body.quarantine_days, active=body.active)


@router.get("/invitation-rules", response_model=list[s.RuleOut])
def list_rules(ctx: ContextDep, actor: ApiActor) -> list[s.RuleOut]:
    actor.require(Permission.MANAGE_SURVEYS)
    with ctx.db.read() as conn:
        return [_rule(row) for row in rule_store.list_rules(conn, actor)]


@router.post("/invitation-rules", response_model=s.RuleOut, status_code=201)
def create_rule(body: s.RuleIn, ctx: ContextDep, actor: ApiActor) -> s.RuleOut:
    """Add a rule: events of `event_type` at `unit` (or below) invite to `survey`."""
    actor.require(Permission.MANAGE_SURVEYS)
    rule_id = invitation_rules.do_create_rule(ctx, actor, _settings(body),
                                              survey_code=body.survey, unit_code=body.unit)
    with ctx.db.read() as conn:
        return _rule(rule_store.get_rule(conn, actor, rule_id))


@router.get("/invitation-rules/{rule_id}", response_model=s.RuleOut)
def get_rule(rule_id: RowId, ctx: ContextDep, actor: ApiActor) -> s.RuleOut:
    actor.require(Permission.MANAGE_SURVEYS)
    with ctx.db.read() as conn:
        return _rule(rule_store.get_rule(conn, actor, rule_id))


@router.put("/invitation-rules/{rule_id}", response_model=s.RuleOut)
def update_rule(rule_id: RowId, body: s.RuleIn, ctx: ContextDep, actor: ApiActor) -> s.RuleOut:
    """Replace a rule; invitations it already made keep their plan."""
    actor.require(Permission.MANAGE_SURVEYS)
    invitation_rules.do_update_rule(ctx, actor, rule_id, _settings(body),
                                    survey_code=body.survey, unit_code=body.unit)
    with ctx.db.read() as conn:
        return _rule(rule_store.get_rule(conn, actor, rule_id))


@router.delete("/invitation-rules/{rule_id}", status_code=204)
def delete_rule(rule_id: RowId, ctx: ContextDep, actor: ApiActor) -> Response:
    actor.require(Permission.MANAGE_SURVEYS)
    invitation_rules.do_delete_rule(ctx, actor, rule_id)
    return Response(status_code=204)


def _rule(row: RowMapping) -> s.RuleOut:
    return s.RuleOut(
        id=row["id"], name=row["name"], event_type=row["event_type"], survey=row["survey_code"],
        unit=row["unit_code"], channel=row["channel"], delay_minutes=row["delay_minutes"],
        expires_days=row["expires_days"], reminder_days=list(row["reminder_days"] or []),
        sampling_percent=row["sampling_percent"], quarantine_days=row["quarantine_days"],
        active=row["active"], created_at=row["created_at"])


# --- invitations ----------------------------------------------------------------------------

@router.get("/invitations", response_model=s.InvitationPage)
def list_invitations(ctx: ContextDep, actor: ApiActor,
                     status: Annotated[str | None, Query(max_length=16)] = None,
                     channel: Annotated[str | None, Query(max_length=16)] = None,
                     survey: Code = None,
                     rule: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                     cursor: Annotated[str | None, Query(max_length=64)] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50) -> s.InvitationPage:
    """Newest first, in the units where you manage surveys."""
    actor.require(Permission.MANAGE_SURVEYS)
    if status is not None and status not in STATUSES:
        raise InvalidInput("invitations.not_status", status=status, statuses=", ".join(STATUSES),
                           where="status")
    if channel is not None and channel not in CHANNELS:
        raise InvalidInput("common.not_channel", channel=channel, channels=", ".join(CHANNELS),
                           where="channel")
    with ctx.db.read() as conn:
        survey_id = outreach.survey_id(conn, survey) if survey else None
        rows = outreach.list_invitations(
            conn, actor, outreach.InvitationFilters(status, channel, survey_id, rule),
            before_id=decode_cursor(cursor), limit=limit)
    next_cursor = encode_cursor(rows[-1]["id"]) if len(rows) == limit else None
    return s.InvitationPage(items=[present(actor, row) for row in rows], next_cursor=next_cursor)


@router.post("/invitations", response_model=s.InvitationOut, status_code=201)
def create_invitation(body: s.InvitationIn, ctx: ContextDep,
                      actor: ApiActor) -> s.InvitationOut:
    """Invite one customer; a suppressed invitation comes back with status suppressed and
    the reason."""
    actor.require(Permission.MANAGE_SURVEYS)
    made = invitations.do_create_invitation(ctx, actor, invitations.InvitationRequest(
        survey_code=body.survey, unit_code=body.unit, customer_id=body.customer,
        channel=body.channel, staff_code=body.staff, touchpoint=body.touchpoint,
        send_at=body.send_at, expires_days=body.expires_days,
        reminder_days=tuple(body.reminder_days), data=dict(body.data)))
    with ctx.db.read() as conn:
        return present(actor, outreach.get_invitation(conn, actor, made.public_id))


@router.get("/invitations/{invitation_id}", response_model=s.InvitationDetail)
def get_invitation(invitation_id: str, ctx: ContextDep,
                   actor: ApiActor) -> s.InvitationDetail:
    actor.require(Permission.MANAGE_SURVEYS)
    with ctx.db.read() as conn:
        row = outreach.get_invitation(conn, actor, invitation_id[:32])
        steps = invitation_timeline(conn, row["id"])
    timeline = [s.TimelineStep(at=e["at"], status=e["status"], detail=dict(e["detail"] or {}))
                for e in steps]
    return s.InvitationDetail(**present(actor, row).model_dump(), timeline=timeline)


def present(actor: Actor, row: RowMapping) -> s.InvitationOut:
    contact = row["contact"]
    if contact and not actor.can(Permission.VIEW_PII):
        contact = mask_value("email" if row["channel"] == "email" else "phone", contact)
    return s.InvitationOut(
        id=row["public_id"], survey=row["survey_code"], unit=row["unit_code"],
        customer_id=row["customer_public_id"], staff=row["staff_code"],
        touchpoint=row["touchpoint_code"], channel=row["channel"], contact=contact,
        status=row["status"], reason=(row["data"] or {}).get("suppressed"),
        rule_id=row["rule_id"], created_at=row["created_at"], send_at=row["send_at"],
        expires_at=row["expires_at"], sent_at=row["sent_at"], opened_at=row["opened_at"],
        started_at=row["started_at"], completed_at=row["completed_at"],
        bounced_at=row["bounced_at"], attempts=row["attempts"], last_error=shown_last_error(row),
        reminders_sent=row["reminders_sent"], next_reminder_at=row["next_reminder_at"])


# --- events --------------------------------------------------------------------------------

@router.post("/events", response_model=s.EventOut, status_code=201)
def receive_event(body: s.EventIn, ctx: ContextDep, actor: ApiActor,
                  response: Response) -> s.EventOut:
    """Store a business event and create the invitations its rules ask for. With an `id`,
    sending the same event again returns the first answer (200, duplicate true)."""
    c = body.customer
    outcome = events.do_receive_event(ctx, actor, events.InboundEvent(
        type=body.type, unit=body.unit, at=body.at, id=body.id, staff=body.staff,
        touchpoint=body.touchpoint, data=dict(body.data),
        customer=events.EventCustomer(id=c.id, external_id=c.external_id, name=c.name,
                                      email=c.email, phone=c.phone, language=c.language)))
    if not outcome.created:
        response.status_code = 200
    return s.EventOut(id=outcome.public_id, duplicate=not outcome.created,
                      customer_id=outcome.customer_id,
                      invitations=[s.EventInvitation(**i) for i in outcome.invitations])


# --- the SMS provider's delivery reports -----------------------------------------------------

@router.post("/channels/sms/status", response_model=s.SmsStatusOut,
             tags=["channels"], openapi_extra={"security": []})
def sms_status(ctx: ContextDep, fields: SmsCallbackFields) -> s.SmsStatusOut:
    """Delivery report from the SMS provider, as a form or JSON, authenticated by `?key=`
    (TIYAN_SMS_CALLBACK_KEY). Fields: TIYAN_SMS_REFERENCE_FIELD and TIYAN_SMS_STATUS_FIELD."""
    ref_field, status_field = ctx.settings.sms_reference_field, ctx.settings.sms_status_field
    reference, status = fields.get(ref_field), fields.get(status_field)
    for name, value in ((ref_field, reference), (status_field, status)):
        if not isinstance(value, str) or not value or len(value) > 128:
            raise InvalidInput("invitations.report_needs_field_characters", name=name,
                               where=name)
    assert isinstance(reference, str) and isinstance(status, str)
    extra = [(k, str(v)[:200]) for k, v in fields.items() if k not in (ref_field, status_field)]
    result = invitations.do_record_sms_status(ctx, reference, status, dict(extra[:10]))
    return s.SmsStatusOut(result=result)


async def sms_callback_fields(request: Request, ctx: ContextDep,
                              key: Annotated[str, Query(max_length=200)] = "") -> dict[str, Any]:
    """The fields an SMS provider posted to a callback, once its `?key=` matches (read on the
    event loop; the handlers that store them run in the thread pool)."""
    expected = ctx.settings.sms_callback_key
    if not expected:
        raise NotFound("invitations.sms_callbacks_off_set", where="key")
    if not secrets.compare_digest(key.encode(), expected.encode()):
        raise Forbidden("invitations.callback_key_does_not", where="key")
    return await _report_fields(request)


async def _report_fields(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("invitations.report_not_valid_json", where="body") from None
        if not isinstance(body, dict):
            raise InvalidInput("invitations.report_must_json_object", where="body")
        return body
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}



SmsCallbackFields = Annotated[dict[str, Any], Depends(sms_callback_fields)]
