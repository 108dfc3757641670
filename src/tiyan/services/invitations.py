"""Personal invitations: created (or suppressed by the contact rules), sent, reminded.

    create  → status queued, an `invitation.send` job at send_at, in the same transaction;
              or status suppressed with the reason (opted_out, no_contact, quarantined,
              sampled_out) and no job. A phone invitation gets no job either: it is due on the
              call-centre worklist from send_at (tiyan.services.calls).
    send    → e-mail over SMTP or SMS through the gateway with the signed personal link
              (tiyan.services.links.invitation_url: single use, expires with the invitation).
              Accepted: sent, and an `invitation.remind` job at the first reminder day.
              A permanent refusal (SMTP 5xx, gateway 400/410/422): bounced. Anything else is
              retried with back-off (jobs.retry_delay) up to TIYAN_INVITATION_SEND_ATTEMPTS
              tries, then failed. Every try is an event on the invitation's timeline.
    remind  → only while the invitation is sent, opened or started (never once completed,
              bounced, failed or expired), on the days after sending its rule asked for.

The respondent pages move the status on to opened, started and completed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from tiyan.channels import outbound
from tiyan.channels.email import SmtpServer, deliver_email
from tiyan.channels.sms import SmsGateway, send_sms
from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.contact_rules import (
    ContactFacts,
    Suppression,
    check_channel,
    check_reminders,
    contact_kind,
    next_reminder_at,
    suppression,
)
from tiyan.domain.sms_length import sms_length
from tiyan.domain.survey_flow import pipe, piping_values
from tiyan.errors import InvalidInput, NotFound
from tiyan.services import invitation_messages as words
from tiyan.services.jobs import RetryLater, enqueue, job_handler, retry_delay
from tiyan.services.links import invitation_url, unsubscribe_url
from tiyan.store import outreach
from tiyan.store.invitations import (
    invitation_by_public_id,
    log_invitation_event,
    record_invitation_status,
)
from tiyan.store.scoped_refs import customer_in_reach

INVITATION_SEND = "invitation.send"
INVITATION_REMIND = "invitation.remind"
REMINDABLE = frozenset({"sent", "opened", "started"})


@dataclass(frozen=True)
class Audience:
    """Whom to invite to which survey, and what the invitation carries."""

    survey_id: int
    unit_id: int
    customer_id: int
    staff_id: int | None = None
    touchpoint_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """How and when: channel, send time, link lifetime, reminders, contact rules."""

    channel: str
    send_at: dt.datetime
    expires_days: int = 14
    reminder_days: tuple[int, ...] = ()
    quarantine_days: int | None = None
    rule_id: int | None = None
    sampling_percent: float = 100.0


@dataclass(frozen=True)
class CreatedInvitation:
    public_id: str
    status: str
    reason: str | None
    send_at: dt.datetime


def create_invitation(conn: Connection, ctx: Context, audience: Audience, plan: Plan,
                      now: dt.datetime) -> CreatedInvitation:
    """Write one invitation inside the caller's transaction: queued with its send job, or
    suppressed with the reason. The customer row is locked first, so that two invitations
    for one customer created at the same moment see each other in the quarantine."""
    customer = outreach.lock_customer(conn, audience.customer_id)
    contact = outreach.identities(conn, audience.customer_id).get(contact_kind(plan.channel))
    facts = ContactFacts(
        customer_key=customer["public_id"],
        opted_out=customer["opted_out_at"] is not None or customer["erased_at"] is not None,
        contact=contact, last_contacted_at=outreach.last_contacted_at(conn, customer["id"]))
    quarantine = ctx.settings.contact_quarantine_days if plan.quarantine_days is None \
        else plan.quarantine_days
    reason = suppression(facts, now=now, quarantine_days=quarantine,
                         rule_key=None if plan.rule_id is None else f"rule-{plan.rule_id}",
                         sampling_percent=plan.sampling_percent)
    data = {**audience.data, "reminder_days": list(plan.reminder_days)}
    if reason is not None:
        data["suppressed"] = str(reason)
    status = outreach.SUPPRESSED if reason else "queued"
    invitation_id, public_id = outreach.insert_invitation(conn, outreach.NewInvitation(
        survey_id=audience.survey_id, unit_id=audience.unit_id, channel=plan.channel,
        status=status, send_at=plan.send_at,
        expires_at=plan.send_at + dt.timedelta(days=plan.expires_days),
        customer_id=audience.customer_id, staff_id=audience.staff_id,
        touchpoint_id=audience.touchpoint_id, rule_id=plan.rule_id, contact=contact,
        data=data), now)
    detail = {"reason": str(reason)} if reason else {"send_at": plan.send_at.isoformat()}
    log_invitation_event(conn, invitation_id, status, now, detail)
    if reason is None and plan.channel != "phone":  # phone: due on the agents' worklist
        enqueue(conn, INVITATION_SEND, {"invitation_id": invitation_id}, run_at=plan.send_at)
    return CreatedInvitation(public_id, status, str(reason) if reason else None, plan.send_at)


# --- creating one by hand (API) -------------------------------------------------------------

@dataclass(frozen=True)
class InvitationRequest:
    survey_code: str
    unit_code: str
    customer_id: str
    channel: str
    staff_code: str | None = None
    touchpoint: str | None = None
    send_at: dt.datetime | None = None
    expires_days: int = 14
    reminder_days: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


def do_create_invitation(ctx: Context, actor: Actor, request: InvitationRequest
                         ) -> CreatedInvitation:
    """Invite one known customer; the contact rules apply as they do to rule-made invitations."""
    check_channel(request.channel)
    if not 1 <= request.expires_days <= 365:
        raise InvalidInput("invitations.link_must_expire_after", where="expires_days")
    check_reminders(request.reminder_days, request.expires_days)
    now = ctx.now()
    send_at = max(request.send_at or now, now)
    with ctx.db.write() as conn:
        refs = outreach.resolve_refs(conn, actor, unit=request.unit_code,
                                     staff=request.staff_code, touchpoint=request.touchpoint,
                                     survey=request.survey_code)
        customer = customer_in_reach(conn, actor, Permission.MANAGE_SURVEYS, request.customer_id)
        audience = Audience(refs.survey_id, refs.unit_id, customer["id"], refs.staff_id,
                            refs.touchpoint_id, dict(request.data))
        plan = Plan(request.channel, send_at, request.expires_days, request.reminder_days)
        created = create_invitation(conn, ctx, audience, plan, now)
    return created


# --- sending ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    error: str | None
    permanent: bool
    segments: int | None = None  # SMS: billed segments of the text


def _message_parts(ctx: Context, row: RowMapping) -> tuple[str, str, str, str]:
    """Locale, survey title, unit name and personal link of an invitation."""
    from tiyan.store.surveys import current_version, version_definition

    data = row["data"] or {}
    locale = words.pick_locale(row["customer_language"], data.get("language"),
                               ctx.settings.default_locale)
    with ctx.db.read() as conn:
        definition = version_definition(conn, current_version(conn, row["survey_id"])["id"])
    # a title with placeholders reads as the respondent page shows it ("{customer:first_name|您}")
    data, customer = piping_values(row["data"], row)
    survey = pipe(words.localised(definition.title, locale, row["survey_code"]), definition,
                  locale, {}, data, customer)
    unit = row["unit_zh"] if locale == "zh-CN" else row["unit_en"]
    link = invitation_url(ctx, row["public_id"], row["expires_at"])
    return locale, survey, unit, link


def deliver(ctx: Context, row: RowMapping, *, reminder: bool) -> Delivery:
    """Hand one invitation or reminder to its channel."""
    locale, survey, unit, link = _message_parts(ctx, row)
    s = ctx.settings
    if row["channel"] == "email":
        unsubscribe = unsubscribe_url(ctx, row["customer_public_id"], row["public_id"])
        message = words.email_message(locale=locale, reminder=reminder, survey=survey,
                                      unit=unit, name=row["customer_name"], link=link,
                                      expires_at=row["expires_at"], unsubscribe=unsubscribe,
                                      zone=row["unit_timezone"] or ctx.settings.timezone)
        server = SmtpServer(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_username,
                            s.smtp_password, s.smtp_starttls)
        # RFC 8058: mail programs show an "unsubscribe" button that POSTs to the link.
        headers = {"List-Unsubscribe": f"<{unsubscribe}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        mail = deliver_email(server, row["contact"], message.subject, message.body, headers)
        return Delivery(mail.error, mail.permanent)
    text = words.sms_text(locale=locale, reminder=reminder, unit=unit, link=link)
    sms = send_sms(sms_gateway(ctx), row["contact"], text, row["public_id"])
    return Delivery(sms.error, sms.permanent, sms_length(text).segments)


def shown_last_error(row: Mapping[str, Any] | RowMapping) -> str | None:
    """An invitation's last error as logs show it: for SMS the short class only (older rows
    kept part of the gateway's answer), for e-mail the SMTP server's words."""
    error = row["last_error"]
    return outbound.shown_error(error) if row["channel"] == "sms" else error


def sms_gateway(ctx: Context) -> SmsGateway:
    s = ctx.settings
    return SmsGateway(url=s.sms_url, to_field=s.sms_to_field, text_field=s.sms_text_field,
                      sender_field=s.sms_sender_field, reference_field=s.sms_reference_field,
                      sender=s.sms_sender, auth_header=s.sms_auth_header,
                      auth_value=s.sms_auth_value or "", timeout=s.webhook_timeout_seconds,
                      policy=outbound.policy_for(s))


def _load(ctx: Context, invitation_id: int) -> RowMapping | None:
    with ctx.db.read() as conn:
        return outreach.invitation_row(conn, invitation_id)


def _stop_reason(row: RowMapping, now: dt.datetime) -> str | None:
    if now >= row["expires_at"]:
        return "expired"
    if row["customer_opted_out_at"] is not None or row["customer_erased_at"] is not None:
        return str(Suppression.OPTED_OUT)
    return None


@job_handler(INVITATION_SEND)
def send_job(ctx: Context, payload: dict[str, Any]) -> None:
    row = _load(ctx, int(payload["invitation_id"]))
    if row is None or row["status"] != "queued":
        return
    now = ctx.now()
    stop = _stop_reason(row, now)
    if stop is not None:
        with ctx.db.write() as conn:
            if stop == "expired":
                record_invitation_status(conn, row["id"], "expired", now)
            else:
                outreach.set_fields(conn, row["id"], status=outreach.SUPPRESSED)
                log_invitation_event(conn, row["id"], outreach.SUPPRESSED, now, {"reason": stop})
        return
    outcome = deliver(ctx, row, reminder=False)
    attempts = row["attempts"] + 1
    with ctx.db.write() as conn:
        outreach.set_fields(conn, row["id"], attempts=attempts, last_error=outcome.error)
        if outcome.error is None:
            _sent(conn, row, now, attempts, outcome.segments)
            return
        detail = {"attempt": attempts, "error": outcome.error}
        if outcome.permanent:
            record_invitation_status(conn, row["id"], "bounced", now, detail)
            return
        if attempts >= ctx.settings.invitation_send_attempts:
            record_invitation_status(conn, row["id"], "failed", now, detail)
            return
        retry_at = now + retry_delay(attempts)
        log_invitation_event(conn, row["id"], "retry", now, {**detail,
                                                             "next": retry_at.isoformat()})
    raise RetryLater(retry_at, outcome.error)


def _sent(conn: Connection, row: RowMapping, now: dt.datetime, attempts: int,
          segments: int | None) -> None:
    detail: dict[str, Any] = {"attempt": attempts}
    if segments is not None:
        detail["segments"] = segments
    record_invitation_status(conn, row["id"], "sent", now, detail)
    days = tuple(int(d) for d in (row["data"] or {}).get("reminder_days", ()))
    due = next_reminder_at(now, days, 0, row["expires_at"])
    outreach.set_fields(conn, row["id"], next_reminder_at=due)
    if due is not None:
        enqueue(conn, INVITATION_REMIND, {"invitation_id": row["id"], "reminder": 1}, run_at=due)


@job_handler(INVITATION_REMIND)
def remind_job(ctx: Context, payload: dict[str, Any]) -> None:
    row = _load(ctx, int(payload["invitation_id"]))
    number = int(payload["reminder"])
    if row is None or row["reminders_sent"] != number - 1:
        return  # gone, or this reminder already went out
    now = ctx.now()
    if row["status"] not in REMINDABLE or _stop_reason(row, now) is not None:
        with ctx.db.write() as conn:
            outreach.set_fields(conn, row["id"], next_reminder_at=None)
        return
    outcome = deliver(ctx, row, reminder=True)
    tries = int(payload.get("tries", 0)) + 1
    with ctx.db.write() as conn:
        if outcome.error is None:
            _reminded(conn, row, now, number, segments=outcome.segments)
            return
        detail = {"reminder": number, "attempt": tries, "error": outcome.error}
        if outcome.permanent:
            record_invitation_status(conn, row["id"], "bounced", now, detail)
            outreach.set_fields(conn, row["id"], next_reminder_at=None)
            return
        if tries >= ctx.settings.invitation_send_attempts:
            log_invitation_event(conn, row["id"], "reminder_failed", now, detail)
            _reminded(conn, row, now, number, logged=False)
            return
        retry_at = now + retry_delay(tries)
        log_invitation_event(conn, row["id"], "retry", now, detail)
        enqueue(conn, INVITATION_REMIND, {**payload, "tries": tries}, run_at=retry_at)


def _reminded(conn: Connection, row: RowMapping, now: dt.datetime, number: int, *,
              logged: bool = True, segments: int | None = None) -> None:
    """Count the reminder (sent, or given up on) and schedule the next one."""
    if logged:
        detail: dict[str, Any] = {"reminder": number}
        if segments is not None:
            detail["segments"] = segments
        log_invitation_event(conn, row["id"], "reminded", now, detail)
    days = tuple(int(d) for d in (row["data"] or {}).get("reminder_days", ()))
    sent_at = row["sent_at"] or now
    due = next_reminder_at(sent_at, days, number, row["expires_at"])
    outreach.set_fields(conn, row["id"], reminders_sent=number, next_reminder_at=due)
    if due is not None:
        enqueue(conn, INVITATION_REMIND, {"invitation_id": row["id"], "reminder": number + 1},
                run_at=due)


# --- the SMS provider's delivery reports ----------------------------------------------------

def do_record_sms_status(ctx: Context, reference: str, status: str,
                         detail: dict[str, Any] | None = None) -> str:
    """Apply one delivery report; returns what it meant: delivered, failed or ignored."""
    s = ctx.settings
    delivered = {v.strip().lower() for v in s.sms_delivered_values.split(",") if v.strip()}
    failed = {v.strip().lower() for v in s.sms_failed_values.split(",") if v.strip()}
    meaning = "delivered" if status.lower() in delivered else \
        "failed" if status.lower() in failed else "ignored"
    now = ctx.now()
    with ctx.db.write() as conn:
        row = invitation_by_public_id(conn, reference[:32])
        if row is None or row["channel"] != "sms":
            raise NotFound("invitations.no_sms_invitation", reference=reference, where="reference")
        info = {"provider_status": status, **(detail or {})}
        if meaning == "failed" and row["status"] == "sent":
            record_invitation_status(conn, row["id"], "failed", now, info)
            outreach.set_fields(conn, row["id"], next_reminder_at=None)
        else:
            log_invitation_event(conn, row["id"], meaning if meaning != "ignored" else "report",
                                 now, info)
    return meaning

