"""Use cases of the journey editor: journeys, touchpoints in order, listeners.

Journeys are shared by the whole organisation: anyone who may manage surveys somewhere may
create one, but changing a journey or its touchpoints takes MANAGE_SURVEYS over every unit
that uses it (`require_org_wide`: its surveys, invitations, responses, listeners), so a manager
of one unit cannot rename what other units' dashboards show. Every change is audit-logged.
Who listens at a touchpoint is a property of the
survey, so changing a listener needs MANAGE_SURVEYS at the survey's unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, RowMapping

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.journeys import (
    check_channels,
    check_code,
    check_name,
    check_unused,
    moved,
)
from tiyan.errors import Conflict, InvalidInput, Phrase
from tiyan.services.surveys import access_survey
from tiyan.store import audit
from tiyan.store import journeys as store
from tiyan.store import surveys as survey_store
from tiyan.store.scoped_refs import require_org_wide


@dataclass(frozen=True)
class Step:
    """A touchpoint as the journey page shows it: its sub-touchpoints and listeners."""

    row: RowMapping
    children: list[Step]
    listeners: list[RowMapping]


@dataclass(frozen=True)
class JourneyView:
    journey: RowMapping
    steps: list[Step]


def journey_view(conn: Connection, actor: Actor, code: str) -> JourneyView:
    actor.require(Permission.VIEW_DASHBOARD)
    journey = store.journey_by_code(conn, code)
    rows = store.touchpoints(conn, journey["id"])
    heard: dict[int, list[RowMapping]] = {}
    for listener in store.listeners(conn, actor, journey["id"]):
        heard.setdefault(listener["touchpoint_id"], []).append(listener)
    steps = {r["id"]: Step(r, [], heard.get(r["id"], [])) for r in rows}
    top: list[Step] = []
    for row in rows:
        parent = steps.get(row["parent_id"]) if row["parent_id"] else None
        (parent.children if parent else top).append(steps[row["id"]])
    return JourneyView(journey, top)


def do_create_journey(ctx: Context, actor: Actor, *, code: str, name_zh: str, name_en: str,
                      description: str | None = None) -> int:
    actor.require(Permission.MANAGE_SURVEYS)
    check_code(code, "code")
    names = check_name(name_zh, "name_zh"), check_name(name_en, "name_en")
    with ctx.db.write() as conn:
        journey_id = survey_store.insert_journey(conn, code=code, name_zh=names[0],
                                                 name_en=names[1], now=ctx.now(),
                                                 description=description or None)
        _audit(conn, ctx, actor, "journey.create", "journey", journey_id, code=code)
    return journey_id


def do_update_journey(ctx: Context, actor: Actor, code: str, **changes: str | None) -> None:
    actor.require(Permission.MANAGE_SURVEYS)
    values: dict[str, str | None] = dict(_names(changes))
    if "description" in changes:
        values["description"] = changes["description"] or None
    with ctx.db.write() as conn:
        journey = _editable_journey(conn, actor, code)
        if values:
            store.update_journey(conn, journey["id"], **values)
            _audit(conn, ctx, actor, "journey.update", "journey", journey["id"], code=code,
                   changes=values)


def do_delete_journey(ctx: Context, actor: Actor, code: str) -> None:
    actor.require(Permission.MANAGE_SURVEYS)
    with ctx.db.write() as conn:
        journey = _editable_journey(conn, actor, code)
        ids = [r["id"] for r in store.touchpoints(conn, journey["id"])]
        check_unused(store.touchpoint_use(conn, ids, _managed(actor), count_children=False),
                     Phrase("journeys.the_journey", {"code": code}), "journey")
        store.delete_journey(conn, journey["id"])
        _audit(conn, ctx, actor, "journey.delete", "journey", journey["id"], code=code)


def do_add_touchpoint(ctx: Context, actor: Actor, journey_code: str, *, code: str,
                      name_zh: str, name_en: str, parent: str | None = None,
                      position: int | None = None) -> int:
    """Add a touchpoint (or a sub-touchpoint of `parent`), at the end or at `position`."""
    actor.require(Permission.MANAGE_SURVEYS)
    check_code(code, "code")
    names = check_name(name_zh, "name_zh"), check_name(name_en, "name_en")
    with ctx.db.write() as conn:
        journey = _editable_journey(conn, actor, journey_code)
        parent_id = _parent_id(conn, journey["id"], parent)
        siblings = store.sibling_codes(conn, journey["id"], parent_id)
        if code in {r["code"] for r in store.touchpoints(conn, journey["id"])}:
            raise Conflict("journeys.journey_already_touchpoint", code=code, where="code")
        touchpoint_id = survey_store.insert_touchpoint(
            conn, journey_id=journey["id"], code=code, name_zh=names[0], name_en=names[1],
            position=len(siblings) + 1, parent_id=parent_id)
        if position is not None:
            store.renumber(conn, journey["id"], moved([*siblings, code], code, position))
        _audit(conn, ctx, actor, "touchpoint.create", "touchpoint", touchpoint_id,
               journey=journey_code, code=code, parent=parent)
    return touchpoint_id


def do_update_touchpoint(ctx: Context, actor: Actor, journey_code: str, code: str, *,
                         name_zh: str | None = None, name_en: str | None = None,
                         position: int | None = None) -> None:
    """Rename a touchpoint and/or move it to `position` among its siblings (1 = first)."""
    actor.require(Permission.MANAGE_SURVEYS)
    values = _names({"name_zh": name_zh, "name_en": name_en})
    with ctx.db.write() as conn:
        journey = _editable_journey(conn, actor, journey_code)
        touchpoint = store.touchpoint_by_code(conn, journey["id"], code)
        if values:
            store.update_touchpoint(conn, touchpoint["id"], **values)
        if position is not None:
            siblings = store.sibling_codes(conn, journey["id"], touchpoint["parent_id"])
            store.renumber(conn, journey["id"], moved(siblings, code, position))
        _audit(conn, ctx, actor, "touchpoint.update", "touchpoint", touchpoint["id"],
               journey=journey_code, code=code, position=position, changes=values or None)


def do_move_touchpoint(ctx: Context, actor: Actor, journey_code: str, code: str,
                       step: int) -> None:
    """Move a touchpoint one (or more) places earlier (step < 0) or later among its siblings."""
    with ctx.db.read() as conn:
        journey = store.journey_by_code(conn, journey_code)
        touchpoint = store.touchpoint_by_code(conn, journey["id"], code)
        siblings = store.sibling_codes(conn, journey["id"], touchpoint["parent_id"])
    do_update_touchpoint(ctx, actor, journey_code, code,
                         position=max(1, siblings.index(code) + 1 + step))


def do_delete_touchpoint(ctx: Context, actor: Actor, journey_code: str, code: str) -> None:
    actor.require(Permission.MANAGE_SURVEYS)
    with ctx.db.write() as conn:
        journey = _editable_journey(conn, actor, journey_code)
        touchpoint = store.touchpoint_by_code(conn, journey["id"], code)
        check_unused(store.touchpoint_use(conn, [touchpoint["id"]], _managed(actor)),
                     Phrase("journeys.the_touchpoint", {"code": code}), "touchpoint")
        store.delete_touchpoint(conn, touchpoint["id"])
        siblings = store.sibling_codes(conn, journey["id"], touchpoint["parent_id"])
        store.renumber(conn, journey["id"], siblings)
        _audit(conn, ctx, actor, "touchpoint.delete", "touchpoint", touchpoint["id"],
               journey=journey_code, code=code)


def do_set_listener(ctx: Context, actor: Actor, journey_code: str, touchpoint_code: str,
                    survey_code: str, channels: Sequence[str]) -> bool:
    """Let a survey listen at a touchpoint through these channels; True when new."""
    chosen = check_channels(channels)
    with ctx.db.write() as conn:
        journey = store.journey_by_code(conn, journey_code)
        touchpoint = store.touchpoint_by_code(conn, journey["id"], touchpoint_code)
        survey = access_survey(conn, actor, survey_code, manage=True)
        created = store.set_listener(conn, touchpoint["id"], survey["id"], chosen)
        _audit(conn, ctx, actor, "listener.set", "touchpoint", touchpoint["id"],
               unit_id=survey["unit_id"], journey=journey_code, touchpoint=touchpoint_code,
               survey=survey_code, channels=chosen)
    return created


def do_remove_listener(ctx: Context, actor: Actor, journey_code: str, touchpoint_code: str,
                       survey_code: str) -> None:
    with ctx.db.write() as conn:
        journey = store.journey_by_code(conn, journey_code)
        touchpoint = store.touchpoint_by_code(conn, journey["id"], touchpoint_code)
        survey = access_survey(conn, actor, survey_code, manage=True)
        if not store.remove_listener(conn, touchpoint["id"], survey["id"]):
            raise InvalidInput("journeys.survey_does_not_listen", survey_code=survey_code,
                               touchpoint_code=touchpoint_code,
                               where="survey")
        _audit(conn, ctx, actor, "listener.remove", "touchpoint", touchpoint["id"],
               unit_id=survey["unit_id"], journey=journey_code, touchpoint=touchpoint_code,
               survey=survey_code)


def _editable_journey(conn: Connection, actor: Actor, code: str) -> RowMapping:
    journey = store.journey_by_code(conn, code)
    ids = [r["id"] for r in store.touchpoints(conn, journey["id"])]
    require_org_wide(actor, Permission.MANAGE_SURVEYS, store.units_using(conn, ids),
                     Phrase("journeys.the_journey", {"code": code}), where="journey")
    return journey


def _managed(actor: Actor) -> frozenset[int]:
    """The units whose uses of a journey an error message may name to this actor."""
    return actor.scope.visibility(Permission.MANAGE_SURVEYS).unit_ids


def _names(changes: dict[str, Any]) -> dict[str, str]:
    return {key: check_name(value, key) for key in ("name_zh", "name_en")
            if (value := changes.get(key)) is not None}


def _parent_id(conn: Connection, journey_id: int, parent: str | None) -> int | None:
    if not parent:
        return None
    row = store.touchpoint_by_code(conn, journey_id, parent)
    if row["parent_id"] is not None:
        raise InvalidInput("journeys.sub_touchpoint_cannot_sub",
                           where="parent")
    return int(row["id"])


def _audit(conn: Connection, ctx: Context, actor: Actor, action: str, entity: str,
           entity_id: int, unit_id: int | None = None, **detail: Any) -> None:
    audit.record(conn, at=ctx.now(), user_id=actor.user_id, action=action, entity=entity,
                 entity_id=entity_id, unit_id=unit_id,
                 detail={k: v for k, v in detail.items() if v is not None})
