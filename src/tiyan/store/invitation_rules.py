"""Invitation rules ("event type → survey, channel, delay …"), read within the actor's scope.

A rule belongs to a unit and applies to events at that unit or any unit below it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.contact_rules import RuleSettings
from tiyan.errors import NotFound
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import visible

R = t.invitation_rule


def _values(rule: RuleSettings) -> dict[str, Any]:
    return {"name": rule.name.strip(), "event_type": rule.event_type, "channel": rule.channel,
            "delay_minutes": rule.delay_minutes, "expires_days": rule.expires_days,
            "reminder_days": list(rule.reminder_days),
            "sampling_percent": float(rule.sampling_percent),
            "quarantine_days": rule.quarantine_days, "active": rule.active}


def insert_rule(conn: Connection, rule: RuleSettings, *, survey_id: int, unit_id: int,
                now: dt.datetime) -> int:
    return inserted_id(conn.execute(sa.insert(R).values(
        survey_id=survey_id, unit_id=unit_id, created_at=now, **_values(rule))))


def update_rule(conn: Connection, rule_id: int, rule: RuleSettings, *, survey_id: int,
                unit_id: int) -> None:
    conn.execute(sa.update(R).where(R.c.id == rule_id).values(
        survey_id=survey_id, unit_id=unit_id, **_values(rule)))


def delete_rule(conn: Connection, rule_id: int) -> None:
    conn.execute(sa.update(t.invitation).where(t.invitation.c.rule_id == rule_id)
                 .values(rule_id=None))
    conn.execute(sa.delete(R).where(R.c.id == rule_id))


def _rules() -> sa.Select[Any]:
    return (sa.select(R, t.survey.c.code.label("survey_code"),
                      t.survey.c.name.label("survey_name"),
                      t.org_unit.c.code.label("unit_code"))
            .join(t.survey, t.survey.c.id == R.c.survey_id)
            .join(t.org_unit, t.org_unit.c.id == R.c.unit_id))


def list_rules(conn: Connection, actor: Actor) -> list[RowMapping]:
    vis = actor.scope.visibility(Permission.MANAGE_SURVEYS)
    query = _rules().where(visible(vis, R.c.unit_id)).order_by(R.c.id)
    return list(conn.execute(query).mappings())


def get_rule(conn: Connection, actor: Actor, rule_id: int) -> RowMapping:
    vis = actor.scope.visibility(Permission.MANAGE_SURVEYS)
    row = conn.execute(_rules().where(R.c.id == rule_id, visible(vis, R.c.unit_id))
                       ).mappings().first()
    if row is None:
        raise NotFound("invitation_rules.invitation_rule_does_not", rule_id=rule_id,
                       where="rule")
    return row


def matching_rules(conn: Connection, event_type: str, unit_lineage: Iterable[int]
                   ) -> list[RowMapping]:
    """Active rules for this event type owned by the event's unit or one of its ancestors."""
    query = (_rules().where(R.c.active, R.c.event_type == event_type,
                            R.c.unit_id.in_(sorted(set(unit_lineage))))
             .order_by(R.c.id))
    return list(conn.execute(query).mappings())


def rule_settings(row: RowMapping) -> RuleSettings:
    return RuleSettings(
        name=row["name"], event_type=row["event_type"], channel=row["channel"],
        delay_minutes=int(row["delay_minutes"]), expires_days=int(row["expires_days"]),
        reminder_days=tuple(int(d) for d in row["reminder_days"] or ()),
        sampling_percent=float(row["sampling_percent"]),
        quarantine_days=None if row["quarantine_days"] is None else int(row["quarantine_days"]),
        active=bool(row["active"]))
