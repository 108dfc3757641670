"""Managing invitation rules: checked, scoped to the units where the actor manages surveys,
audit-logged. (Which events they match and what they create: tiyan.services.events.)"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.domain.contact_rules import RuleSettings, check_rule
from tiyan.domain.sms_length import sms_length
from tiyan.errors import InvalidInput
from tiyan.security import new_public_id
from tiyan.services import invitation_messages as words
from tiyan.services.links import invitation_url
from tiyan.store import audit, outreach
from tiyan.store import invitation_rules as store
from tiyan.store import tables as t
from tiyan.store.scoped import parent_map


def do_create_rule(ctx: Context, actor: Actor, rule: RuleSettings, *, survey_code: str,
                   unit_code: str) -> int:
    check_rule(rule)
    now = ctx.now()
    with ctx.db.write() as conn:
        unit_id, survey_id = _targets(conn, actor, survey_code, unit_code)
        check_sms_length(ctx, conn, rule, unit_id)
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
        unit_id, survey_id = _targets(conn, actor, survey_code, unit_code)
        check_sms_length(ctx, conn, rule, unit_id)
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


def _targets(conn: Connection, actor: Actor, survey_code: str,
             unit_code: str) -> tuple[int, int]:
    refs = outreach.resolve_refs(conn, actor, unit=unit_code, survey=survey_code)
    return refs.unit_id, refs.survey_id


def check_sms_length(ctx: Context, conn: Connection, rule: RuleSettings, unit_id: int) -> None:
    """An SMS rule whose longest text (invitation or reminder, Chinese or English, for any unit
    it applies to, with a link as long as real ones) would take more than
    TIYAN_SMS_MAX_SEGMENTS segments is refused, naming the text that is too long. A paused
    rule sends nothing and may always be saved (it is checked again when resumed)."""
    if rule.channel != "sms" or not rule.active:
        return
    limit = ctx.settings.sms_max_segments
    link = invitation_url(ctx, new_public_id(),
                          ctx.now() + dt.timedelta(days=rule.expires_days))
    worst: tuple[int, int, str, str, bool] | None = None
    for name_zh, name_en in _unit_names(conn, unit_id):
        for locale, name in (("zh-CN", name_zh), ("en", name_en)):
            for reminder in (False, True):
                text = words.sms_text(locale=locale, reminder=reminder, unit=name, link=link)
                size = sms_length(text)
                if worst is None or (size.segments, size.units) > worst[:2]:
                    worst = (size.segments, size.units, locale, name, reminder)
    if worst is None or worst[0] <= limit:
        return
    segments, units, locale, name, reminder = worst
    kind = "reminder" if reminder else "invitation"
    raise InvalidInput(
        "invitation_rules.sms_unit_would_take", locale=locale, kind=kind, name=name,
        segments=segments, units=units, limit=limit, where="channel")


def _unit_names(conn: Connection, unit_id: int) -> list[tuple[str, str]]:
    """Names (zh, en) of the unit and every unit below it: where the rule's events come from."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_map(conn).items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, todo = {unit_id}, [unit_id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    rows = conn.execute(sa.select(t.org_unit.c.name_zh, t.org_unit.c.name_en)
                        .where(t.org_unit.c.id.in_(found)))
    return [(row.name_zh, row.name_en) for row in rows]
