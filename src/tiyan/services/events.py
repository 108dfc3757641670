"""Business events from other systems (`POST /api/v1/events`) that trigger invitations.

    {"id": "RO-2026-0001", "type": "repair_order_closed", "at": "2026-11-20T08:00:00Z",
     "unit": "n1", "staff": "n1-e1", "touchpoint": "after_sales/delivery",
     "customer": {"external_id": "C-001", "name": "李雷", "phone": "13800138000",
                  "email": "li@example.com", "language": "zh-CN"},
     "data": {"vin": "LSV..."}}

The event is stored (inbound_event) with what it led to, in one transaction with the customer it
names (found by id, external id, e-mail or phone; created at the event's unit when new) and one
invitation per matching active rule (the rule's unit is the event's unit or above it), to be sent
at `at` + the rule's delay unless the contact rules suppress it. An event with an `id` is taken
once: sending it again returns the first outcome and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.contacts import normalise_email, normalise_phone
from tiyan.errors import Conflict, InvalidInput
from tiyan.security import new_public_id
from tiyan.services.invitations import Audience, Plan, create_invitation
from tiyan.store import customers, outreach
from tiyan.store import tables as t
from tiyan.store.invitation_rules import matching_rules
from tiyan.store.scoped_refs import (
    check_customer_in_reach,
    customer_in_reach,
    lineage,
    require_any,
    staff_in_unit,
    unit_in_reach,
    units_outside,
)


@dataclass(frozen=True)
class EventCustomer:
    id: str | None = None
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class InboundEvent:
    type: str
    unit: str
    customer: EventCustomer
    at: dt.datetime | None = None
    id: str | None = None
    staff: str | None = None
    touchpoint: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventOutcome:
    public_id: str
    created: bool
    customer_id: str
    invitations: list[dict[str, Any]]


def do_receive_event(ctx: Context, actor: Actor, event: InboundEvent) -> EventOutcome:
    """Store one event and create the invitations its rules ask for."""
    for attempt in (1, 2):
        try:
            return _receive(ctx, actor, event)
        except IntegrityError:
            if attempt == 2:  # pragma: no cover - needs two lost races in a row
                raise Conflict("events.event_collided_another_being", where="id") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _receive(ctx: Context, actor: Actor, event: InboundEvent) -> EventOutcome:
    now = ctx.now()
    with ctx.db.write() as conn:
        if event.id is not None:
            stored = _stored_event(conn, event.id)
            if stored is not None:
                return _replay(actor, stored)
        unit_id = unit_in_reach(conn, actor, Permission.MANAGE_SURVEYS, event.unit)
        staff_id = staff_in_unit(conn, unit_id, event.staff) if event.staff else None
        touchpoint_id = outreach.touchpoint_id(conn, event.touchpoint) \
            if event.touchpoint else None
        customer = _find_or_add_customer(conn, actor, event.customer, unit_id, now,
                                         ctx.settings.phone_region)
        at = event.at or now
        invitations = []
        for rule in matching_rules(conn, event.type, lineage(conn, unit_id)):
            audience = Audience(rule["survey_id"], unit_id, customer["id"], staff_id,
                                touchpoint_id, {"event_type": event.type, **event.data})
            plan = Plan(rule["channel"], at + dt.timedelta(minutes=rule["delay_minutes"]),
                        rule["expires_days"], tuple(rule["reminder_days"] or ()),
                        rule["quarantine_days"], rule["id"], rule["sampling_percent"])
            made = create_invitation(conn, ctx, audience, plan, now)
            invitations.append({"id": made.public_id, "rule_id": rule["id"],
                                "survey": rule["survey_code"], "channel": rule["channel"],
                                "status": made.status, "reason": made.reason,
                                "send_at": made.send_at.isoformat()})
        public_id = new_public_id()
        outcome = {"customer_id": customer["public_id"], "invitations": invitations}
        conn.execute(sa.insert(t.inbound_event).values(
            public_id=public_id, event_type=event.type, idempotency_key=event.id,
            payload=_payload(event), unit_id=unit_id, received_at=now, outcome=outcome))
    return EventOutcome(public_id, True, customer["public_id"], invitations)


def _stored_event(conn: Connection, key: str) -> RowMapping | None:
    return conn.execute(sa.select(t.inbound_event)
                        .where(t.inbound_event.c.idempotency_key == key)).mappings().first()


def _replay(actor: Actor, row: RowMapping) -> EventOutcome:
    require_any(actor, Permission.MANAGE_SURVEYS)
    if units_outside(actor, Permission.MANAGE_SURVEYS, [row["unit_id"]]):
        raise Conflict("events.event_id_already_received", where="id")
    outcome = row["outcome"] or {}
    return EventOutcome(row["public_id"], False, str(outcome.get("customer_id", "")),
                        list(outcome.get("invitations", [])))


def _payload(event: InboundEvent) -> dict[str, Any]:
    c = event.customer
    return {"id": event.id, "type": event.type, "unit": event.unit, "staff": event.staff,
            "touchpoint": event.touchpoint, "at": event.at.isoformat() if event.at else None,
            "customer": {k: v for k, v in vars(c).items() if v is not None}, "data": event.data}


def _find_or_add_customer(conn: Connection, actor: Actor, who: EventCustomer, unit_id: int,
                          now: dt.datetime, region: str) -> RowMapping:
    """The customer the event names; new identities (e-mail, phone) are added to them, in
    their normal form (tiyan.domain.contacts), which is also how they are looked up."""
    email = normalise_email(who.email) if who.email else None
    phone = normalise_phone(who.phone, region) if who.phone else None
    if not (who.id or who.external_id or email or phone):
        raise InvalidInput("events.name_customer_id_external",
                           where="customer")
    row = _existing_customer(conn, actor, who, email, phone)
    if row is None:
        identities = {k: v for k, v in (("email", email), ("phone", phone)) if v}
        new_id = customers.insert_customer(conn, unit_id=unit_id, now=now, name=who.name,
                                           external_id=who.external_id, identities=identities)
        if who.language:
            outreach.set_customer_language(conn, new_id, who.language)
        return outreach.customer_row(conn, new_id)
    known = outreach.identities(conn, row["id"])
    for kind, value in (("email", email), ("phone", phone)):
        if value and known.get(kind) != value and \
                outreach.customer_by_identity(conn, kind, value) is None:
            outreach.add_identity(conn, row["id"], kind, value)
    if who.language and not row["language"]:
        outreach.set_customer_language(conn, row["id"], who.language)
    return row


def _existing_customer(conn: Connection, actor: Actor, who: EventCustomer, email: str | None,
                       phone: str | None) -> RowMapping | None:
    """The customer the event names, only ever one of the caller's units (see
    `check_customer_in_reach`: another unit's customer is refused, never merged into)."""
    if who.id:
        return customer_in_reach(conn, actor, Permission.MANAGE_SURVEYS, who.id,
                                 where="customer.id")
    keys = (("external_id", outreach.customer_by_external_id(conn, who.external_id)
             if who.external_id else None),
            ("email", outreach.customer_by_identity(conn, "email", email) if email else None),
            ("phone", outreach.customer_by_identity(conn, "phone", phone) if phone else None))
    found = [(key, row) for key, row in keys if row is not None]
    for key, row in found:
        check_customer_in_reach(actor, Permission.MANAGE_SURVEYS, row, where=f"customer.{key}")
    return found[0][1] if found else None
