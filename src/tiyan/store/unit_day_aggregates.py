"""Day sums per unit subtree: what the overview's day and ISO-week trends read.

`unit_day_agg` holds, per local day × unit × item code, the sums of the responses of that unit
and of every unit below it, over all surveys, touchpoints and channels (store/subtrees). A trend
by day or week for a user who sees whole subtrees, without a touchpoint, channel or segment
filter, then reads one row per day and item for each top unit of the scope (a year of the whole
company: 365 rows per item) instead of the day rows of every unit, survey, touchpoint and
channel in `score_agg`. The sums are folded by `store/aggregates.fold`, in the transaction that
folds `score_agg`, from the same day select; clearing and rebuilding the aggregates clear and
refill it with the rest.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tiyan.store import aggregates
from tiyan.store import tables as t
from tiyan.store.subtrees import per_subtree_statement

U = t.unit_day_agg


def fold_unit_days(conn: Connection, where: sa.ColumnElement[bool], *,
                   tz: str = aggregates.BUSINESS_TIMEZONE) -> None:
    """Add the responses `where` selects (on table response) to the day sums of their unit and
    of each unit above it."""
    for statement in unit_day_statements(conn.dialect.name, where, tz):
        conn.execute(statement)


def unit_day_statements(dialect: str, where: sa.ColumnElement[bool],
                        tz: str = aggregates.BUSINESS_TIMEZONE, sign: int = 1
                        ) -> list[sa.Executable]:
    """The statements `fold_unit_days` runs."""
    statements = []
    for select in (aggregates._answers_select(dialect, "d", where, tz),
                   aggregates._responses_select(dialect, "d", where, tz)):
        rows = sa.select(*[c.label(name) for c, name in zip(
            select.subquery().c, (*aggregates.KEY, *aggregates.SUMS), strict=True)]
        ).subquery("day_rows")
        statements.append(per_subtree_statement(dialect, U, rows, {name: rows.c[name] for name in (
            "bucket", "item_code", *aggregates.SUMS)}, aggregates.SUMS, sign))
    return statements
