"""The demo's phone surveys: after-sales follow-up calls planned for the call-centre agent, so
/calls is not empty — callbacks due today to customers whose car was serviced in the last days
at a dealer's after-sales department, and a few due later (tomorrow's list)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tiyan.context import Context
from tiyan.services.calls import do_schedule_call
from tiyan.store import tables as t
from tiyan.store import users
from tiyan.store.scoped import load_actor

AGENT = "agent@demo.tiyan.dev"
SURVEY = "after-sales"
DUE_NOW = 12
DUE_LATER = 4
RECENT_DAYS = 7


def plan_demo_calls(ctx: Context) -> int:
    """Plan the demo's after-sales follow-up calls; returns how many."""
    now = ctx.now()
    with ctx.db.read() as conn:
        row = users.user_by_email(conn, AGENT)
        if row is None:
            return 0
        agent = load_actor(conn, int(row["id"]))
        picked = _recently_serviced(conn, now, DUE_NOW + DUE_LATER)
    planned = 0
    for index, (customer_id, unit_code) in enumerate(picked):
        if index < DUE_NOW:  # due since this morning, the longest waiting first on the list
            due = now - dt.timedelta(minutes=20 * (DUE_NOW - index))
        else:
            due = now + dt.timedelta(days=1, hours=index - DUE_NOW)
        do_schedule_call(ctx, agent, survey_code=SURVEY, customer_id=customer_id,
                         unit_code=unit_code, due_at=due,
                         data={"reason": "after-sales follow-up"})
        planned += 1
    return planned


def _recently_serviced(conn: sa.Connection, now: dt.datetime, count: int
                       ) -> list[tuple[str, str]]:
    """(customer public id, after-sales department code) of the latest repairs at a dealer of
    customers with a phone number who did not opt out, one per customer, newest first."""
    C, T, U, ID = t.customer, t.customer_transaction, t.org_unit, t.customer_identity
    rows = conn.execute(
        sa.select(C.c.public_id, U.c.code, T.c.occurred_at)
        .join(T, T.c.customer_id == C.c.id).join(U, U.c.id == T.c.unit_id)
        .where(T.c.kind == "repair", T.c.occurred_at > now - dt.timedelta(days=RECENT_DAYS),
               T.c.occurred_at <= now, C.c.opted_out_at.is_(None), C.c.erased_at.is_(None),
               sa.exists().where(ID.c.customer_id == C.c.id, ID.c.kind == "phone"))
        .order_by(T.c.occurred_at.desc(), C.c.id)).all()
    seen: set[str] = set()
    picked = []
    for public_id, unit_code, _ in rows:
        if public_id not in seen:
            seen.add(public_id)
            picked.append((str(public_id), f"{unit_code}-as"))  # the dealer's after-sales
        if len(picked) == count:
            break
    return picked
