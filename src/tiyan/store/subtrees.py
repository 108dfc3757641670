"""Sums kept per unit subtree: each row counts a unit together with every unit below it.

A page for a user who sees whole subtrees can then read one row per bucket for each top unit of
the scope instead of the rows of every unit below it. Units never move in the hierarchy (the org
only adds units), so a row's ancestors are fixed when it is folded. `per_subtree_statement` adds
the rows of a select (one per unit) to a subtree table: each row once for its unit and once for each
unit above it, joined to the units' ancestors (a recursive CTE over org_unit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from tiyan.store import tables as t


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


def per_subtree_statement(dialect: str, table: sa.Table, rows: sa.Subquery,
                          columns: Mapping[str, sa.ColumnElement], sums: Sequence[str],
                          sign: int = 1) -> sa.Executable:
    """The statement that adds `rows` (with a `unit_id` column) to `table` (keyed by unit_id and
    the other keys of `columns`, which maps the table's columns to those of `rows`) for each
    unit's subtree."""
    from tiyan.store.aggregates import add_into

    up = ancestors()
    keys = [name for name in columns if name not in sums]
    query = (sa.select(up.c.ancestor_id, *[columns[name] for name in keys],
                       *[sa.func.sum(columns[name]) for name in sums])
             .select_from(rows.join(up, up.c.unit_id == rows.c.unit_id))
             .where(sa.true())  # SQLite: else ON CONFLICT reads as the join's ON
             .group_by(up.c.ancestor_id, *[columns[name] for name in keys]))
    return add_into(dialect, table, ["unit_id", *keys, *sums], query, ["unit_id", *keys], sums,
                    sign)


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
