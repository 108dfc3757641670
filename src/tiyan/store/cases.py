"""Cases (工单), their history and SLA timers; the inbox queries apply unit scope here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.worktime import BusinessCalendar, parse_calendar
from tiyan.errors import NotFound
from tiyan.security import new_public_id
from tiyan.store import tables as t
from tiyan.store.id_lists import among
from tiyan.store.scoped import visible

CASE_PERMISSION = Permission.MANAGE_CASES


def insert_case(conn: Connection, *, values: dict[str, Any], now: dt.datetime) -> tuple[int, str]:
    public_id = new_public_id()
    result = conn.execute(sa.insert(t.cx_case).values(
        public_id=public_id, status="new", created_at=now, updated_at=now, **values))
    return int(result.inserted_primary_key[0]), public_id  # type: ignore[index]


def new_case_id() -> str:
    return new_public_id()


def insert_cases(conn: Connection, *, rows: Sequence[dict[str, Any]],
                 now: dt.datetime) -> list[int]:
    """Add many new cases (each row with its `public_id`) in one statement; their ids, in the
    rows' order."""
    ids = conn.execute(sa.insert(t.cx_case).returning(t.cx_case.c.id,
                                                      sort_by_parameter_order=True),
                       [{**row, "status": "new", "created_at": now, "updated_at": now}
                        for row in rows]).scalars().all()
    return [int(i) for i in ids]


def insert_case_rules(conn: Connection, rows: Sequence[tuple[int, Sequence[int]]]) -> None:
    """Record every rule (ids, in evaluation order) each new case's response matched."""
    values = [{"case_id": case_id, "rule_id": rule_id, "position": position}
              for case_id, rule_ids in rows
              for position, rule_id in enumerate(dict.fromkeys(rule_ids))]
    if values:
        conn.execute(sa.insert(t.case_rule), values)


def case_rules(conn: Connection, case_id: int) -> list[RowMapping]:
    """The rules a case's response matched, in evaluation order (the case's own rule first)."""
    query = (sa.select(t.alert_rule.c.id, t.alert_rule.c.public_id, t.alert_rule.c.name,
                       t.alert_rule.c.action, t.alert_rule.c.active)
             .join(t.case_rule, t.case_rule.c.rule_id == t.alert_rule.c.id)
             .where(t.case_rule.c.case_id == case_id)
             .order_by(t.case_rule.c.position, t.alert_rule.c.id))
    return list(conn.execute(query).mappings())


