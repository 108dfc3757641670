"""Managing invitation rules: checked, scoped to the units where the actor manages surveys,
audit-logged. (Which events they match and what they create: tiyan.services.events.)"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.contact_rules import RuleSettings, check_rule
from tiyan.store import audit, outreach
from tiyan.store import invitation_rules as store


def do_create_rule(ctx: Context, actor: Actor, rule: RuleSettings, *, survey_code: str,
                   unit_code: str) -> int:
    check_rule(rule)
    now = ctx.now()
    with ctx.db.write() as conn:
        unit_id, survey_id = _targets(conn, survey_code, unit_code)
        actor.require(Permission.MANAGE_SURVEYS, unit_id)
        rule_id = store.insert_rule(conn, rule, survey_id=survey_id, unit_id=unit_id, now=now)
        audit.record(conn, at=now, user_id=actor.user_id, action="invitation_rule.create",
                     entity="invitation_rule", entity_id=rule_id, unit_id=unit_id,
                     detail={"name": rule.name, "event_type": rule.event_type})
    return rule_id


def do_update_rule(ctx: Context, actor: Actor, rule_id: int, rule: RuleSettings, *,
                   survey_code: str, unit_code: str) -> None:
    check_rule(rule)
    now = ctx.now()
    with ctx.db.write() as conn:
        store.get_rule(conn, actor, rule_id)
        unit_id, survey_id = _targets(conn, survey_code, unit_code)
        actor.require(Permission.MANAGE_SURVEYS, unit_id)
        store.update_rule(conn, rule_id, rule, survey_id=survey_id, unit_id=unit_id)
        audit.record(conn, at=now, user_id=actor.user_id, action="invitation_rule.update",
                     entity="invitation_rule", entity_id=rule_id, unit_id=unit_id,
                     detail={"name": rule.name, "active": rule.active})


def do_delete_rule(ctx: Context, actor: Actor, rule_id: int) -> None:
    """Remove a rule; invitations it made stay (without a rule)."""
    now = ctx.now()
    with ctx.db.write() as conn:
        row = store.get_rule(conn, actor, rule_id)
        store.delete_rule(conn, rule_id)
        audit.record(conn, at=now, user_id=actor.user_id, action="invitation_rule.delete",
                     entity="invitation_rule", entity_id=rule_id, unit_id=row["unit_id"],
                     detail={"name": row["name"]})


def _targets(conn: Connection, survey_code: str, unit_code: str) -> tuple[int, int]:
    refs = outreach.resolve_refs(conn, unit=unit_code, survey=survey_code)
    return refs.unit_id, refs.survey_id
