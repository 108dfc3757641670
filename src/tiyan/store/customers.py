"""Customers (contacts), their identities and transactions, read within the actor's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.contacts import (
    DEFAULT_REGION,
    PHONE_KINDS,
    contact_of,
    lookup_forms,
    national_digits,
    normalise_identity,
)
from tiyan.domain.customer_value import SEGMENT_NAMES
from tiyan.domain.privacy import mask_attributes, mask_value
from tiyan.errors import InvalidInput, NotFound
from tiyan.security import new_public_id
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import visible

C = t.customer


def insert_customer(
    conn: Connection, *, unit_id: int, now: dt.datetime, name: str | None = None,
    external_id: str | None = None, segment: str | None = None,
    attributes: Mapping[str, Any] | None = None, identities: Mapping[str, str] | None = None,
    consent_sms: bool = False, consent_email: bool = False, region: str = DEFAULT_REGION,
) -> int:
    """A new customer; identity values are stored in their normal form (phones in E.164 for
    `region`, e-mails lower-cased: tiyan.domain.contacts)."""
    customer_id = inserted_id(conn.execute(sa.insert(C).values(
        public_id=new_public_id(), unit_id=unit_id, external_id=external_id, name=name,
        segment=segment, attributes=dict(attributes or {}), consent_sms=consent_sms,
        consent_email=consent_email, created_at=now,
    )))
    if identities:
        conn.execute(sa.insert(t.customer_identity), [
            {"customer_id": customer_id, "kind": kind,
             "value": normalise_identity(kind, value, region)}
            for kind, value in identities.items()
        ])
    return customer_id


def insert_transaction(conn: Connection, *, customer_id: int, unit_id: int, kind: str,
                       amount: Decimal, occurred_at: dt.datetime,
                       external_id: str | None = None) -> None:
    conn.execute(sa.insert(t.customer_transaction).values(
        customer_id=customer_id, unit_id=unit_id, kind=kind, amount=amount,
        occurred_at=occurred_at, external_id=external_id, attributes={}))


def list_customers(conn: Connection, actor: Actor, *, after_id: int | None = None,
                   limit: int = 50, segment: str | None = None, contact: str | None = None,
                   region: str = DEFAULT_REGION, q: str | None = None) -> list[dict[str, Any]]:
    vis = actor.scope.visibility(Permission.VIEW_CUSTOMERS)
    query = sa.select(C).where(visible(vis, C.c.unit_id), C.c.erased_at.is_(None))
    if segment is not None:
        query = query.where(C.c.segment == segment)
    if contact:
        query = query.where(C.c.id.in_(_holding(actor, contact, region)))
    if q and q.strip():
        query = query.where(search_clause(actor, q, region))
    if after_id is not None:
        query = query.where(C.c.id < after_id)
    rows = conn.execute(query.order_by(C.c.id.desc()).limit(limit)).mappings()
    return [{**present_customer(actor, row), "cursor_id": row["id"]} for row in rows]


def _holding(actor: Actor, contact: str, region: str) -> sa.Select[tuple[int]]:
    """Ids of the customers with this phone (however written) or e-mail; searching by a
    contact needs view_pii, as seeing one does."""
    actor.require(Permission.VIEW_PII)
    found = contact_of(contact, region)
    if found is None:
        raise InvalidInput("customers.neither_phone_number_nor", contact=contact[:60],
                           where="contact")
    CI = t.customer_identity
    return sa.select(CI.c.customer_id).where(CI.c.kind == found[0], CI.c.value == found[1])


SEARCH_MAX = 200


def search_clause(actor: Actor, text: str,
                  region: str = DEFAULT_REGION) -> sa.ColumnElement[bool]:
    """Customers found by one search box: their external id or member number as written,
    their phone however written (13812345678, 138 1234 5678, +86 138-1234-5678) or e-mail
    (tiyan.domain.contacts.lookup_forms), or a name starting with the text. Each of these is
    an indexed lookup except the name prefix. Names, phones and e-mails are searched only in
    the units where the actor may see personal data (who cannot see a phone cannot find a
    person by it); external ids everywhere the actor sees customers."""
    text = text.strip()[:SEARCH_MAX]
    forms = lookup_forms(text, region)
    CI = t.customer_identity
    found: list[sa.Select[Any]] = [sa.select(C.c.id).where(C.c.external_id.in_(forms))]
    pii = actor.scope.visibility(Permission.VIEW_PII)
    if not pii.is_empty:
        contact = contact_of(text, region)
        identity = sa.select(CI.c.customer_id).join(C, C.c.id == CI.c.customer_id)
        if contact is not None:  # the (kind, value) unique index; no name is a phone
            kinds = sorted(PHONE_KINDS) if contact[0] == "phone" else [contact[0]]
            values = {contact[1], *forms}
            if contact[0] == "phone":  # also as stored before normalisation (national digits)
                values.add(national_digits(contact[1]))
            found.append(identity.where(CI.c.kind.in_(kinds), CI.c.value.in_(sorted(values)),
                                        visible(pii, C.c.unit_id)))
        else:  # a member number or another identity as written, or a name's beginning
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found.append(identity.where(CI.c.value.in_(forms), visible(pii, C.c.unit_id)))
            found.append(sa.select(C.c.id).where(C.c.name.like(f"{escaped}%", escape="\\"),
                                                 visible(pii, C.c.unit_id)))
    return C.c.id.in_(sa.union(*found))


def segments_in_use(conn: Connection) -> list[str]:
    """Every segment some customer is in (installation-wide, sorted)."""
    return sorted(str(s) for s in conn.execute(
        sa.select(C.c.segment).where(C.c.segment.is_not(None)).distinct()).scalars())


def check_segment(conn: Connection, segment: str | None, where: str = "segment") -> str | None:
    """``segment`` when it names a known segment (RFM, built-in or one some customer is in);
    an error naming the parameter and the choices otherwise."""
    if segment is None or segment == "":
        return None
    known = set(segments_in_use(conn)) | set(SEGMENT_NAMES)
    if segment not in known:
        raise InvalidInput("customers.not_segment", segment=segment,
                           segments=", ".join(sorted(known)), where=where)
    return segment


def get_customer(conn: Connection, actor: Actor, public_id: str) -> dict[str, Any]:
    vis = actor.scope.visibility(Permission.VIEW_CUSTOMERS)
    row = conn.execute(
        sa.select(C).where(C.c.public_id == public_id, visible(vis, C.c.unit_id))
    ).mappings().first()
    if row is None:
        raise NotFound("common.customer_does_not_exist", public_id=public_id,
                       where="customer")
    customer = present_customer(actor, row)
    customer["identities"] = _identities(conn, actor, row["id"])
    return customer


def present_customer(actor: Actor, row: RowMapping) -> dict[str, Any]:
    """The customer as this actor may see it: personal data masked without VIEW_PII."""
    can_see = actor.can(Permission.VIEW_PII)
    name = row["name"] or ""
    return {
        "id": row["public_id"], "unit_id": row["unit_id"], "segment": row["segment"],
        "name": name if can_see else mask_value("name", name),
        "external_id": row["external_id"],
        "attributes": dict(row["attributes"]) if can_see else mask_attributes(row["attributes"]),
        "opted_out": row["opted_out_at"] is not None, "erased_at": row["erased_at"],
    }


def _identities(conn: Connection, actor: Actor, customer_id: int) -> list[dict[str, str]]:
    can_see = actor.can(Permission.VIEW_PII)
    rows = conn.execute(
        sa.select(t.customer_identity.c.kind, t.customer_identity.c.value)
        .where(t.customer_identity.c.customer_id == customer_id)
    )
    return [{"kind": r.kind, "value": r.value if can_see else mask_value(r.kind, r.value)}
            for r in rows]
