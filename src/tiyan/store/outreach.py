"""Invitations going out: writing them, the contact history the contact rules read, the
customers events name, and the scoped lists admins read (status changes: store/invitations.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.errors import InvalidInput, NotFound
from tiyan.security import new_public_id
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import visible
from tiyan.store.scoped_refs import staff_in_unit, survey_for_unit, unit_in_reach

INV, C, CI = t.invitation, t.customer, t.customer_identity
SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class NewInvitation:
    survey_id: int
    unit_id: int
    channel: str
    status: str
    send_at: dt.datetime
    expires_at: dt.datetime
    customer_id: int | None = None
    staff_id: int | None = None
    touchpoint_id: int | None = None
    rule_id: int | None = None
    contact: str | None = None
    data: Mapping[str, Any] | None = None


def insert_invitation(conn: Connection, new: NewInvitation, now: dt.datetime) -> tuple[int, str]:
    public_id = new_public_id()
    result = conn.execute(sa.insert(INV).values(
        public_id=public_id, survey_id=new.survey_id, customer_id=new.customer_id,
        unit_id=new.unit_id, staff_id=new.staff_id, touchpoint_id=new.touchpoint_id,
        channel=new.channel, status=new.status, data=dict(new.data or {}), created_at=now,
        expires_at=new.expires_at, send_at=new.send_at, contact=new.contact,
        rule_id=new.rule_id, attempts=0, reminders_sent=0))
    return inserted_id(result), public_id


def last_contacted_at(conn: Connection, customer_id: int) -> dt.datetime | None:
    """The latest moment this customer was (or is about to be) invited, or answered a survey."""
    invited = conn.execute(
        sa.select(sa.func.max(sa.func.coalesce(INV.c.sent_at, INV.c.send_at, INV.c.created_at)))
        .where(INV.c.customer_id == customer_id, INV.c.status != SUPPRESSED)).scalar()
    answered = conn.execute(
        sa.select(sa.func.max(t.response.c.submitted_at))
        .where(t.response.c.customer_id == customer_id)).scalar()
    moments = [m for m in (invited, answered) if m is not None]
    return max(moments) if moments else None


def set_fields(conn: Connection, invitation_id: int, **values: Any) -> None:
    conn.execute(sa.update(INV).where(INV.c.id == invitation_id).values(**values))


# --- codes that callers know, turned into ids -----------------------------------------

@dataclass(frozen=True)
class Refs:
    unit_id: int
    survey_id: int
    staff_id: int | None = None
    touchpoint_id: int | None = None


def resolve_refs(conn: Connection, actor: Actor, *, unit: str, survey: str,
                 staff: str | None = None, touchpoint: str | None = None) -> Refs:
    """Ids for the codes of a unit where the actor manages surveys, a survey of that unit (or
    of one above it) with a published version, a staff member of the unit and a touchpoint
    (`code`, or `journey/code` where several journeys use the code)."""
    unit_id = unit_in_reach(conn, actor, Permission.MANAGE_SURVEYS, unit)
    found = survey_for_unit(conn, unit_id, code=survey)
    if found["current_version"] is None:
        raise InvalidInput("outreach.survey_no_published_version", survey=survey, where="survey")
    return Refs(unit_id, int(found["id"]),
                None if staff is None else staff_in_unit(conn, unit_id, staff),
                None if touchpoint is None else touchpoint_id(conn, touchpoint))


def survey_id(conn: Connection, code: str) -> int:
    row = conn.execute(sa.select(t.survey.c.id, t.survey.c.current_version)
                       .where(t.survey.c.code == code)).first()
    if row is None:
        raise InvalidInput("common.no_survey", code=code, where="survey")
    if row.current_version is None:
        raise InvalidInput("outreach.survey_no_published_version_2", code=code, where="survey")
    return int(row.id)


def touchpoint_id(conn: Connection, ref: str) -> int:
    journey, _, code = ref.rpartition("/")
    query = sa.select(t.touchpoint.c.id).where(t.touchpoint.c.code == code)
    if journey:
        query = query.join(t.journey, t.journey.c.id == t.touchpoint.c.journey_id).where(
            t.journey.c.code == journey)
    found = conn.execute(query).scalars().all()
    if not found:
        raise InvalidInput("common.no_touchpoint", ref=ref, where="touchpoint")
    if len(found) > 1:
        raise InvalidInput("common.touchpoint_several_journeys_write", code=code,
                           where="touchpoint")
    return int(found[0])


# --- customers ---------------------------------------------------------------------------

def customer_row(conn: Connection, customer_id: int) -> RowMapping:
    return conn.execute(sa.select(C).where(C.c.id == customer_id)).mappings().one()


def lock_customer(conn: Connection, customer_id: int) -> RowMapping:
    """The customer row, locked until the transaction ends, so that contact decisions about
    one customer are made one at a time.

    PostgreSQL: SELECT … FOR UPDATE. SQLite has no row locks; within one process its write
    transactions already run one at a time (tiyan.store.db), but the driver opens the
    transaction only at the first write, so two processes (the app and `tiyan worker`, or two
    app processes) could both read before either writes. A write that changes nothing, made
    first, takes the database's write lock before anything is read."""
    if conn.dialect.name == "sqlite":
        conn.execute(sa.update(C).where(C.c.id == customer_id)
                     .values(created_at=C.c.created_at))
        return customer_row(conn, customer_id)
    return conn.execute(sa.select(C).where(C.c.id == customer_id).with_for_update()
                        ).mappings().one()


