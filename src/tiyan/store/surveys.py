"""Journeys, touchpoints, surveys and their immutable versions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.surveys import SurveyDefinition, definition_to_dict, parse_definition
from tiyan.errors import Conflict, NotFound
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import parent_map


def insert_journey(conn: Connection, *, code: str, name_zh: str, name_en: str,
                   now: dt.datetime, description: str | None = None) -> int:
    if conn.execute(sa.select(t.journey.c.id).where(t.journey.c.code == code)).first():
        raise Conflict(f'a journey with code "{code}" already exists', where="code")
    result = conn.execute(sa.insert(t.journey).values(
        code=code, name_zh=name_zh, name_en=name_en, description=description, created_at=now))
    return inserted_id(result)


def insert_touchpoint(conn: Connection, *, journey_id: int, code: str, name_zh: str,
                      name_en: str, position: int, parent_id: int | None = None) -> int:
    result = conn.execute(sa.insert(t.touchpoint).values(
        journey_id=journey_id, code=code, name_zh=name_zh, name_en=name_en, position=position,
        parent_id=parent_id))
    return inserted_id(result)


def touchpoint_ids(conn: Connection, journey_code: str) -> dict[str, int]:
    query = (sa.select(t.touchpoint.c.code, t.touchpoint.c.id)
             .join(t.journey, t.journey.c.id == t.touchpoint.c.journey_id)
             .where(t.journey.c.code == journey_code))
    return dict(conn.execute(query).all())


def insert_survey(conn: Connection, *, code: str, name: str, unit_id: int,
                  definition: SurveyDefinition, now: dt.datetime, created_by: int | None,
                  touchpoint_id: int | None = None) -> tuple[int, int]:
    """Create a survey with its first published version; returns (survey_id, version_id)."""
    if conn.execute(sa.select(t.survey.c.id).where(t.survey.c.code == code)).first():
        raise Conflict(f'a survey with code "{code}" already exists', where="code")
    survey_id = inserted_id(conn.execute(sa.insert(t.survey).values(
        code=code, name=name, unit_id=unit_id, touchpoint_id=touchpoint_id, status="active",
        current_version=1, created_at=now)))
    version_id = inserted_id(conn.execute(sa.insert(t.survey_version).values(
        survey_id=survey_id, version=1, definition=definition_to_dict(definition),
        created_by=created_by, created_at=now, published_at=now)))
    return survey_id, version_id


_CURRENT_VERSION = (
    sa.select(t.survey_version.c.id, t.survey_version.c.version, t.survey.c.code,
              t.survey.c.touchpoint_id, t.survey.c.unit_id, t.survey.c.status)
    .join(t.survey, t.survey.c.id == t.survey_version.c.survey_id)
    .where(t.survey.c.id == sa.bindparam("survey_id"),
           t.survey_version.c.version == t.survey.c.current_version)
)
_DEFINITION = sa.select(t.survey_version.c.definition).where(
    t.survey_version.c.id == sa.bindparam("version_id"))


def current_version(conn: Connection, survey_id: int) -> RowMapping:
    row = conn.execute(_CURRENT_VERSION, {"survey_id": survey_id}).mappings().first()
    if row is None:
        raise NotFound(f"survey {survey_id} does not exist or has no published version",
                       where="survey")
    return row


def version_definition(conn: Connection, version_id: int,
                       cache: dict[object, object] | None = None) -> SurveyDefinition:
    """The parsed definition of a survey version; versions never change, so it may be cached."""
    key = ("survey_version", version_id)
    if cache is not None and key in cache:
        return cache[key]  # type: ignore[return-value]
    raw = conn.execute(_DEFINITION, {"version_id": version_id}).scalar_one_or_none()
    if raw is None:
        raise NotFound(f"survey version {version_id} does not exist", where="survey_version")
    definition = parse_definition(raw)
    if cache is not None:
        cache[key] = definition
    return definition


def list_surveys(conn: Connection, actor: Actor) -> list[RowMapping]:
    """Surveys owned by a unit in the actor's scope or by one of its ancestors."""
    vis = actor.scope.visibility(Permission.VIEW_DASHBOARD)
    units = _with_ancestors(vis.all_units, parent_map(conn))
    query = (sa.select(t.survey).where(t.survey.c.unit_id.in_(sorted(units)))
             .order_by(t.survey.c.id))
    return list(conn.execute(query).mappings())


def _with_ancestors(unit_ids: set[int] | frozenset[int],
                    parents: dict[int, int | None]) -> set[int]:
    found = set(unit_ids)
    for uid in unit_ids:
        parent = parents.get(uid)
        while parent is not None and parent not in found:
            found.add(parent)
            parent = parents.get(parent)
    return found
