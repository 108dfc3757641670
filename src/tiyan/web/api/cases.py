"""REST API for the closed loop: alert rules, the cases inbox, callbacks, notification settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.engine import RowMapping

from tiyan.channels import outbound
from tiyan.services import alerts, callbacks, cases, notifications
from tiyan.store import alert_rules as rule_store
from tiyan.store import cases as store
from tiyan.store import org
from tiyan.web.api import closed_loop_schemas as s
from tiyan.web.api.params import RowId
from tiyan.web.api.schemas import ErrorBody
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS)


# --- alert rules ----------------------------------------------------------------------------------

def _rule_request(body: s.AlertRuleIn) -> alerts.RuleRequest:
    return alerts.RuleRequest(name=body.name, unit_code=body.unit_code, condition=body.condition,
                              action=body.action, scope=body.scope, sla=body.sla,
                              active=body.active)


@router.get("/alert-rules", response_model=list[s.AlertRuleOut], tags=["alert rules"])
def list_rules(ctx: ContextDep, actor: ApiActor) -> list[s.AlertRuleOut]:
    actor.require(rule_store.RULE_PERMISSION)
    with ctx.db.read() as conn:
        return [_rule(conn, r) for r in rule_store.list_rules(conn, actor)]


@router.post("/alert-rules", response_model=s.AlertRuleOut, status_code=201,
             tags=["alert rules"])
def create_rule(body: s.AlertRuleIn, ctx: ContextDep, actor: ApiActor) -> s.AlertRuleOut:
    """Create a rule; errors name the node of the condition tree that is wrong."""
    actor.require(rule_store.RULE_PERMISSION)
    public_id = alerts.do_create_rule(ctx, actor, _rule_request(body))
    return get_rule(public_id, ctx, actor)


@router.get("/alert-rules/{rule_id}", response_model=s.AlertRuleOut, tags=["alert rules"])
def get_rule(rule_id: str, ctx: ContextDep, actor: ApiActor) -> s.AlertRuleOut:
    with ctx.db.read() as conn:
        return _rule(conn, rule_store.get_rule(conn, actor, rule_id[:32]))


@router.put("/alert-rules/{rule_id}", response_model=s.AlertRuleOut, tags=["alert rules"])
def update_rule(rule_id: str, body: s.AlertRuleIn, ctx: ContextDep,
                actor: ApiActor) -> s.AlertRuleOut:
    alerts.do_update_rule(ctx, actor, rule_id[:32], _rule_request(body))
    return get_rule(rule_id, ctx, actor)


@router.delete("/alert-rules/{rule_id}", response_model=s.Deleted, tags=["alert rules"])
def delete_rule(rule_id: str, ctx: ContextDep, actor: ApiActor) -> s.Deleted:
    """Delete a rule; one that already opened cases is deactivated instead."""
    return s.Deleted(deleted=alerts.do_delete_rule(ctx, actor, rule_id[:32]))


def _rule(conn: Any, row: RowMapping) -> s.AlertRuleOut:
    return s.AlertRuleOut(id=row.public_id, name=row.name, unit_code=row.unit_code,
                          condition=row.condition, action=row.action,
                          scope=rule_store.scope_codes(conn, row.scope), sla=row.sla,
                          active=row.active, created_at=row.created_at)


# --- cases ------------------------------------------------------------------------------------

@router.get("/cases", response_model=list[s.CaseOut], tags=["cases"])
def list_cases(ctx: ContextDep, actor: ApiActor,
               status: Annotated[list[str] | None, Query(max_length=5)] = None,
               mine: bool = False,
               unit: Annotated[str | None, Query(max_length=64)] = None,
               overdue: bool = False,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[s.CaseOut]:
    """The inbox: cases in the caller's units, newest first; `mine` = owned by the caller,
    `unit` = that unit's subtree, `overdue` = an SLA timer ran out."""
    actor.require(store.CASE_PERMISSION)
    with ctx.db.read() as conn:
        f = store.CaseFilter(status=status or (), limit=limit,
                             owner_user_id=actor.user_id if mine else None,
                             unit_id=org.unit_id_by_code(conn, unit) if unit else None,
                             overdue_at=ctx.now() if overdue else None)
        return [_case(r) for r in store.list_cases(conn, actor, f)]


@router.get("/cases/{case_id}", response_model=s.CaseDetail, tags=["cases"])
def get_case(case_id: str, ctx: ContextDep, actor: ApiActor) -> s.CaseDetail:
    with ctx.db.read() as conn:
        row = store.get_case(conn, actor, case_id[:32])
        events = [s.CaseEventOut(at=e.at, kind=e.kind, user_email=e.user_email,
                                 detail=e.detail) for e in store.events_of(conn, row.id)]
        timers = [s.TimerOut(kind=x.kind, due_at=x.due_at, met_at=x.met_at,
                             breached_at=x.breached_at) for x in store.timers_of(conn, row.id)]
        sent = [s.NotificationOut(**{k: n[k] for k in s.NotificationOut.model_fields})
                for n in notifications.delivery_log(conn, row.id)]
        rules = [s.CaseRuleOut(id=r.public_id, name=r.name)
                 for r in store.case_rules(conn, row.id)]
    return s.CaseDetail(**_case(row).model_dump(), rules=rules, events=events, timers=timers,
                        notifications=sent)


