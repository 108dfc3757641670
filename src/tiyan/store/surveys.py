"""Journeys, touchpoints, surveys and their immutable versions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from tiyan.domain.access import Actor, Permission
from tiyan.domain.survey_changes import Measure, measure_of
from tiyan.domain.surveys import SurveyDefinition, definition_to_dict, parse_definition
from tiyan.errors import Conflict, NotFound, Phrase, TiyanError
from tiyan.store import tables as t
from tiyan.store.db import inserted_id
from tiyan.store.scoped import parent_map


def insert_journey(conn: Connection, *, code: str, name_zh: str, name_en: str,
                   now: dt.datetime, description: str | None = None) -> int:
    if conn.execute(sa.select(t.journey.c.id).where(t.journey.c.code == code)).first():
        raise Conflict("surveys.journey_code_already_exists", code=code, where="code")
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
        raise Conflict("surveys.survey_code_already_exists", code=code, where="code")
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
           t.survey_version.c.version == t.survey.c.current_version,
           t.survey_version.c.published_at.is_not(None))
)
_DEFINITION = sa.select(t.survey_version.c.definition).where(
    t.survey_version.c.id == sa.bindparam("version_id"))


def current_version(conn: Connection, survey_id: int) -> RowMapping:
    row = conn.execute(_CURRENT_VERSION, {"survey_id": survey_id}).mappings().first()
    if row is None:
        raise NotFound("surveys.survey_does_not_exist", survey_id=survey_id,
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
        raise NotFound("surveys.survey_version_does_not", version_id=version_id,
                       where="survey_version")
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


def item_code_units(conn: Connection, codes: set[str] | frozenset[str],
                    other_than: int | None = None) -> dict[str, set[int]]:
    """For each of the item codes, the owner units of the surveys (any version, drafts too)
    that use it, leaving out survey `other_than`."""
    query = (sa.select(t.survey.c.unit_id, t.survey_version.c.definition)
             .join(t.survey_version, t.survey_version.c.survey_id == t.survey.c.id))
    if other_than is not None:
        query = query.where(t.survey.c.id != other_than)
    found: dict[str, set[int]] = {}
    for unit_id, definition in conn.execute(query) if codes else ():
        for question in (definition or {}).get("questions", ()):
            code = question.get("item_code") if isinstance(question, dict) else None
            if isinstance(code, str) and code in codes:
                found.setdefault(code, set()).add(int(unit_id))
    return found


def _with_ancestors(unit_ids: set[int] | frozenset[int],
                    parents: dict[int, int | None]) -> set[int]:
    found = set(unit_ids)
    for uid in unit_ids:
        parent = parents.get(uid)
        while parent is not None and parent not in found:
            found.add(parent)
            parent = parents.get(parent)
    return found


# --- the builder: drafts, publishing, versions ---------------------------------------------
#
# A survey's draft is a survey_version row with published_at NULL (at most one per survey,
# numbered after the newest version). Publishing stamps published_at and moves
# survey.current_version to it; from then on the row never changes. Responses only ever point
# at published versions.

_S, _SV = t.survey, t.survey_version


def visible_surveys(conn: Connection, actor: Actor) -> sa.ColumnElement[bool]:
    """Surveys owned by a unit in the actor's scope or by one of its ancestors (whose surveys
    apply to the actor's units too)."""
    vis = actor.scope.visibility(Permission.VIEW_DASHBOARD)
    units = _with_ancestors(vis.all_units, parent_map(conn))
    return _S.c.unit_id.in_(sorted(units)) if units else sa.false()