def log_events(conn: Connection, *, at: dt.datetime, user_id: int | None, kind: str,
               events: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """One event of `kind` for each (case id, detail), in one statement."""
    if events:
        conn.execute(sa.insert(t.case_event), [
            {"case_id": case_id, "at": at, "user_id": user_id, "kind": kind,
             "detail": detail or {}} for case_id, detail in events])


def log_event(conn: Connection, case_id: int, *, at: dt.datetime, user_id: int | None,
              kind: str, detail: dict[str, Any] | None = None) -> None:
    conn.execute(sa.insert(t.case_event).values(case_id=case_id, at=at, user_id=user_id,
                                                kind=kind, detail=detail or {}))


def update_case(conn: Connection, case_id: int, now: dt.datetime, **values: Any) -> None:
    conn.execute(sa.update(t.cx_case).where(t.cx_case.c.id == case_id)
                 .values(updated_at=now, **values))


def raise_escalation_level(conn: Connection, case_id: int, now: dt.datetime) -> int:
    """One level higher, in one statement (timers that ran out together, or two workers, each
    get a level of their own); the new level."""
    return int(conn.execute(
        sa.update(t.cx_case).where(t.cx_case.c.id == case_id)
        .values(escalation_level=t.cx_case.c.escalation_level + 1, updated_at=now)
        .returning(t.cx_case.c.escalation_level)).scalar_one())


def insert_timers(conn: Connection, case_id: int, due: dict[str, dt.datetime]) -> None:
    if due:
        conn.execute(sa.insert(t.case_timer), [
            {"case_id": case_id, "kind": kind, "due_at": at} for kind, at in due.items()])


def insert_timers_of(conn: Connection,
                     cases: Sequence[tuple[int, dict[str, dt.datetime]]]) -> None:
    """The SLA timers of many cases, in one statement."""
    rows = [{"case_id": case_id, "kind": kind, "due_at": at}
            for case_id, due in cases for kind, at in due.items()]
    if rows:
        conn.execute(sa.insert(t.case_timer), rows)


def meet_timers(conn: Connection, case_id: int, kinds: Sequence[str], at: dt.datetime) -> None:
    conn.execute(sa.update(t.case_timer).where(
        t.case_timer.c.case_id == case_id, t.case_timer.c.kind.in_(list(kinds)),
        t.case_timer.c.met_at.is_(None)).values(met_at=at))


def overdue_timers(conn: Connection, now: dt.datetime, limit: int = 200) -> list[RowMapping]:
    """Timers that ran out, not met and not yet escalated (oldest first)."""
    query = (sa.select(t.case_timer, t.cx_case.c.unit_id, t.cx_case.c.escalation_level,
                       t.cx_case.c.public_id, t.cx_case.c.title, t.cx_case.c.rule_id)
             .join(t.cx_case, t.cx_case.c.id == t.case_timer.c.case_id)
             .where(t.case_timer.c.met_at.is_(None), t.case_timer.c.breached_at.is_(None),
                    t.case_timer.c.due_at <= now)
             .order_by(t.case_timer.c.due_at).limit(limit))
    return list(conn.execute(query).mappings())


def mark_breached(conn: Connection, timer_id: int, at: dt.datetime) -> bool:
    """Mark a timer breached once (False when another worker did it first)."""
    result = conn.execute(sa.update(t.case_timer).where(
        t.case_timer.c.id == timer_id, t.case_timer.c.breached_at.is_(None)
    ).values(breached_at=at))
    return result.rowcount == 1


def timers_of(conn: Connection, case_id: int) -> list[RowMapping]:
    return list(conn.execute(sa.select(t.case_timer).where(t.case_timer.c.case_id == case_id)
                             .order_by(t.case_timer.c.due_at)).mappings())


# --- routing ----------------------------------------------------------------------------------

def role_holders(conn: Connection, role: str, unit_ids: Sequence[int]) -> dict[int, list[int]]:
    """unit → active users holding `role` directly at that unit."""
    query = (sa.select(t.role_grant.c.unit_id, t.role_grant.c.user_id)
             .join(t.app_user, t.app_user.c.id == t.role_grant.c.user_id)
             .where(t.role_grant.c.role == role, t.role_grant.c.unit_id.in_(list(unit_ids)),
                    t.app_user.c.active).order_by(t.role_grant.c.user_id))
    holders: dict[int, list[int]] = {}
    for unit_id, user_id in conn.execute(query):
        holders.setdefault(unit_id, []).append(user_id)
    return holders


def calendar_for(conn: Connection, chain: Sequence[int]) -> BusinessCalendar:
    """The business calendar of the nearest unit in `chain` that has one (else the default,
    in the unit's own timezone)."""
    return calendar_source(conn, chain)[0]


def calendar_source(conn: Connection,
                    chain: Sequence[int]) -> tuple[BusinessCalendar, int | None]:
    """The calendar `calendar_for` gives, and the unit it comes from (None: the default)."""
    rows = {r.unit_id: r for r in conn.execute(
        sa.select(t.business_calendar).where(t.business_calendar.c.unit_id.in_(list(chain))))}
    timezone = conn.execute(sa.select(t.org_unit.c.timezone)
                            .where(t.org_unit.c.id == chain[0])).scalar_one()
    for unit_id in chain:
        row = rows.get(unit_id)
        if row is not None:
            return parse_calendar(timezone, row.hours, row.holidays, row.workdays), unit_id
    return BusinessCalendar(timezone=timezone), None


def save_calendar(conn: Connection, unit_id: int, hours: dict[str, Any], holidays: list[Any],
                  workdays: list[Any], now: dt.datetime) -> None:
    conn.execute(sa.delete(t.business_calendar).where(t.business_calendar.c.unit_id == unit_id))
    conn.execute(sa.insert(t.business_calendar).values(
        unit_id=unit_id, hours=hours, holidays=holidays, workdays=workdays, updated_at=now))


# --- the inbox ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseFilter:
    status: Sequence[str] = ()
    owner_user_id: int | None = None
    unit_id: int | None = None  # the unit's subtree
    rule_id: int | None = None
    overdue_at: dt.datetime | None = None  # only cases with a timer run out before this moment
    limit: int = 100
    offset: int = 0


def _case_query() -> sa.Select[Any]:
    owner = t.app_user.alias("owner")
    # the due time that matters now: the earliest timer not met yet
    next_due = (sa.select(sa.func.min(t.case_timer.c.due_at))
                .where(t.case_timer.c.case_id == t.cx_case.c.id, t.case_timer.c.met_at.is_(None))
                .scalar_subquery())
    return (sa.select(t.cx_case, t.org_unit.c.code.label("unit_code"),
                      t.org_unit.c.name_zh.label("unit_name_zh"),
                      t.org_unit.c.name_en.label("unit_name_en"),
                      t.org_unit.c.timezone.label("unit_timezone"),
                      owner.c.email.label("owner_email"), owner.c.name.label("owner_name"),
                      t.response.c.public_id.label("response_public_id"),
                      t.alert_rule.c.name.label("rule_name"), next_due.label("next_due_at"))
            .join(t.org_unit, t.org_unit.c.id == t.cx_case.c.unit_id)
            .outerjoin(owner, owner.c.id == t.cx_case.c.owner_user_id)
            .outerjoin(t.response, t.response.c.id == t.cx_case.c.response_id)
            .outerjoin(t.alert_rule, t.alert_rule.c.id == t.cx_case.c.rule_id))


def list_cases(conn: Connection, actor: Actor, f: CaseFilter) -> list[RowMapping]:
    """The cases of the filter the actor may see, newest first (`f.limit` from `f.offset`)."""
    query = _filtered(conn, actor, f, _case_query())
    query = query.order_by(t.cx_case.c.created_at.desc(), t.cx_case.c.id.desc())
    return list(conn.execute(query.limit(f.limit).offset(f.offset)).mappings())


def count_cases(conn: Connection, actor: Actor, f: CaseFilter) -> int:
    """How many cases the filter finds that the actor may see (all pages)."""
    query = _filtered(conn, actor, f, sa.select(sa.func.count()).select_from(t.cx_case))
    return int(conn.execute(query).scalar_one())


def _filtered(conn: Connection, actor: Actor, f: CaseFilter, query: Any) -> Any:
    vis = actor.scope.visibility(CASE_PERMISSION)
    query = query.where(visible(vis, t.cx_case.c.unit_id))
    if f.status:
        query = query.where(t.cx_case.c.status.in_(list(f.status)))
    if f.owner_user_id is not None:
        query = query.where(t.cx_case.c.owner_user_id == f.owner_user_id)
    if f.unit_id is not None:
        query = query.where(t.cx_case.c.unit_id.in_(actor_subtree(conn, f.unit_id)))
    if f.rule_id is not None:  # any rule the case's response matched, not only the first
        query = query.where(sa.or_(t.cx_case.c.rule_id == f.rule_id, sa.exists().where(
            t.case_rule.c.case_id == t.cx_case.c.id, t.case_rule.c.rule_id == f.rule_id)))
    if f.overdue_at is not None:
        query = query.where(sa.exists().where(
            t.case_timer.c.case_id == t.cx_case.c.id, t.case_timer.c.met_at.is_(None),
            t.case_timer.c.due_at <= f.overdue_at))
    return query


def rules_with_cases(conn: Connection, actor: Actor) -> list[RowMapping]:
    """The alert rules that opened cases the actor may see (for the inbox's rule filter)."""
    vis = actor.scope.visibility(CASE_PERMISSION)
    used = sa.union(
        sa.select(t.cx_case.c.rule_id).where(visible(vis, t.cx_case.c.unit_id)),
        sa.select(t.case_rule.c.rule_id).join(t.cx_case, t.cx_case.c.id == t.case_rule.c.case_id)
        .where(visible(vis, t.cx_case.c.unit_id)))
    query = (sa.select(t.alert_rule.c.id, t.alert_rule.c.public_id, t.alert_rule.c.name)
             .where(t.alert_rule.c.id.in_(used)).order_by(t.alert_rule.c.name))
    return list(conn.execute(query).mappings())


def actor_subtree(conn: Connection, unit_id: int) -> list[int]:
    from tiyan.domain.access import subtree
    from tiyan.store.scoped import parent_map

    return sorted(subtree(parent_map(conn), unit_id))


def get_case(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    vis = actor.scope.visibility(CASE_PERMISSION)
    row = conn.execute(_case_query().where(
        t.cx_case.c.public_id == public_id, visible(vis, t.cx_case.c.unit_id))).mappings().first()
    if row is None:
        raise NotFound("cases.case_does_not_exist", public_id=public_id, where="case")
    return row


def events_of(conn: Connection, case_id: int) -> list[RowMapping]:
    query = (sa.select(t.case_event, t.app_user.c.email.label("user_email"),
                       t.app_user.c.name.label("user_name"))
             .outerjoin(t.app_user, t.app_user.c.id == t.case_event.c.user_id)
             .where(t.case_event.c.case_id == case_id).order_by(t.case_event.c.id))
    return list(conn.execute(query).mappings())


def escalation_recipients(conn: Connection, events: Sequence[RowMapping]
                          ) -> tuple[dict[int, RowMapping], dict[int, RowMapping]]:
    """Whom the case's escalations told: users by id (name, e-mail) and the units they were
    told for by id (names), for the history to say "escalated to …"."""
    details = [e.detail or {} for e in events if e.kind == "escalated"]
    user_ids = sorted({d["to_user_id"] for d in details if isinstance(d.get("to_user_id"), int)})
    unit_ids = sorted({d["to_unit_id"] for d in details if isinstance(d.get("to_unit_id"), int)})
    users = {row.id: row for row in conn.execute(
        sa.select(t.app_user.c.id, t.app_user.c.name, t.app_user.c.email)
        .where(t.app_user.c.id.in_(user_ids))).mappings()} if user_ids else {}
    units = {row.id: row for row in conn.execute(
        sa.select(t.org_unit.c.id, t.org_unit.c.name_zh, t.org_unit.c.name_en)
        .where(t.org_unit.c.id.in_(unit_ids))).mappings()} if unit_ids else {}
    return users, units


def responses_with_cases(conn: Connection, response_ids: Sequence[int]) -> set[int]:
    """Those of the responses that have a case."""
    if not response_ids:
        return set()
    return set(conn.execute(sa.select(t.cx_case.c.response_id).distinct().where(
        among(conn, t.cx_case.c.response_id, sorted(set(response_ids))))).scalars())


def case_for_response(conn: Connection, response_id: int) -> RowMapping | None:
    return conn.execute(sa.select(t.cx_case).where(t.cx_case.c.response_id == response_id)
                        .order_by(t.cx_case.c.id).limit(1)).mappings().first()
