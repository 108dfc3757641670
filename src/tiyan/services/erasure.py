"""The right to erasure (PIPL art. 47, GDPR art. 17): remove one customer from tiyan.

    DELETE /api/v1/customers/{id}      tiyan customers erase ID      the button on customer 360

One transaction removes the person everywhere (store/erasure.py: personal fields, identities,
comments and their text analyses, invitation contacts, event payloads, call, callback and case
notes, case attachments) and keeps the anonymous scores, so NPS and CSAT do not move; the text
and driver-aspect aggregates lose the removed analyses in the same transaction. An audit entry
`customer.erase` says who erased which customer (by opaque public id) and how many rows of each
kind changed; it holds no personal data. Erasing an erased customer changes nothing and says so.

Who may: a role with ERASE_CUSTOMERS (administrators, CX managers) at the customer's unit; a
customer outside the actor's customer scope does not exist for them (404). The CLI acts as the
operator of the installation (no actor).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.errors import NotFound
from tiyan.store import audit, erasure
from tiyan.store import tables as t
from tiyan.store.scoped import visible


@dataclass(frozen=True)
class ErasureResult:
    customer_id: str
    erased_at: dt.datetime
    changed: bool  # False: the customer had been erased before; nothing was done
    counts: dict[str, int]

    @property
    def message(self) -> str:
        if not self.changed:
            return (f"customer {self.customer_id} was already erased on "
                    f"{self.erased_at:%Y-%m-%d %H:%M} UTC; nothing changed")
        return (f"customer {self.customer_id} erased: {self.counts['responses']} responses "
                f"kept anonymous, {self.counts['comments']} comments removed")


def do_erase_customer(ctx: Context, actor: Actor | None, public_id: str, *,
                      ip: str | None = None, via: str = "api") -> ErasureResult:
    """Erase one customer (see the module doc); a second time changes nothing. `via`: "api"
    or "page", recorded in the audit entry (the CLI, without an actor, is "cli")."""
    now = ctx.now()
    with ctx.db.write() as conn:
        customer = _access_customer(conn, actor, public_id[:64])
        if customer["erased_at"] is not None:
            return ErasureResult(customer["public_id"], customer["erased_at"], False, {})
        done = erasure.erase_customer(conn, customer, now, ctx.db.immutable_cache)
        audit.record(conn, at=now, user_id=actor.user_id if actor else None,
                     action="customer.erase", entity="customer",
                     entity_id=customer["public_id"], unit_id=customer["unit_id"],
                     detail={"source": via if actor else "cli", **done.to_json()}, ip=ip)
    _remove_files(ctx, done.attachments)
    return ErasureResult(customer["public_id"], now, True, done.to_json())


def _access_customer(conn: Connection, actor: Actor | None, public_id: str) -> RowMapping:
    """The customer, when the actor may see them (404 otherwise) and erase them (403)."""
    query = sa.select(t.customer).where(t.customer.c.public_id == public_id)
    if actor is not None:
        vis = actor.scope.visibility(Permission.VIEW_CUSTOMERS)
        query = query.where(visible(vis, t.customer.c.unit_id))
    row = conn.execute(query.with_for_update() if conn.dialect.name == "postgresql" else query
                       ).mappings().first()
    if row is None:
        raise NotFound("common.customer_does_not_exist", public_id=public_id,
                       where="customer")
    if actor is not None:
        actor.require(Permission.ERASE_CUSTOMERS, row["unit_id"])
    return row


def can_erase(actor: Actor, unit_id: int) -> bool:
    """Whether the customer 360 page offers this actor the erase button."""
    return actor.scope.visibility(Permission.ERASE_CUSTOMERS).covers_unit(unit_id)


def _remove_files(ctx: Context, attachments: list[str]) -> None:
    """Case attachments of the erased customer (`case/file`), from the object store."""
    from tiyan.services.cases import attachment_key
    from tiyan.services.storage import object_store

    objects = object_store(ctx)
    for name in attachments:
        case, _, file_id = name.partition("/")
        if case and file_id and "/" not in file_id:
            objects.delete(attachment_key(case, file_id))