def customer_by_public_id(conn: Connection, public_id: str) -> RowMapping | None:
    return conn.execute(sa.select(C).where(C.c.public_id == public_id)).mappings().first()


def customer_by_external_id(conn: Connection, external_id: str) -> RowMapping | None:
    return conn.execute(sa.select(C).where(C.c.external_id == external_id)).mappings().first()


def customer_by_identity(conn: Connection, kind: str, value: str) -> RowMapping | None:
    query = (sa.select(C).join(CI, CI.c.customer_id == C.c.id)
             .where(CI.c.kind == kind, CI.c.value == value))
    return conn.execute(query).mappings().first()


def identities(conn: Connection, customer_id: int) -> dict[str, str]:
    """The newest identity of each kind: {"phone": ..., "email": ...}."""
    rows = conn.execute(sa.select(CI.c.kind, CI.c.value).where(CI.c.customer_id == customer_id)
                        .order_by(CI.c.id.desc()))
    found: dict[str, str] = {}
    for kind, value in rows:
        found.setdefault(kind, value)
    return found


def set_customer_language(conn: Connection, customer_id: int, language: str) -> None:
    conn.execute(sa.update(C).where(C.c.id == customer_id).values(language=language[:16]))


def add_identity(conn: Connection, customer_id: int, kind: str, value: str) -> None:
    conn.execute(sa.insert(CI).values(customer_id=customer_id, kind=kind, value=value))


# --- what admins read --------------------------------------------------------------------

def _listing() -> sa.Select[Any]:
    return (sa.select(INV, t.survey.c.code.label("survey_code"),
                      t.survey.c.name.label("survey_name"),
                      t.org_unit.c.code.label("unit_code"),
                      t.org_unit.c.name_zh.label("unit_name_zh"),
                      t.org_unit.c.name_en.label("unit_name_en"),
                      C.c.public_id.label("customer_public_id"),
                      C.c.name.label("customer_name"),
                      t.staff.c.code.label("staff_code"),
                      t.staff.c.name.label("staff_name"),
                      t.touchpoint.c.code.label("touchpoint_code"),
                      t.touchpoint.c.name_zh.label("touchpoint_name_zh"),
                      t.touchpoint.c.name_en.label("touchpoint_name_en"),
                      t.invitation_rule.c.name.label("rule_name"))
            .join(t.survey, t.survey.c.id == INV.c.survey_id)
            .join(t.org_unit, t.org_unit.c.id == INV.c.unit_id)
            .outerjoin(C, C.c.id == INV.c.customer_id)
            .outerjoin(t.staff, t.staff.c.id == INV.c.staff_id)
            .outerjoin(t.touchpoint, t.touchpoint.c.id == INV.c.touchpoint_id)
            .outerjoin(t.invitation_rule, t.invitation_rule.c.id == INV.c.rule_id))


@dataclass(frozen=True)
class InvitationFilters:
    status: str | None = None
    channel: str | None = None
    survey_id: int | None = None
    rule_id: int | None = None


def list_invitations(conn: Connection, actor: Actor, filters: InvitationFilters, *,
                     before_id: int | None = None, limit: int = 50) -> list[RowMapping]:
    """Newest first, within the units where the actor manages surveys."""
    vis = actor.scope.visibility(Permission.MANAGE_SURVEYS)
    query = _listing().where(visible(vis, INV.c.unit_id))
    if filters.status:
        query = query.where(INV.c.status == filters.status)
    if filters.channel:
        query = query.where(INV.c.channel == filters.channel)
    if filters.survey_id is not None:
        query = query.where(INV.c.survey_id == filters.survey_id)
    if filters.rule_id is not None:
        query = query.where(INV.c.rule_id == filters.rule_id)
    if before_id is not None:
        query = query.where(INV.c.id < before_id)
    return list(conn.execute(query.order_by(INV.c.id.desc()).limit(limit)).mappings())


def get_invitation(conn: Connection, actor: Actor, public_id: str) -> RowMapping:
    vis = actor.scope.visibility(Permission.MANAGE_SURVEYS)
    row = conn.execute(_listing().where(INV.c.public_id == public_id, visible(vis, INV.c.unit_id))
                       ).mappings().first()
    if row is None:
        raise NotFound("outreach.invitation_does_not_exist", public_id=public_id,
                       where="invitation")
    return row


def invitation_row(conn: Connection, invitation_id: int) -> RowMapping | None:
    """One invitation with what sending needs (no scope: for the background jobs)."""
    query = (_listing().add_columns(C.c.language.label("customer_language"),
                                    C.c.attributes.label("customer_attributes"),
                                    C.c.opted_out_at.label("customer_opted_out_at"),
                                    C.c.erased_at.label("customer_erased_at"),
                                    t.org_unit.c.name_zh.label("unit_zh"),
                                    t.org_unit.c.name_en.label("unit_en"),
                                    t.org_unit.c.timezone.label("unit_timezone"))
             .where(INV.c.id == invitation_id))
    return conn.execute(query).mappings().first()
