"""Response rate on the dashboards: of the invitations sent in the range, the share completed.

An invitation counts in the range its `sent_at` falls in (business time zone days, as the
responses do); it counts as answered when `completed_at` is set, whenever that came (the
respondent pages and the call-centre form set it when they mark it completed). An invitation
sent and then bounced, failed, expired or unsubscribed counts as sent and not answered; one never
sent (queued, suppressed, a phone call, which has no send) is not counted. The figure is
domain/metrics.response_rate: a percent with its Wilson 95% interval, n = invitations sent.

Read from table invitation through its index on (unit_id, sent_at, completed_at), within the
user's scope (frontline users: their own staff rows, store/scoped.visible) and the filters that
describe an invitation: unit (with its subtree), touchpoint (with its sub-touchpoints), channel,
staff member, and the customer's current segment and attributes (as the responses' slices read
them). A slice by a survey answer or a comment aspect describes responses, which an unanswered
invitation does not have: there the rate is not available (`unavailable`), not a wrong number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.analytics.cube import Filters, touchpoint_family, utc_bounds
from tiyan.domain.access import Visibility, subtree
from tiyan.domain.metrics import Estimate, response_rate
from tiyan.store import tables as t
from tiyan.store.aggregates import BUSINESS_TIMEZONE
from tiyan.store.scoped import visible

RESPONSE_RATE = "response_rate"
INV = t.invitation


@dataclass(frozen=True)
class Invited:
    """Invitations sent, and how many of them were completed."""

    sent: int = 0
    completed: int = 0

    def __add__(self, other: Invited) -> Invited:
        return Invited(self.sent + other.sent, self.completed + other.completed)

    def rate(self, min_n: int) -> Estimate:
        return response_rate(self.completed, self.sent, min_n=min_n)


def unavailable(filters: Filters) -> str | None:
    """The filter the response rate cannot follow (answer or aspect), or None."""
    if filters.answer is not None:
        return "answer"
    if filters.aspect is not None:
        return "aspect"
    return None


def invitation_where(conn: Connection, vis: Visibility, parent_of: Mapping[int, int | None],
                     filters: Filters, tz: str = BUSINESS_TIMEZONE) -> sa.ColumnElement[bool]:
    """The invitations sent in the range that the user's scope and the filters select.

    Channel and customer are compared as `channel || ''` and `customer_id + 0`: the same values,
    but SQLite (which has no table statistics here) then cannot pick the index on channel or on
    customer, which would read every invitation of the channel or segment ever sent, over the
    range on (unit, sent_at) of the index that holds every filtered column."""
    low, high = utc_bounds(filters.date_from, filters.date_to, tz)
    customer = INV.c.customer_id + 0
    clauses = [visible(vis, INV.c.unit_id, INV.c.staff_id), INV.c.sent_at >= low,
               INV.c.sent_at < high]
    if filters.unit_id is not None:
        clauses.append(INV.c.unit_id.in_(sorted(subtree(parent_of, filters.unit_id))))
    if filters.touchpoint_id is not None:
        clauses.append(INV.c.touchpoint_id.in_(touchpoint_family(conn, filters.touchpoint_id)))
    if filters.channel:
        clauses.append(INV.c.channel.concat("") == filters.channel)
    if filters.segment is not None:
        clauses.append(customer.in_(
            sa.select(t.customer.c.id).where(t.customer.c.segment == filters.segment)))
    if filters.staff_id is not None:
        clauses.append(INV.c.staff_id == filters.staff_id)
    if filters.attr is not None:  # compared as text, as cube.raw_where does
        key, value = filters.attr
        clauses.append(customer.in_(sa.select(t.customer.c.id).where(
            sa.cast(t.customer.c.attributes[key].as_string(), sa.Text) == value)))
    return sa.and_(*clauses)


def invited_by_unit(conn: Connection, vis: Visibility, parent_of: Mapping[int, int | None],
                    filters: Filters) -> dict[int, Invited]:
    """Invitations sent and completed per unit (the unit the invitation is for)."""
    query = (sa.select(INV.c.unit_id, sa.func.count(), sa.func.count(INV.c.completed_at))
             .where(invitation_where(conn, vis, parent_of, filters))
             .group_by(INV.c.unit_id))
    return {int(row[0]): Invited(int(row[1]), int(row[2])) for row in conn.execute(query)}


def invited(conn: Connection, vis: Visibility, parent_of: Mapping[int, int | None],
            filters: Filters) -> Invited:
    """Invitations sent and completed, all units of the scope and filters together."""
    query = (sa.select(sa.func.count(), sa.func.count(INV.c.completed_at))
             .where(invitation_where(conn, vis, parent_of, filters)))
    row = conn.execute(query).one()
    return Invited(int(row[0]), int(row[1]))


def by_group(values: Mapping[int, Invited], group_of: Mapping[object, object]
             ) -> dict[object, Invited]:
    """Per-unit counts added up per group (units not in `group_of` are left out)."""
    out: dict[object, Invited] = {}
    for unit, value in values.items():
        group = group_of.get(unit)
        if group is not None:
            out[group] = out.get(group, Invited()) + value
    return out


@dataclass(frozen=True)
class GroupRates:
    """The league's counts per group (this and the previous period) and over all its units."""

    now: Mapping[object, Invited]
    then: Mapping[object, Invited]
    total: Invited

    def estimates(self, group: object, min_n: int) -> tuple[Estimate, Estimate]:
        """(this period, the previous period) of one group."""
        return (self.now.get(group, Invited()).rate(min_n),
                self.then.get(group, Invited()).rate(min_n))


def group_rates(conn: Connection, vis: Visibility, parent_of: Mapping[int, int | None],
                filters: Filters, group_of: Mapping[object, object]) -> GroupRates:
    now = invited_by_unit(conn, vis, parent_of, filters)
    then = invited_by_unit(conn, vis, parent_of, filters.previous())
    return GroupRates(by_group(now, group_of), by_group(then, group_of),
                      sum(now.values(), Invited()))