def survey_overview(conn: Connection, actor: Actor, code: str | None = None) -> list[RowMapping]:
    """The builder's list: each visible survey with its unit, touchpoint, draft and the number
    of responses the actor may see."""
    from tiyan.store.scoped import visible

    counts_query = (sa.select(t.response.c.survey_id, sa.func.count().label("n"))
                    .where(visible(actor.scope.visibility(Permission.VIEW_RESPONSES),
                                   t.response.c.unit_id, t.response.c.staff_id))
                    .group_by(t.response.c.survey_id))
    if code is not None:
        counts_query = counts_query.where(t.response.c.survey_id.in_(
            sa.select(_S.c.id).where(_S.c.code == code)))
    counts = counts_query.subquery()
    drafts = (sa.select(_SV.c.survey_id, _SV.c.version)
              .where(_SV.c.published_at.is_(None)).subquery())
    query = (
        sa.select(_S, t.org_unit.c.code.label("unit_code"), t.org_unit.c.name_zh.label("unit_zh"),
                  t.org_unit.c.name_en.label("unit_en"),
                  t.touchpoint.c.code.label("touchpoint_code"),
                  t.touchpoint.c.name_zh.label("touchpoint_zh"),
                  t.touchpoint.c.name_en.label("touchpoint_en"),
                  t.journey.c.code.label("journey_code"),
                  t.journey.c.name_zh.label("journey_zh"), t.journey.c.name_en.label("journey_en"),
                  drafts.c.version.label("draft_version"),
                  sa.func.coalesce(counts.c.n, 0).label("responses"))
        .join(t.org_unit, t.org_unit.c.id == _S.c.unit_id)
        .outerjoin(t.touchpoint, t.touchpoint.c.id == _S.c.touchpoint_id)
        .outerjoin(t.journey, t.journey.c.id == t.touchpoint.c.journey_id)
        .outerjoin(drafts, drafts.c.survey_id == _S.c.id)
        .outerjoin(counts, counts.c.survey_id == _S.c.id)
        .where(visible_surveys(conn, actor))
        .order_by(_S.c.id)
    )
    if code is not None:
        query = query.where(_S.c.code == code)
    return list(conn.execute(query).mappings())


def get_survey(conn: Connection, actor: Actor, code: str) -> RowMapping:
    """One survey the actor may see, by code, with the same columns as `survey_overview`."""
    rows = survey_overview(conn, actor, code)
    if not rows:
        raise NotFound("surveys.no_survey_you_can", code=code, where="survey")
    return rows[0]


def insert_draft_survey(conn: Connection, *, code: str, name: str, unit_id: int,
                        definition: SurveyDefinition, now: dt.datetime, created_by: int | None,
                        touchpoint_id: int | None = None) -> int:
    """A new survey in status draft, its definition kept as unpublished version 1."""
    if conn.execute(sa.select(_S.c.id).where(_S.c.code == code)).first():
        raise Conflict("surveys.survey_code_already_exists", code=code, where="code")
    survey_id = inserted_id(conn.execute(sa.insert(_S).values(
        code=code, name=name, unit_id=unit_id, touchpoint_id=touchpoint_id, status="draft",
        current_version=None, created_at=now)))
    conn.execute(sa.insert(_SV).values(
        survey_id=survey_id, version=1, definition=definition_to_dict(definition),
        created_by=created_by, created_at=now, published_at=None))
    return survey_id


def draft_row(conn: Connection, survey_id: int) -> RowMapping | None:
    query = sa.select(_SV).where(_SV.c.survey_id == survey_id, _SV.c.published_at.is_(None))
    return conn.execute(query).mappings().first()


def save_draft(conn: Connection, survey_id: int, definition: SurveyDefinition, *,
               now: dt.datetime, by: int | None) -> int:
    """Store the draft (creating it after the newest version if there is none); its number."""
    values = {"definition": definition_to_dict(definition), "created_by": by, "created_at": now}
    # One draft per survey: concurrent saves queue on the survey row (PostgreSQL; SQLite writes
    # are already one at a time), so the second sees the draft the first created.
    conn.execute(sa.select(t.survey.c.id).where(t.survey.c.id == survey_id).with_for_update())
    draft = draft_row(conn, survey_id)
    if draft is not None:
        conn.execute(sa.update(_SV).where(_SV.c.id == draft["id"],
                                          _SV.c.published_at.is_(None)).values(**values))
        return int(draft["version"])
    newest = conn.execute(sa.select(sa.func.max(_SV.c.version))
                          .where(_SV.c.survey_id == survey_id)).scalar_one()
    version = (newest or 0) + 1
    conn.execute(sa.insert(_SV).values(survey_id=survey_id, version=version, published_at=None,
                                       **values))
    return version


def discard_draft(conn: Connection, survey_id: int) -> bool:
    result = conn.execute(sa.delete(_SV).where(_SV.c.survey_id == survey_id,
                                               _SV.c.published_at.is_(None)))
    return bool(result.rowcount)


def publish_draft(conn: Connection, survey_id: int, now: dt.datetime) -> int:
    """Freeze the draft as the survey's current version; a draft survey starts collecting."""
    draft = draft_row(conn, survey_id)
    if draft is None:
        raise Conflict("surveys.no_draft_publish_save", where="survey")
    done = conn.execute(sa.update(_SV).where(_SV.c.id == draft["id"],
                                             _SV.c.published_at.is_(None))
                        .values(published_at=now))
    if done.rowcount != 1:
        raise Conflict("surveys.someone_else_published_draft", where="survey")
    conn.execute(sa.update(_S).where(_S.c.id == survey_id).values(
        current_version=draft["version"],
        status=sa.case((_S.c.status == "draft", "active"), else_=_S.c.status)))
    return int(draft["version"])


