"""Journeys, their touchpoints in order, and the surveys listening at each touchpoint.

Journeys are organisation-wide (they have no owning unit); listeners point at surveys, and a
reader sees only the listeners of surveys in their scope (`store.surveys.visible_surveys`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor
from tiyan.domain.journeys import Use
from tiyan.errors import NotFound
from tiyan.store import tables as t
from tiyan.store.surveys import visible_surveys

J, TP, L = t.journey, t.touchpoint, t.touchpoint_listener


def list_journeys(conn: Connection) -> list[RowMapping]:
    counts = (sa.select(TP.c.journey_id, sa.func.count().label("touchpoints"))
              .where(TP.c.parent_id.is_(None)).group_by(TP.c.journey_id).subquery())
    query = (sa.select(J, sa.func.coalesce(counts.c.touchpoints, 0).label("touchpoints"))
             .outerjoin(counts, counts.c.journey_id == J.c.id).order_by(J.c.id))
    return list(conn.execute(query).mappings())


def journey_by_code(conn: Connection, code: str) -> RowMapping:
    row = conn.execute(sa.select(J).where(J.c.code == code)).mappings().first()
    if row is None:
        raise NotFound("journeys.no_journey", code=code, where="journey")
    return row


def update_journey(conn: Connection, journey_id: int, **values: Any) -> None:
    conn.execute(sa.update(J).where(J.c.id == journey_id).values(**values))


def delete_journey(conn: Connection, journey_id: int) -> None:
    conn.execute(sa.delete(TP).where(TP.c.journey_id == journey_id, TP.c.parent_id.is_not(None)))
    conn.execute(sa.delete(TP).where(TP.c.journey_id == journey_id))
    conn.execute(sa.delete(J).where(J.c.id == journey_id))


def touchpoints(conn: Connection, journey_id: int) -> list[RowMapping]:
    """All touchpoints of a journey: top-level ones by position, then sub-touchpoints."""
    query = (sa.select(TP).where(TP.c.journey_id == journey_id)
             .order_by(TP.c.parent_id.is_not(None), TP.c.parent_id, TP.c.position, TP.c.id))
    return list(conn.execute(query).mappings())


def touchpoint_by_code(conn: Connection, journey_id: int, code: str) -> RowMapping:
    row = conn.execute(sa.select(TP).where(TP.c.journey_id == journey_id, TP.c.code == code)
                       ).mappings().first()
    if row is None:
        raise NotFound("journeys.journey_no_touchpoint", code=code, where="touchpoint")
    return row


def sibling_codes(conn: Connection, journey_id: int, parent_id: int | None) -> list[str]:
    parent = TP.c.parent_id.is_(None) if parent_id is None else TP.c.parent_id == parent_id
    query = (sa.select(TP.c.code).where(TP.c.journey_id == journey_id, parent)
             .order_by(TP.c.position, TP.c.id))
    return list(conn.execute(query).scalars())


def renumber(conn: Connection, journey_id: int, order: Sequence[str]) -> None:
    """Give touchpoints (siblings) the positions 1, 2, … in `order`."""
    for position, code in enumerate(order, start=1):
        conn.execute(sa.update(TP).where(TP.c.journey_id == journey_id, TP.c.code == code)
                     .values(position=position))


def update_touchpoint(conn: Connection, touchpoint_id: int, **values: Any) -> None:
    conn.execute(sa.update(TP).where(TP.c.id == touchpoint_id).values(**values))


def delete_touchpoint(conn: Connection, touchpoint_id: int) -> None:
    conn.execute(sa.delete(TP).where(TP.c.id == touchpoint_id))


def touchpoint_use(conn: Connection, touchpoint_ids: Sequence[int],
                   units: Collection[int] | None = None, *, count_children: bool = True) -> Use:
    """How many rows anywhere in the schema still refer to these touchpoints: by table for the
    rows of `units` (None: every unit) and sub-touchpoints; other units' rows only as a number
    that no message shows (which tables, how many or whether there are any is theirs)."""
    ids, counts, hidden = list(touchpoint_ids), dict[str, int](), 0
    for table, column in _references(count_children):
        label = "sub-touchpoints" if table is TP else table.name
        for unit_id, n in conn.execute(_use_by_unit(table, column, ids)):
            if units is None or table is TP or unit_id in units:
                counts[label] = counts.get(label, 0) + int(n)
            else:
                hidden += int(n)
    return Use(counts, hidden)


def units_using(conn: Connection, touchpoint_ids: Sequence[int]) -> set[int]:
    """The units whose rows (surveys, invitations, responses, listeners' surveys, …) refer to
    these touchpoints: whom a change to them reaches."""
    ids, found = list(touchpoint_ids), set[int]()
    for table, column in _references(count_children=False):
        found |= {u for u, _ in conn.execute(_use_by_unit(table, column, ids)) if u is not None}
    return found


def _references(count_children: bool) -> Iterator[tuple[sa.Table, sa.Column[Any]]]:
    """Every column of the schema that refers to a touchpoint (sub-touchpoints' parent too)."""
    for table in t.metadata.sorted_tables:
        if table is TP and not count_children:
            continue
        for column in table.columns:
            if any(fk.column is TP.c.id for fk in column.foreign_keys):
                yield table, column


def _use_by_unit(table: sa.Table, column: sa.Column[Any], ids: list[int]) -> sa.Select[Any, int]:
    """Rows of `table` whose `column` is one of `ids`, counted by the unit they belong to (their
    own unit_id, else their survey's; None for rows of no unit)."""
    count = sa.func.count()
    if "unit_id" in table.c:
        return sa.select(table.c.unit_id, count).where(column.in_(ids)).group_by(table.c.unit_id)
    if "survey_id" in table.c:
        return (sa.select(t.survey.c.unit_id, count)
                .select_from(table.join(t.survey, t.survey.c.id == table.c.survey_id))
                .where(column.in_(ids)).group_by(t.survey.c.unit_id))
    return sa.select(sa.null(), count).select_from(table).where(column.in_(ids))


def listeners(conn: Connection, actor: Actor, journey_id: int) -> list[RowMapping]:
    """Who listens at this journey's touchpoints, limited to the surveys the actor may see."""
    query = (sa.select(L.c.touchpoint_id, L.c.channels, t.survey.c.code.label("survey_code"),
                       t.survey.c.name.label("survey_name"), t.survey.c.status)
             .join(TP, TP.c.id == L.c.touchpoint_id)
             .join(t.survey, t.survey.c.id == L.c.survey_id)
             .where(TP.c.journey_id == journey_id, visible_surveys(conn, actor))
             .order_by(L.c.touchpoint_id, t.survey.c.code))
    return list(conn.execute(query).mappings())


def set_listener(conn: Connection, touchpoint_id: int, survey_id: int,
                 channels: list[str]) -> bool:
    """Create or replace a listener; True when it is new."""
    where = sa.and_(L.c.touchpoint_id == touchpoint_id, L.c.survey_id == survey_id)
    if conn.execute(sa.select(L.c.id).where(where)).first():
        conn.execute(sa.update(L).where(where).values(channels=channels))
        return False
    conn.execute(sa.insert(L).values(touchpoint_id=touchpoint_id, survey_id=survey_id,
                                     channels=channels))
    return True


def remove_listener(conn: Connection, touchpoint_id: int, survey_id: int) -> bool:
    result = conn.execute(sa.delete(L).where(L.c.touchpoint_id == touchpoint_id,
                                             L.c.survey_id == survey_id))
    return bool(result.rowcount)
