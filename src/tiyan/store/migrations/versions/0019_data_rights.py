"""data rights: contacts in one normal form; responses whose personal data was removed

Phone numbers already stored as customer identities and invitation contacts are rewritten in
E.164 (read with the region of TIYAN_PHONE_REGION, default CN, as tiyan.domain.contacts does);
e-mail addresses are trimmed and lower-cased. Values that do not read as a phone number or an
address are left as they are. The rewrite runs in batches of 1,000 rows by id and skips values
already in normal form, so running it again changes nothing.

Two identity rows that become the same value: the customer that already held the normal form
keeps it, else the lower identity id (the older row); the other row is removed. When they belong
to two customers, those stay two customers (they may be in different units, with their own
responses), the one that lost the identity gets an audit entry `customer.contact_deduplicated`
naming the other by public id (no personal data), and if either had opted out both are opted
out from the earlier moment, so that writing a number another way never reopens a channel.

`response.redacted_at` and `response.comments_removed_at` mark a response whose personal data
(customer snapshot, imported extra columns) and whose comments were removed: erasure of its
customer, or retention (services/retention.py); retention reads them to do each response once.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import phonenumbers
import sqlalchemy as sa
from alembic import op

import tiyan.store.types

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BATCH = 1000
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
identity = sa.table("customer_identity", sa.column("id", sa.Integer),
                    sa.column("customer_id", sa.Integer), sa.column("kind", sa.String),
                    sa.column("value", sa.String))
invitation = sa.table("invitation", sa.column("id", sa.Integer), sa.column("channel", sa.String),
                      sa.column("contact", sa.String))
customer = sa.table("customer", sa.column("id", sa.Integer), sa.column("public_id", sa.String),
                    sa.column("unit_id", sa.Integer),
                    sa.column("opted_out_at", tiyan.store.types.UtcDateTime))
audit = sa.table("audit_log", sa.column("at", tiyan.store.types.UtcDateTime),
                 sa.column("action", sa.String), sa.column("entity", sa.String),
                 sa.column("entity_id", sa.String), sa.column("unit_id", sa.Integer),
                 sa.column("detail", tiyan.store.types.Json))


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        for name in ('redacted_at', 'comments_removed_at'):
            batch_op.add_column(sa.Column(name, tiyan.store.types.UtcDateTime(timezone=True),
                                          nullable=True))
    conn = op.get_bind()
    region = os.environ.get("TIYAN_PHONE_REGION", "CN").strip().upper() or "CN"
    _normalise_identities(conn, region)
    _normalise_contacts(conn, region)


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('comments_removed_at')
        batch_op.drop_column('redacted_at')


def _normal(kind: str, value: str, region: str) -> str:
    text = value.strip()
    if kind == "email":
        return text.lower() if EMAIL.match(text.lower()) else text
    if kind not in ("phone", "mobile", "sms"):
        return text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _batches(conn: sa.Connection, query: sa.Select[Any], id_col: sa.ColumnElement[int]
             ) -> Any:
    after = 0
    while True:
        rows = conn.execute(query.where(id_col > after).order_by(id_col).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _normalise_identities(conn: sa.Connection, region: str) -> None:
    for rows in _batches(conn, sa.select(identity), identity.c.id):
        for row in rows:
            value = _normal(row.kind, row.value, region)
            if value != row.value:
                _move_identity(conn, row, value)


def _move_identity(conn: sa.Connection, row: Any, value: str) -> None:
    holder = conn.execute(sa.select(identity.c.customer_id).where(
        identity.c.kind == row.kind, identity.c.value == value, identity.c.id != row.id)).first()
    if holder is None:
        conn.execute(sa.update(identity).where(identity.c.id == row.id).values(value=value))
        return
    conn.execute(sa.delete(identity).where(identity.c.id == row.id))
    if holder.customer_id != row.customer_id:
        _two_customers_one_contact(conn, row.customer_id, holder.customer_id, row.kind)


def _two_customers_one_contact(conn: sa.Connection, lost: int, kept: int, kind: str) -> None:
    people = {r.id: r for r in conn.execute(sa.select(customer).where(
        customer.c.id.in_([lost, kept])))}
    out = [r.opted_out_at for r in people.values() if r.opted_out_at is not None]
    if out:
        conn.execute(sa.update(customer).where(customer.c.id.in_([lost, kept]),
                                               customer.c.opted_out_at.is_(None))
                     .values(opted_out_at=min(out)))
    conn.execute(sa.insert(audit).values(
        at=dt.datetime.now(dt.UTC), action="customer.contact_deduplicated", entity="customer",
        entity_id=people[lost].public_id, unit_id=people[lost].unit_id,
        detail={"kind": kind, "kept_by": people[kept].public_id, "migration": "0019",
                "opted_out": bool(out)}))


def _normalise_contacts(conn: sa.Connection, region: str) -> None:
    query = sa.select(invitation).where(invitation.c.contact.is_not(None))
    for rows in _batches(conn, query, invitation.c.id):
        for row in rows:
            value = _normal(row.channel, row.contact, region)
            if value != row.contact:
                conn.execute(sa.update(invitation).where(invitation.c.id == row.id)
                             .values(contact=value))