def list_versions(conn: Connection, actor: Actor, survey_id: int) -> list[RowMapping]:
    """Every version (newest first) with its author and the responses the actor may see."""
    from tiyan.store.scoped import visible

    counts = (sa.select(t.response.c.survey_version_id, sa.func.count().label("n"))
              .where(t.response.c.survey_id == survey_id,
                     visible(actor.scope.visibility(Permission.VIEW_RESPONSES),
                             t.response.c.unit_id, t.response.c.staff_id))
              .group_by(t.response.c.survey_version_id).subquery())
    query = (sa.select(_SV, t.app_user.c.email.label("author"),
                       sa.func.coalesce(counts.c.n, 0).label("responses"))
             .outerjoin(t.app_user, t.app_user.c.id == _SV.c.created_by)
             .outerjoin(counts, counts.c.survey_version_id == _SV.c.id)
             .where(_SV.c.survey_id == survey_id).order_by(_SV.c.version.desc()))
    return list(conn.execute(query).mappings())


def version_row(conn: Connection, survey_id: int, version: int) -> RowMapping:
    row = conn.execute(sa.select(_SV).where(_SV.c.survey_id == survey_id,
                                            _SV.c.version == version)).mappings().first()
    if row is None:
        raise NotFound("surveys.survey_no_version", version=version, where="version")
    return row


def set_status(conn: Connection, survey_id: int, status: str) -> None:
    conn.execute(sa.update(_S).where(_S.c.id == survey_id).values(status=status))


def set_touchpoint(conn: Connection, survey_id: int, touchpoint_id: int | None) -> None:
    conn.execute(sa.update(_S).where(_S.c.id == survey_id).values(touchpoint_id=touchpoint_id))


def published_measures(conn: Connection, codes: set[str] | frozenset[str], survey_id: int | None
                       ) -> tuple[dict[str, tuple[Measure, Phrase]], dict[str, Measure]]:
    """What the published versions already measure: (item code → (measure, where: survey
    "NAME", version N, in the reader's language), for `codes` across every survey; this survey's
    question key → measure). The first publication of a code wins (oldest version first)."""
    query = (sa.select(t.survey.c.id, t.survey.c.name, t.survey_version.c.version,
                       t.survey_version.c.definition)
             .join(t.survey_version, t.survey_version.c.survey_id == t.survey.c.id)
             .where(t.survey_version.c.published_at.is_not(None))
             .order_by(t.survey_version.c.published_at, t.survey_version.c.id))
    by_code: dict[str, tuple[Measure, Phrase]] = {}
    by_key: dict[str, Measure] = {}
    for sid, name, version, raw in conn.execute(query):
        try:
            definition = parse_definition(raw)
        except TiyanError:  # a version a later rule would refuse: it measured what it measured
            continue
        for question in definition.questions:
            measure = measure_of(question)
            if question.item_code is not None and question.item_code in codes:
                by_code.setdefault(question.item_code, (measure, Phrase(
                    "survey_changes.published_in", {"survey": name, "version": version})))
            if sid == survey_id:
                by_key.setdefault(question.key, measure)
    return by_code, by_key


def item_labels(conn: Connection, actor: Actor, locale: str) -> dict[str, str]:
    """Question text per item code, from the latest version of each survey the viewer may see;
    where several use a code, the survey owned highest in the tree names it (an organisation's
    shared code keeps its shared text)."""
    from tiyan.store.scoped_refs import unit_depths

    sv = t.survey_version
    latest = sa.select(sa.func.max(sv.c.id)).group_by(sv.c.survey_id).scalar_subquery()
    rows = conn.execute(sa.select(sv.c.id, sv.c.definition, t.survey.c.unit_id)
                        .join(t.survey, t.survey.c.id == sv.c.survey_id)
                        .where(sv.c.id.in_(latest), visible_surveys(conn, actor))).all()
    depth = unit_depths(conn)
    labels: dict[str, str] = {}
    for _, definition, _ in sorted(rows, key=lambda r: (depth.get(r.unit_id, 0), -r.id)):
        try:
            questions = parse_definition(definition).questions
        except Exception:  # an old definition that no longer parses keeps its codes
            continue
        for q in questions:
            if q.item_code and q.item_code not in labels:
                labels[q.item_code] = q.text.get(locale) or q.text.get("en") or q.item_code
    return labels
