"""Journeys, their touchpoints in order, and the surveys listening at each touchpoint.

Journeys are organisation-wide (they have no owning unit); listeners point at surveys, and a
reader sees only the listeners of surveys in their scope (`store.surveys.visible_surveys`).
"""

from __future__ import annotations

from collections.abc import Sequence
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
        raise NotFound(f'there is no journey "{code}"', where="journey")
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
        raise NotFound(f'this journey has no touchpoint "{code}"', where="touchpoint")
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


def touchpoint_use(conn: Connection, touchpoint_ids: Sequence[int], *,
                   count_children: bool = True) -> Use:
    """How many rows anywhere in the schema still refer to these touchpoints."""
    ids, counts = list(touchpoint_ids), dict[str, int]()
    for table in t.metadata.sorted_tables:
        if table is TP and not count_children:
            continue
        for column in table.columns:
            if any(fk.column is TP.c.id for fk in column.foreign_keys):
                label = "sub-touchpoints" if table is TP else table.name
                query = sa.select(sa.func.count()).select_from(table).where(column.in_(ids))
                counts[label] = counts.get(label, 0) + int(conn.execute(query).scalar_one())
    return Use(counts)


def units_using(conn: Connection, touchpoint_ids: Sequence[int]) -> set[int]:
    """The units whose rows (surveys, invitations, responses, listeners' surveys, …) refer to
    these touchpoints: whom a change to them reaches."""
    ids, found = list(touchpoint_ids), set[int]()
    for table in t.metadata.sorted_tables:
        for column in table.columns:
            if table is TP or not any(fk.column is TP.c.id for fk in column.foreign_keys):
                continue
            if "unit_id" in table.c:
                query = sa.select(table.c.unit_id).where(column.in_(ids))
            elif "survey_id" in table.c:
                query = (sa.select(t.survey.c.unit_id)
                         .join(table, table.c.survey_id == t.survey.c.id).where(column.in_(ids)))
            else:
                continue
            found |= {u for u in conn.execute(query.distinct()).scalars() if u is not None}
    return found


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
