"""Phone invitations: the agents' worklist, one call with its customer, and its attempts.

Every read is scoped by the ENTER_RESPONSES visibility of the agent (`visible()`), so an agent
only ever sees the calls of their own unit subtree. A phone invitation is due from
`next_call_at`; one created without it (e.g. by an event rule) is due from its `send_at`, else
from its creation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.calls import CLOSED_STATUSES, UNREACHED
from tiyan.errors import NotFound
from tiyan.store import tables as t
from tiyan.store.invitations import FINAL_STATUSES
from tiyan.store.scoped import visible
from tiyan.store.scoped_refs import Reach, visible_in_reach

I = t.invitation  # noqa: E741 - the invitation table, as in SQL
PERMISSION = Permission.ENTER_RESPONSES
CLOSED = sorted(CLOSED_STATUSES | FINAL_STATUSES)

def due_at() -> sa.ColumnElement[Any]:
    """When a phone invitation falls due (see the module docstring)."""
    return sa.func.coalesce(I.c.next_call_at, I.c.send_at, I.c.created_at)

_ATTEMPTS = (sa.select(sa.func.count()).where(t.call_attempt.c.invitation_id == I.c.id)
             .correlate(I).scalar_subquery())
_LAST_ATTEMPT = (sa.select(sa.func.max(t.call_attempt.c.at))
                 .where(t.call_attempt.c.invitation_id == I.c.id)
                 .correlate(I).scalar_subquery())
_PHONE_IDENTITY = (sa.select(t.customer_identity.c.value)
                   .where(t.customer_identity.c.customer_id == I.c.customer_id,
                          t.customer_identity.c.kind.in_(("phone", "mobile")))
                   .order_by(t.customer_identity.c.id).limit(1)
                   .correlate(I).scalar_subquery())


def _call_query() -> sa.Select[Any]:
    return (
        sa.select(I, due_at().label("due_at"), _ATTEMPTS.label("attempt_count"),
                  _LAST_ATTEMPT.label("last_attempt_at"),
                  _PHONE_IDENTITY.label("phone_identity"),
                  t.customer.c.public_id.label("customer_public_id"),
                  t.customer.c.name.label("customer_name"),
                  t.customer.c.attributes.label("customer_attributes"),
                  t.customer.c.language.label("customer_language"),
                  t.customer.c.opted_out_at.label("customer_opted_out_at"),
                  t.customer.c.erased_at.label("customer_erased_at"),
                  t.survey.c.code.label("survey_code"), t.survey.c.name.label("survey_name"),
                  t.survey.c.status.label("survey_status"),
                  t.org_unit.c.code.label("unit_code"), t.org_unit.c.name_zh.label("unit_name_zh"),
                  t.org_unit.c.name_en.label("unit_name_en"),
                  t.org_unit.c.timezone.label("unit_timezone"),
                  t.staff.c.code.label("staff_code"), t.staff.c.name.label("staff_name"))
        .join(t.survey, t.survey.c.id == I.c.survey_id)
        .join(t.org_unit, t.org_unit.c.id == I.c.unit_id)
        .outerjoin(t.customer, t.customer.c.id == I.c.customer_id)
        .outerjoin(t.staff, t.staff.c.id == I.c.staff_id)
        .where(I.c.channel == "phone")
    )


def worklist(conn: Connection, actor: Actor, now: dt.datetime, *,
             limit: int = 200) -> list[RowMapping]:
    """The calls due now in the agent's units, longest waiting first (see `domain.calls.is_due`)."""
    vis = actor.scope.visibility(PERMISSION)
    query = (_call_query().where(
        visible(vis, I.c.unit_id), I.c.status.not_in(CLOSED),
        due_at() <= now, I.c.expires_at > now, t.survey.c.status == "active",
        t.customer.c.opted_out_at.is_(None), t.customer.c.erased_at.is_(None),
    ).order_by(due_at(), I.c.id).limit(limit))
    return list(conn.execute(query).mappings())


def upcoming_count(conn: Connection, actor: Actor, now: dt.datetime) -> int:
    """Open phone calls in the agent's units that fall due later (call-backs, retries)."""
    vis = actor.scope.visibility(PERMISSION)
    query = (sa.select(sa.func.count()).select_from(I)
             .join(t.survey, t.survey.c.id == I.c.survey_id)
             .outerjoin(t.customer, t.customer.c.id == I.c.customer_id)
             .where(I.c.channel == "phone", visible(vis, I.c.unit_id),
                    I.c.status.not_in(CLOSED), due_at() > now,
                    I.c.expires_at > now, t.survey.c.status == "active",
                    t.customer.c.opted_out_at.is_(None), t.customer.c.erased_at.is_(None)))
    return int(conn.execute(query).scalar_one())


def get_call(conn: Connection, actor: Actor, public_id: str, *, for_update: bool = False,
             reach: Reach = PERMISSION) -> RowMapping:
    """One phone invitation in the agent's units (locked for the transaction when writing);
    `reach`: the permissions that let one see it (who planned it, for the planner's answer)."""
    query = _call_query().where(I.c.public_id == public_id,
                                visible_in_reach(actor, reach, I.c.unit_id))
    if for_update:
        query = query.with_for_update(of=I)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound("calls.no_phone_call_your", public_id=public_id, where="call")
    return row


def attempts_of(conn: Connection, invitation_id: int) -> list[RowMapping]:
    query = (sa.select(t.call_attempt, t.app_user.c.name.label("agent_name"),
                       t.response.c.public_id.label("response_public_id"))
             .outerjoin(t.app_user, t.app_user.c.id == t.call_attempt.c.agent_user_id)
             .outerjoin(t.response, t.response.c.id == t.call_attempt.c.response_id)
             .where(t.call_attempt.c.invitation_id == invitation_id)
             .order_by(t.call_attempt.c.at, t.call_attempt.c.id))
    return list(conn.execute(query).mappings())


def unreached_count(conn: Connection, invitation_id: int) -> int:
    query = sa.select(sa.func.count()).where(
        t.call_attempt.c.invitation_id == invitation_id,
        t.call_attempt.c.outcome.in_(sorted(str(o) for o in UNREACHED)))
    return int(conn.execute(query).scalar_one())


def insert_attempt(conn: Connection, *, invitation_id: int, agent_user_id: int, at: dt.datetime,
                   outcome: str, callback_at: dt.datetime | None, note: str | None,
                   response_id: int | None = None) -> None:
    conn.execute(sa.insert(t.call_attempt).values(
        invitation_id=invitation_id, agent_user_id=agent_user_id, at=at, outcome=outcome,
        callback_at=callback_at, note=note, response_id=response_id))


def update_call(conn: Connection, invitation_id: int, **values: Any) -> None:
    conn.execute(sa.update(I).where(I.c.id == invitation_id)
                 .values(attempts=I.c.attempts + 1, **values))


def phone_number(call: RowMapping) -> str | None:
    """The number to dial: the invitation's contact, else the customer's phone identity or
    attribute."""
    attributes = call["customer_attributes"] or {}
    for value in (call["contact"], call["phone_identity"], attributes.get("phone"),
                  attributes.get("mobile")):
        if value:
            return str(value)
    return None


def unit_chain(conn: Connection, unit_id: int) -> list[int]:
    """The unit and its ancestors, nearest first (for the business calendar)."""
    from tiyan.store.scoped import parent_map

    parents = parent_map(conn)
    chain, node = [], unit_id
    while node is not None and node not in chain:
        chain.append(node)
        node = parents.get(node)  # type: ignore[assignment]
    return chain
