"""The Invitations admin page: invitation rules (list, add, pause, remove) and the recent
invitations with their status, reason and timeline. For those who manage surveys, within their
units; every change goes through tiyan.services.invitation_rules (checked, audit-logged)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.contact_rules import CHANNELS, RuleSettings, parse_day_list
from tiyan.domain.privacy import mask_value
from tiyan.errors import InvalidInput, TiyanError
from tiyan.services import invitation_rules as service
from tiyan.services.invitations import shown_last_error
from tiyan.store import invitation_rules as rule_store
from tiyan.store import org, outreach
from tiyan.store.invitations import invitation_timeline
from tiyan.store.surveys import list_surveys
from tiyan.web.api.params import RowId
from tiyan.web.deps import ContextDep, PageActor
from tiyan.web.ui.render import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]
STATUSES = ("queued", "sent", "opened", "started", "completed", "bounced", "failed", "expired",
            "refused", "suppressed")
# Timeline steps the page names in words; any other step shows as it is stored.
KNOWN_STEPS = frozenset({*STATUSES, "retry", "reminded", "reminder_failed", "delivered",
                         "report", "opted_out"})



@router.get("/admin/invitations", response_class=HTMLResponse)
def invitations_page(request: Request, ctx: ContextDep, actor: PageActor,
                     status: Annotated[str | None, Query(max_length=16)] = None) -> HTMLResponse:
    actor.require(Permission.MANAGE_SURVEYS)
    return _page(request, ctx, actor, status if status in STATUSES else None)


def _page(request: Request, ctx: Context, actor: Actor, status: str | None, *,
          status_code: int = 200, **values: object) -> HTMLResponse:
    with ctx.db.read() as conn:
        rules = rule_store.list_rules(conn, actor)
        rows = outreach.list_invitations(conn, actor, outreach.InvitationFilters(status=status),
                                         limit=100)
        reach = actor.scope.visibility(Permission.MANAGE_SURVEYS).unit_ids
        units = [u for u in org.list_units(conn, actor) if u["id"] in reach]
        surveys = [s for s in list_surveys(conn, actor) if s["current_version"] is not None]
    return render(request, "invitations.html", actor=actor, rules=rules,
                  invitations=[_shown(actor, r) for r in rows], units=units, surveys=surveys,
                  channels=CHANNELS, statuses=STATUSES, status=status, known_steps=KNOWN_STEPS,
                  default_quarantine=ctx.settings.contact_quarantine_days,
                  status_code=status_code, **values)


def _shown(actor: Actor, row: object) -> dict[str, object]:
    item = dict(row)  # type: ignore[call-overload]
    if not actor.can(Permission.VIEW_PII):
        if item.get("contact"):
            kind = "email" if item["channel"] == "email" else "phone"
            item["contact"] = mask_value(kind, str(item["contact"]))
        if item.get("customer_name"):
            item["customer_name"] = mask_value("name", str(item["customer_name"]))
    item["reason"] = (item.get("data") or {}).get("suppressed")
    item["last_error"] = shown_last_error(item)
    return item


@router.post("/admin/invitations/rules", response_class=HTMLResponse)
def create_rule(request: Request, ctx: ContextDep, actor: PageActor, name: Text,
                event_type: Text, survey: Text, unit: Text, channel: Text,
                delay_minutes: Annotated[str, Form(max_length=10)] = "0",
                expires_days: Annotated[str, Form(max_length=10)] = "14",
                reminder_days: Text = "",
                sampling_percent: Annotated[str, Form(max_length=10)] = "100",
                quarantine_days: Annotated[str, Form(max_length=10)] = "") -> Response:
    form = {"name": name, "event_type": event_type, "survey": survey, "unit": unit,
            "channel": channel, "delay_minutes": delay_minutes, "expires_days": expires_days,
            "reminder_days": reminder_days, "sampling_percent": sampling_percent,
            "quarantine_days": quarantine_days}
    try:
        rule = RuleSettings(
            name=name, event_type=event_type.strip(), channel=channel,
            delay_minutes=_number(delay_minutes, "delay_minutes"),
            expires_days=_number(expires_days, "expires_days"),
            reminder_days=parse_day_list(reminder_days),
            sampling_percent=_percent(sampling_percent),
            quarantine_days=_number(quarantine_days, "quarantine_days")
            if quarantine_days.strip() else None)
        service.do_create_rule(ctx, actor, rule, survey_code=survey, unit_code=unit)
    except TiyanError as exc:
        return _page(request, ctx, actor, None, status_code=exc.status, error=exc, values=form)
    return RedirectResponse("/admin/invitations#rules", status_code=303)


def _number(text: str, where: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput("invitation_pages.not_whole_number", text=text, where=where) from None


def _percent(text: str) -> float:
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        raise InvalidInput("invitation_pages.not_percentage", text=text,
                           where="sampling_percent") from None


@router.post("/admin/invitations/rules/{rule_id}/active")
def set_active(request: Request, rule_id: RowId, ctx: ContextDep, actor: PageActor,
               active: Annotated[str, Form(max_length=5)] = "") -> Response:
    with ctx.db.read() as conn:
        row = rule_store.get_rule(conn, actor, rule_id)
    rule = rule_store.rule_settings(row)
    changed = RuleSettings(**{**rule.__dict__, "active": active == "1"})
    service.do_update_rule(ctx, actor, rule_id, changed, survey_code=row["survey_code"],
                           unit_code=row["unit_code"])
    return RedirectResponse("/admin/invitations#rules", status_code=303)


@router.post("/admin/invitations/rules/{rule_id}/delete")
def delete_rule(request: Request, rule_id: RowId, ctx: ContextDep, actor: PageActor) -> Response:
    service.do_delete_rule(ctx, actor, rule_id)
    return RedirectResponse("/admin/invitations#rules", status_code=303)


@router.get("/admin/invitations/{invitation_id}", response_class=HTMLResponse)
def invitation_detail(request: Request, invitation_id: str, ctx: ContextDep,
                      actor: PageActor) -> HTMLResponse:
    actor.require(Permission.MANAGE_SURVEYS)
    with ctx.db.read() as conn:
        row = outreach.get_invitation(conn, actor, invitation_id[:32])
        steps = invitation_timeline(conn, row["id"])
    return render(request, "invitation.html", actor=actor, inv=_shown(actor, row), steps=steps,
                  known_steps=KNOWN_STEPS, statuses=STATUSES)
