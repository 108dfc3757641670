"""REST API of the survey builder: surveys, drafts, published versions, templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.engine import RowMapping

from tiyan.domain.survey_templates import TEMPLATES, template
from tiyan.services import surveys as service
from tiyan.store import surveys as store
from tiyan.web.api import schemas as s
from tiyan.web.api import survey_schemas as b
from tiyan.web.deps import ApiActor, ContextDep

ERRORS = {code: {"model": s.ErrorBody} for code in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["surveys"])  # type: ignore[arg-type]
SurveyCode = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/surveys", response_model=list[b.SurveySummaryOut])
def list_surveys(ctx: ContextDep, actor: ApiActor) -> list[b.SurveySummaryOut]:
    """Surveys of the caller's units and of the units above them (whose surveys apply here)."""
    with ctx.db.read() as conn:
        return [_summary(r) for r in store.survey_overview(conn, actor)]


@router.post("/surveys", response_model=b.SurveyDetailOut, status_code=201)
def create_survey(body: b.SurveyCreateIn, ctx: ContextDep, actor: ApiActor) -> b.SurveyDetailOut:
    """Create a survey in status draft from a template or a definition; publish to collect."""
    touchpoint = service.TouchpointRef(body.touchpoint.journey, body.touchpoint.touchpoint) \
        if body.touchpoint else None
    service.do_create_survey(ctx, actor, service.NewSurvey(
        code=body.code, name=body.name, unit_code=body.unit_code, template=body.template,
        definition=body.definition, touchpoint=touchpoint))
    return get_survey(body.code, ctx, actor)


@router.get("/surveys/{code}", response_model=b.SurveyDetailOut)
def get_survey(code: SurveyCode, ctx: ContextDep, actor: ApiActor) -> b.SurveyDetailOut:
    """A survey with the definition being edited: its draft, else its current version."""
    with ctx.db.read() as conn:
        editing = service.editing(conn, actor, code)
    return b.SurveyDetailOut(**_summary(editing.survey).model_dump(),
                             editing_version=editing.version,
                             definition=dict(editing.definition))


@router.put("/surveys/{code}/draft", response_model=b.DraftSaved)
def save_draft(code: SurveyCode, body: b.DraftIn, ctx: ContextDep,
               actor: ApiActor) -> b.DraftSaved:
    """Replace the draft definition; it is validated first (422 names the question and rule)."""
    return b.DraftSaved(draft_version=service.do_save_draft(ctx, actor, code, body.definition))


@router.delete("/surveys/{code}/draft", status_code=204)
def discard_draft(code: SurveyCode, ctx: ContextDep, actor: ApiActor) -> None:
    service.do_discard_draft(ctx, actor, code)


@router.post("/surveys/{code}/publish", response_model=b.Published)
def publish(code: SurveyCode, ctx: ContextDep, actor: ApiActor) -> b.Published:
    """Publish the draft as a new immutable version; responses from now on answer it."""
    return b.Published(version=service.do_publish(ctx, actor, code))


@router.put("/surveys/{code}/status", status_code=204)
def set_status(code: SurveyCode, body: b.StatusIn, ctx: ContextDep, actor: ApiActor) -> None:
    """Close a survey (no new responses) or reopen it."""
    service.do_set_status(ctx, actor, code, body.status)


@router.put("/surveys/{code}/touchpoint", status_code=204)
def attach(code: SurveyCode, body: b.AttachIn, ctx: ContextDep, actor: ApiActor) -> None:
    """Attach the survey to a journey touchpoint (null detaches it)."""
    ref = body.touchpoint
    service.do_attach_touchpoint(
        ctx, actor, code, service.TouchpointRef(ref.journey, ref.touchpoint) if ref else None)


@router.get("/surveys/{code}/versions", response_model=list[b.VersionOut])
def list_versions(code: SurveyCode, ctx: ContextDep, actor: ApiActor) -> list[b.VersionOut]:
    """Every version, newest first (an unpublished draft has no published_at)."""
    with ctx.db.read() as conn:
        survey = service.access_survey(conn, actor, code)
        rows = store.list_versions(conn, actor, survey["id"])
    return [b.VersionOut.model_validate(dict(r)) for r in rows]


@router.get("/surveys/{code}/versions/{version}", response_model=b.VersionDetailOut)
def get_version(code: SurveyCode, version: Annotated[int, Path(ge=1, le=100_000)],
                ctx: ContextDep, actor: ApiActor) -> b.VersionDetailOut:
    with ctx.db.read() as conn:
        survey = service.access_survey(conn, actor, code)
        store.version_row(conn, survey["id"], version)  # NotFound names the missing version
        rows = store.list_versions(conn, actor, survey["id"])
    return b.VersionDetailOut.model_validate(dict(next(r for r in rows
                                                       if r["version"] == version)))


@router.get("/survey-templates", response_model=list[b.TemplateOut])
def list_templates(actor: ApiActor) -> list[b.TemplateOut]:
    """Ready-made surveys to start from (after-sales phone survey, hotel stay, plain NPS …)."""
    return [b.TemplateOut(code=code, title=dict(template(code).title),
                          questions=len(template(code).questions)) for code in TEMPLATES]


def _summary(row: RowMapping) -> b.SurveySummaryOut:
    touchpoint = None
    if row["touchpoint_code"]:
        touchpoint = b.TouchpointRefOut(journey=row["journey_code"],
                                        touchpoint=row["touchpoint_code"])
    return b.SurveySummaryOut(
        id=row["id"], code=row["code"], name=row["name"], status=row["status"],
        current_version=row["current_version"], draft_version=row["draft_version"],
        unit_id=row["unit_id"], unit_code=row["unit_code"], touchpoint=touchpoint,
        responses=row["responses"])
