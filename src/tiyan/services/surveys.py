"""Use cases of the survey builder: create, edit the draft, publish versions, close/reopen.

Every change is audit-logged with who did it and what changed. Reading a survey needs it to be
in the actor's scope; changing it needs MANAGE_SURVEYS at the survey's owning unit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.survey_templates import TEMPLATES
from tiyan.domain.surveys import SurveyDefinition, parse_definition
from tiyan.errors import Conflict, InvalidInput, Phrase
from tiyan.store import audit, journeys
from tiyan.store import surveys as store
from tiyan.store.scoped_refs import check_item_codes, unit_in_reach

SURVEY_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
STATUSES = ("draft", "active", "closed")


@dataclass(frozen=True)
class TouchpointRef:
    journey: str
    touchpoint: str


@dataclass(frozen=True)
class NewSurvey:
    code: str
    name: str
    unit_code: str
    template: str | None = None
    definition: Mapping[str, Any] | None = None
    touchpoint: TouchpointRef | None = None


def access_survey(conn: Connection, actor: Actor, code: str, *,
                  manage: bool = False) -> RowMapping:
    """A survey the actor may see; with manage=True, one they may also change."""
    survey = store.get_survey(conn, actor, code)
    if manage:
        actor.require(Permission.MANAGE_SURVEYS, survey["unit_id"])
    return survey


def check_new_survey(request: NewSurvey) -> SurveyDefinition:
    if not SURVEY_CODE.match(request.code):
        raise InvalidInput("surveys.survey_code_lower_case",
                           where="code")
    if not request.name.strip() or len(request.name) > 200:
        raise InvalidInput("surveys.survey_needs_name_most", where="name")
    if (request.template is None) == (request.definition is None):
        raise InvalidInput("surveys.either_template_definition", where="template")
    if request.template is not None:
        if request.template not in TEMPLATES:
            raise InvalidInput("surveys.no_template_choose", template=request.template,
                               templates=', '.join(TEMPLATES), where="template")
        return parse_definition(TEMPLATES[request.template])
    return parse_definition(request.definition or {})


def do_create_survey(ctx: Context, actor: Actor, request: NewSurvey) -> int:
    """A new survey in status draft (version 1 unpublished)."""
    definition = check_new_survey(request)
    now = ctx.now()
    with ctx.db.write() as conn:
        unit_id = unit_in_reach(conn, actor, Permission.MANAGE_SURVEYS, request.unit_code)
        check_item_codes(conn, actor, unit_id, item_codes(definition))
        check_same_meaning(conn, definition, None)
        touchpoint_id = _touchpoint_id(conn, request.touchpoint)
        survey_id = store.insert_draft_survey(
            conn, code=request.code, name=request.name.strip(), unit_id=unit_id,
            definition=definition, now=now, created_by=actor.user_id,
            touchpoint_id=touchpoint_id)
        _audit(conn, ctx, actor, "survey.create", survey_id, unit_id, code=request.code,
               template=request.template, questions=len(definition.questions))
    return survey_id


def do_save_draft(ctx: Context, actor: Actor, code: str, raw: Mapping[str, Any]) -> int:
    """Validate and store the draft definition; returns the draft's version number."""
    definition = parse_definition(raw)
    try:
        with ctx.db.write() as conn:
            survey = access_survey(conn, actor, code, manage=True)
            check_item_codes(conn, actor, survey["unit_id"], item_codes(definition),
                             survey["id"])
            check_same_meaning(conn, definition, survey["id"])
            version = store.save_draft(conn, survey["id"], definition, now=ctx.now(),
                                       by=actor.user_id)
            _audit(conn, ctx, actor, "survey.draft_save", survey["id"], survey["unit_id"],
                   code=code, version=version, questions=len(definition.questions))
    except IntegrityError:  # two first saves after a publish raced for the same number
        raise Conflict("surveys.someone_else_saved_draft", where="survey") from None
    return version


