"""Build an expensive fixture world once per backend and worker, restore it for later tests.

A fixture that submits dozens of responses and runs the background jobs over them costs a second
or more; most of its tests only read what it built. `world_with` runs the build on the
first test that asks for it, keeps every row of every table and the PostgreSQL sequences' values,
and for later tests puts exactly those back into the (just emptied) database and sets the fake
clock where the build left it. Ids, aggregates, pending jobs: all as if built again.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tests.world import World, build_world
from tiyan.context import Context
from tiyan.store import tables as t
from tiyan.store.db import Database


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, list[dict[str, Any]]]
    sequences: list[tuple[str, int | None]]  # PostgreSQL: name, last value (None: never used)


_TAKEN: dict[tuple[str, str, str], tuple[Snapshot, dt.datetime, World]] = {}


def world_with(ctx: Context, add: Callable[[World], object]) -> World:
    """The fixture world with `add(world)` applied: built the first time for this backend, else
    the rows that build left, restored. The database must be empty (the `ctx` fixture empties
    it); the world returned is a copy of the first one, bound to this test's context."""
    key = (add.__module__, add.__qualname__, ctx.db.url)
    if key not in _TAKEN:
        world = build_world(ctx)
        add(world)
        _TAKEN[key] = (take(ctx.db), ctx.now(), bound(world, ctx))
        return world
    snapshot, now, built = _TAKEN[key]
    restore(ctx.db, snapshot)
    ctx.clock.now = now  # type: ignore[attr-defined]
    return bound(built, ctx)


def as_built(world: World) -> None:
    """Nothing added: the fixture world as `build_world` leaves it."""


def bound(world: World, ctx: Context) -> World:
    """A copy of the world that shares nothing a test could change with it, on `ctx`."""
    again = copy.copy(world)
    for name, value in vars(world).items():
        setattr(again, name, ctx if name == "ctx" else copy.deepcopy(value))
    return again


def take(db: Database) -> Snapshot:
    with db.read() as conn:
        rows = {table.name: [dict(row._mapping) for row in conn.execute(
                    table.select().order_by(*table.primary_key.columns))]
                for table in t.metadata.sorted_tables}
        sequences: list[tuple[str, int | None]] = [] if db.is_sqlite else [
            (name, value) for name, value in conn.execute(sa.text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = current_schema()"))]
    return Snapshot(rows, sequences)


def restore(db: Database, snapshot: Snapshot) -> None:
    db.immutable_cache.clear()
    with db.write() as conn:
        for table in t.metadata.sorted_tables:
            if snapshot.rows[table.name]:
                conn.execute(table.insert(), snapshot.rows[table.name])
        for name, value in snapshot.sequences:
            conn.execute(sa.text("SELECT setval(CAST(:name AS regclass), :value, :called)"),
                         {"name": name, "value": value or 1, "called": value is not None})
