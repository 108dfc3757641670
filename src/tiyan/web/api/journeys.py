"""REST API of the journey editor: journeys, touchpoints in order, listening surveys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tiyan.domain.access import Permission
from tiyan.services import journeys as service
from tiyan.store import journeys as store
from tiyan.web.api import schemas as s
from tiyan.web.api import survey_schemas as b
from tiyan.web.deps import ApiActor, ContextDep

ERRORS = {code: {"model": s.ErrorBody} for code in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1/journeys", responses=ERRORS,  # type: ignore[arg-type]
                   tags=["journeys"])
CodePath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", response_model=list[b.JourneySummaryOut])
def list_journeys(ctx: ContextDep, actor: ApiActor) -> list[b.JourneySummaryOut]:
    actor.require(Permission.VIEW_DASHBOARD)
    with ctx.db.read() as conn:
        return [b.JourneySummaryOut.model_validate(dict(r)) for r in store.list_journeys(conn)]


@router.post("", response_model=b.JourneyOut, status_code=201)
def create_journey(body: b.JourneyIn, ctx: ContextDep, actor: ApiActor) -> b.JourneyOut:
    service.do_create_journey(ctx, actor, code=body.code, name_zh=body.name_zh,
                              name_en=body.name_en, description=body.description)
    return get_journey(body.code, ctx, actor)


@router.get("/{code}", response_model=b.JourneyOut)
def get_journey(code: CodePath, ctx: ContextDep, actor: ApiActor) -> b.JourneyOut:
    """The journey's touchpoints in order, each with its sub-touchpoints and the surveys (that
    the caller may see) listening there."""
    with ctx.db.read() as conn:
        view = service.journey_view(conn, actor, code)
    j = view.journey
    return b.JourneyOut(code=j["code"], name_zh=j["name_zh"], name_en=j["name_en"],
                        description=j["description"],
                        touchpoints=[_touchpoint(step) for step in view.steps])


@router.patch("/{code}", response_model=b.JourneyOut)
def update_journey(code: CodePath, body: b.JourneyPatch, ctx: ContextDep,
                   actor: ApiActor) -> b.JourneyOut:
    service.do_update_journey(ctx, actor, code, **body.model_dump(exclude_unset=True))
    return get_journey(code, ctx, actor)


@router.delete("/{code}", status_code=204)
def delete_journey(code: CodePath, ctx: ContextDep, actor: ApiActor) -> None:
    """Delete a journey nothing refers to any more (409 says what still uses it)."""
    service.do_delete_journey(ctx, actor, code)


@router.post("/{code}/touchpoints", response_model=b.JourneyOut, status_code=201)
def add_touchpoint(code: CodePath, body: b.TouchpointIn, ctx: ContextDep,
                   actor: ApiActor) -> b.JourneyOut:
    service.do_add_touchpoint(ctx, actor, code, code=body.code, name_zh=body.name_zh,
                              name_en=body.name_en, parent=body.parent, position=body.position)
    return get_journey(code, ctx, actor)


@router.patch("/{code}/touchpoints/{touchpoint}", response_model=b.JourneyOut)
def update_touchpoint(code: CodePath, touchpoint: CodePath, body: b.TouchpointPatch,
                      ctx: ContextDep, actor: ApiActor) -> b.JourneyOut:
    """Rename a touchpoint and/or move it to `position` among its siblings."""
    service.do_update_touchpoint(ctx, actor, code, touchpoint, name_zh=body.name_zh,
                                 name_en=body.name_en, position=body.position)
    return get_journey(code, ctx, actor)


@router.delete("/{code}/touchpoints/{touchpoint}", status_code=204)
def delete_touchpoint(code: CodePath, touchpoint: CodePath, ctx: ContextDep,
                      actor: ApiActor) -> None:
    """Delete a touchpoint nothing refers to (no surveys, listeners, responses, invitations,
    sub-touchpoints)."""
    service.do_delete_touchpoint(ctx, actor, code, touchpoint)


@router.put("/{code}/touchpoints/{touchpoint}/listeners/{survey}", status_code=204)
def set_listener(code: CodePath, touchpoint: CodePath, survey: CodePath, body: b.ListenerIn,
                 ctx: ContextDep, actor: ApiActor) -> None:
    """Let a survey listen at this touchpoint through these channels."""
    service.do_set_listener(ctx, actor, code, touchpoint, survey, body.channels)


@router.delete("/{code}/touchpoints/{touchpoint}/listeners/{survey}", status_code=204)
def remove_listener(code: CodePath, touchpoint: CodePath, survey: CodePath, ctx: ContextDep,
                    actor: ApiActor) -> None:
    service.do_remove_listener(ctx, actor, code, touchpoint, survey)


def _touchpoint(step: service.Step) -> b.TouchpointOut:
    row = step.row
    return b.TouchpointOut(
        code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"],
        position=row["position"],
        listeners=[b.ListenerOut(survey_code=li["survey_code"], survey_name=li["survey_name"],
                                 status=li["status"], channels=list(li["channels"]))
                   for li in step.listeners],
        sub_touchpoints=[_touchpoint(child) for child in step.children])