def check_same_meaning(conn: Connection, definition: SurveyDefinition,
                       survey_id: int | None) -> None:
    """An item code keeps the measure (type and scale) it was published with, in every survey,
    and so does a question key within its survey (tiyan.domain.survey_changes); the built-in
    templates fix the measures of their common item codes."""
    from tiyan.domain.survey_changes import check_measures, measure_of
    from tiyan.domain.survey_templates import template

    by_code, by_key = store.published_measures(conn, item_codes(definition), survey_id)
    for code in TEMPLATES:
        for question in template(code).questions:
            if question.item_code is not None and question.item_code not in by_code:
                by_code[question.item_code] = (measure_of(question), Phrase(
                    "survey_changes.in_template", {"template": code}))
    check_measures(definition, by_code, by_key)


def do_discard_draft(ctx: Context, actor: Actor, code: str) -> None:
    with ctx.db.write() as conn:
        survey = access_survey(conn, actor, code, manage=True)
        if survey["current_version"] is None:
            raise InvalidInput("surveys.survey_never_published_only", where="survey")
        if store.discard_draft(conn, survey["id"]):
            _audit(conn, ctx, actor, "survey.draft_discard", survey["id"], survey["unit_id"],
                   code=code)


def do_publish(ctx: Context, actor: Actor, code: str) -> int:
    """Freeze the draft as a new immutable version; returns its number."""
    with ctx.db.write() as conn:
        survey = access_survey(conn, actor, code, manage=True)
        draft = store.draft_row(conn, survey["id"])
        if draft is not None:  # still valid under today's rules
            check_same_meaning(conn, parse_definition(draft["definition"]), survey["id"])
        version = store.publish_draft(conn, survey["id"], ctx.now())
        _audit(conn, ctx, actor, "survey.publish", survey["id"], survey["unit_id"],
               code=code, version=version, previous=survey["current_version"])
    return version


def do_set_status(ctx: Context, actor: Actor, code: str, status: str) -> None:
    """Close a survey (it stops accepting responses) or reopen it."""
    if status not in ("active", "closed"):
        raise InvalidInput("surveys.status_must_active_closed", where="status")
    with ctx.db.write() as conn:
        survey = access_survey(conn, actor, code, manage=True)
        if status == "active" and survey["current_version"] is None:
            raise InvalidInput("surveys.publish_survey_before_opening", where="status")
        if survey["status"] != status:
            store.set_status(conn, survey["id"], status)
            _audit(conn, ctx, actor, "survey.close" if status == "closed" else "survey.reopen",
                   survey["id"], survey["unit_id"], code=code, previous=survey["status"])


def do_attach_touchpoint(ctx: Context, actor: Actor, code: str,
                         touchpoint: TouchpointRef | None) -> None:
    with ctx.db.write() as conn:
        survey = access_survey(conn, actor, code, manage=True)
        touchpoint_id = _touchpoint_id(conn, touchpoint)
        store.set_touchpoint(conn, survey["id"], touchpoint_id)
        _audit(conn, ctx, actor, "survey.touchpoint", survey["id"], survey["unit_id"], code=code,
               journey=touchpoint.journey if touchpoint else None,
               touchpoint=touchpoint.touchpoint if touchpoint else None)


@dataclass(frozen=True)
class Editing:
    """What the builder edits: the draft if there is one, else the current version."""

    survey: RowMapping
    version: int
    is_draft: bool
    definition: Mapping[str, Any]


def editing(conn: Connection, actor: Actor, code: str) -> Editing:
    survey = access_survey(conn, actor, code)
    draft = store.draft_row(conn, survey["id"])
    if draft is not None:
        return Editing(survey, int(draft["version"]), True, draft["definition"])
    current = store.version_row(conn, survey["id"], int(survey["current_version"]))
    return Editing(survey, int(current["version"]), False, current["definition"])


def item_codes(definition: SurveyDefinition) -> set[str]:
    return {q.item_code for q in definition.questions if q.item_code}


def _touchpoint_id(conn: Connection, ref: TouchpointRef | None) -> int | None:
    if ref is None:
        return None
    journey = journeys.journey_by_code(conn, ref.journey)
    return int(journeys.touchpoint_by_code(conn, journey["id"], ref.touchpoint)["id"])


def _audit(conn: Connection, ctx: Context, actor: Actor, action: str, survey_id: int,
           unit_id: int, **detail: Any) -> None:
    audit.record(conn, at=ctx.now(), user_id=actor.user_id, action=action, entity="survey",
                 entity_id=survey_id, unit_id=unit_id,
                 detail={k: v for k, v in detail.items() if v is not None})