@router.post("/cases/{case_id}/status", response_model=s.CaseDetail, tags=["cases"])
def change_status(case_id: str, body: s.StatusIn, ctx: ContextDep,
                  actor: ApiActor) -> s.CaseDetail:
    """Move the case along new → acknowledged → in_progress → resolved → closed (or reopen a
    resolved/closed case with in_progress); a move the workflow does not allow is a 409."""
    cases.do_change_status(ctx, actor, case_id[:32], body.status, body.note)
    return get_case(case_id, ctx, actor)


@router.post("/cases/{case_id}/notes", response_model=s.CaseDetail, status_code=201,
             tags=["cases"])
def add_note(case_id: str, body: s.NoteIn, ctx: ContextDep, actor: ApiActor) -> s.CaseDetail:
    cases.do_add_note(ctx, actor, case_id[:32], body.note)
    return get_case(case_id, ctx, actor)


@router.post("/cases/{case_id}/root-cause", response_model=s.CaseDetail, tags=["cases"])
def set_root_cause(case_id: str, body: s.RootCauseIn, ctx: ContextDep,
                   actor: ApiActor) -> s.CaseDetail:
    cases.do_set_root_cause(ctx, actor, case_id[:32], body.code)
    return get_case(case_id, ctx, actor)


@router.post("/notifications/{notification_id}/resend", status_code=202, tags=["cases"])
def resend(notification_id: RowId, ctx: ContextDep, actor: ApiActor) -> dict[str, str]:
    notifications.do_resend(ctx, actor, notification_id)
    return {"status": "queued"}


def _case(row: RowMapping) -> s.CaseOut:
    return s.CaseOut(
        id=row.public_id, title=row.title, status=row.status, unit_code=row.unit_code,
        owner_email=row.owner_email, rule=row.rule_name, response_id=row.response_public_id,
        root_cause=row.root_cause, escalation_level=row.escalation_level,
        created_at=row.created_at, due_at=row.due_at, acknowledged_at=row.acknowledged_at,
        first_contact_at=row.first_contact_at, resolved_at=row.resolved_at,
        closed_at=row.closed_at)


# --- callbacks and notification settings ------------------------------------------------------

@router.get("/callbacks", response_model=list[s.CallbackOut], tags=["callbacks"])
def list_callbacks(ctx: ContextDep, actor: ApiActor,
                   status: Annotated[str, Query(pattern="^(open|done)$")] = "open",
                   ) -> list[s.CallbackOut]:
    """The 3-day callback worklist (回访), due first."""
    actor.require(callbacks.PERMISSION)
    with ctx.db.read() as conn:
        return [s.CallbackOut(id=r.public_id, unit_code=r.unit_code,
                              customer_name=r.customer_name, case_id=r.case_public_id,
                              response_id=r.response_public_id, reason=r.reason,
                              status=r.status, due_at=r.due_at)
                for r in callbacks.worklist(conn, actor, status=status)]


@router.post("/callbacks/{task_id}/calls", status_code=201, tags=["callbacks"])
def log_call(task_id: str, body: s.CallIn, ctx: ContextDep, actor: ApiActor) -> dict[str, str]:
    callbacks.do_log_call(ctx, actor, task_id[:32], outcome=body.outcome,
                          recovered=body.recovered, satisfaction=body.satisfaction,
                          note=body.note)
    return {"status": "logged"}


@router.get("/kpis/recovery-rate", response_model=s.RecoveryOut, tags=["analytics"])
def recovery_rate(ctx: ContextDep, actor: ApiActor) -> s.RecoveryOut:
    """Share of reached callback customers who are recovered, over the caller's units."""
    with ctx.db.read() as conn:
        kpi = callbacks.recovery_kpi(conn, actor)
    return s.RecoveryOut(recovered=kpi.recovered, reached=kpi.reached, rate=kpi.rate)


@router.get("/me/notifications", response_model=list[s.PreferenceOut], tags=["access"])
def list_preferences(ctx: ContextDep, actor: ApiActor) -> list[s.PreferenceOut]:
    with ctx.db.read() as conn:
        return [s.PreferenceOut(channel=p.channel, target=p.target, events=list(p.events),
                                active=p.active, mentions=list(p.mentions or []),
                                signed=bool(p.secret) and p.channel != "webhook")
                for p in notifications.preferences_of(conn, actor.user_id)]


@router.put("/me/notifications", response_model=s.PreferenceOut, tags=["access"])
def set_preference(body: s.PreferenceIn, ctx: ContextDep, actor: ApiActor) -> s.PreferenceOut:
    """How you are told about cases on one channel (replaces that channel's setting)."""
    secret = notifications.do_set_preference(ctx, actor, channel=body.channel,
                                             target=body.target, events=body.events,
                                             active=body.active, robot_secret=body.robot_secret,
                                             mentions=body.mentions)
    return s.PreferenceOut(channel=body.channel, target=body.target, events=body.events,
                           active=body.active, secret=secret,
                           signed=bool(body.robot_secret), mentions=body.mentions)


@router.delete("/me/notifications/{channel}", status_code=204, tags=["access"])
def remove_preference(channel: str, ctx: ContextDep, actor: ApiActor) -> Response:
    """Stop notifications on your `channel` (with none left: e-mail at your sign-in address)."""
    notifications.do_remove_preference(ctx, actor, channel[:16])
    return Response(status_code=204)


@router.post("/me/notifications/{channel}/test", tags=["access"])
def send_test(channel: str, ctx: ContextDep, actor: ApiActor) -> dict[str, str | None]:
    """Send a test message to your `channel` now: {"error": null} when it was taken, else why
    not (a chat robot's refusal included, as its code)."""
    error = notifications.do_send_test(ctx, actor, channel[:16])
    return {"error": outbound.shown_error(error) if channel != "email" else error}
