"""Day sums per unit subtree: what the overview's day and ISO-week trends read.

`unit_day_agg` holds, per local day × unit × item code, the sums of the responses of that unit
and of every unit below it, over all surveys, touchpoints and channels. A trend by day or week
for a user who sees whole subtrees, without a touchpoint, channel or segment filter, then reads
one row per day and item for each top unit of the scope (a year of the whole company: 365 rows
per item) instead of the day rows of every unit, survey, touchpoint and channel in `score_agg`.

Units never move in the hierarchy (the org only adds units), so a response's ancestors are fixed
when it is folded. The sums are folded by `store/aggregates.fold`, in the transaction that folds
`score_agg`, from the same day select joined to each unit's ancestors (a recursive CTE over
org_unit); clearing and rebuilding the aggregates clear and refill it with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import aggregates
from tiyan.store import tables as t

U = t.unit_day_agg
KEY = ("unit_id", "bucket", "item_code")


def ancestors() -> sa.CTE:
    """(unit_id, ancestor_id) for every unit and each unit above it, itself included."""
    o = t.org_unit
    up = sa.select(o.c.id.label("unit_id"), o.c.id.label("ancestor_id")).cte(
        "unit_up", recursive=True)
    step = o.alias("unit_step")
    return up.union_all(
        sa.select(up.c.unit_id, step.c.parent_id)
        .select_from(up.join(step, step.c.id == up.c.ancestor_id))
        .where(step.c.parent_id.is_not(None)))


def fold_unit_days(conn: Connection, where: sa.ColumnElement[bool], *,
                   tz: str = aggregates.BUSINESS_TIMEZONE) -> None:
    """Add the responses `where` selects (on table response) to the day sums of their unit and
    of each unit above it."""
    dialect = conn.dialect.name
    for select in (aggregates._answers_select(dialect, "d", where, tz),
                   aggregates._responses_select(dialect, "d", where, tz)):
        rows = select.subquery("day_rows")
        c = dict(zip((*aggregates.KEY, *aggregates.SUMS), rows.c, strict=True))
        up = ancestors()
        query = (sa.select(up.c.ancestor_id, c["bucket"], c["item_code"],
                           *[sa.func.sum(c[name]) for name in aggregates.SUMS])
                 .select_from(rows.join(up, up.c.unit_id == c["unit_id"]))
                 .where(sa.true())  # SQLite: else ON CONFLICT reads as the join's ON
                 .group_by(up.c.ancestor_id, c["bucket"], c["item_code"]))
        insert = aggregates._insert(conn, U).from_select([*KEY, *aggregates.SUMS], query)
        insert = insert.on_conflict_do_update(
            index_elements=list(KEY),
            set_={name: U.c[name] + insert.excluded[name] for name in aggregates.SUMS})
        conn.execute(insert)


def top_units(units: frozenset[int], parent_of: Mapping[int, int | None]
              ) -> list[int] | None:
    """The units of `units` whose parent is not in it, when `units` is exactly the union of
    their subtrees (so their subtree rows add up to `units`); else None."""
    children: dict[int, list[int]] = {}
    for uid, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(uid)
    if any(child not in units for uid in units for child in children.get(uid, ())):
        return None
    return sorted(uid for uid in units if parent_of.get(uid) not in units)
