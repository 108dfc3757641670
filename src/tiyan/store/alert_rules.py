"""Alert rules: stored condition trees, scope, action and SLA policy (unit scope applied here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.errors import NotFound
from tiyan.security import new_public_id
from tiyan.store import tables as t
from tiyan.store.scoped import visible

RULE_PERMISSION = Permission.MANAGE_SURVEYS  # who configures listening configures alerts


def insert_rule(conn: Connection, *, values: dict[str, Any], now: dt.datetime) -> str:
    public_id = new_public_id()
    conn.execute(sa.insert(t.alert_rule).values(public_id=public_id, created_at=now,
                                                updated_at=now, **values))
    return public_id


def update_rule(conn: Connection, rule_id: int, values: dict[str, Any], now: dt.datetime) -> None:
    conn.execute(sa.update(t.alert_rule).where(t.alert_rule.c.id == rule_id)
                 .values(updated_at=now, **values))


def delete_rule(conn: Connection, rule_id: int) -> bool:
    """Delete a rule that never opened a case; one that did is deactivated (its cases keep it).
    Returns True when the rule was deleted."""
    used = conn.execute(sa.select(sa.func.count()).select_from(t.case_rule)
                        .where(t.case_rule.c.rule_id == rule_id)).scalar_one() \
        or conn.execute(sa.select(sa.func.count()).select_from(t.cx_case)
                        .where(t.cx_case.c.rule_id == rule_id)).scalar_one()
    if used:
        conn.execute(sa.update(t.alert_rule).where(t.alert_rule.c.id == rule_id)
                     .values(active=False))
        return False
    conn.execute(sa.delete(t.alert_rule).where(t.alert_rule.c.id == rule_id))
    return True


def _listing() -> sa.Select[Any]:
    return (sa.select(t.alert_rule, t.org_unit.c.code.label("unit_code"))
            .join(t.org_unit, t.org_unit.c.id == t.alert_rule.c.unit_id))


def list_rules(conn: Connection, actor: Actor) -> list[RowMapping]:
    vis = actor.scope.visibility(RULE_PERMISSION)
    query = _listing().where(visible(vis, t.alert_rule.c.unit_id)).order_by(t.alert_rule.c.id)
    return list(conn.execute(query).mappings())


def get_rule(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    vis = actor.scope.visibility(RULE_PERMISSION)
    row = conn.execute(_listing().where(t.alert_rule.c.public_id == public_id,
                                        visible(vis, t.alert_rule.c.unit_id))).mappings().first()
    if row is None:
        raise NotFound("alert_rules.alert_rule_does_not", public_id=public_id,
                       where="alert rule")
    return row


def active_rules_for_units(conn: Connection, unit_ids: Sequence[int]) -> list[RowMapping]:
    """Active rules set on any of these units (a response's unit and its ancestors)."""
    query = (sa.select(t.alert_rule).where(t.alert_rule.c.active,
                                           t.alert_rule.c.unit_id.in_(list(unit_ids)))
             .order_by(t.alert_rule.c.id))
    return list(conn.execute(query).mappings())


def scope_codes(conn: Connection, scope: dict[str, Any] | None) -> dict[str, list[str]]:
    """A stored scope (ids) as codes, for the API and the pages (channels as they are)."""
    out: dict[str, list[str]] = {}
    if (scope or {}).get("channels"):
        out["channels"] = list((scope or {})["channels"])
    for key, table in (("surveys", t.survey), ("touchpoints", t.touchpoint)):
        ids = (scope or {}).get(key) or []
        if ids:
            out[key] = sorted(conn.execute(sa.select(table.c.code)
                                           .where(table.c.id.in_(ids))).scalars())
    return out
