"""REST API for correcting the text analysis and for the installation's adaptation to it.

    POST   /api/v1/responses/{id}/text-corrections      correct a sentiment or an aspect
    DELETE /api/v1/responses/{id}/text-corrections      take a correction back
    GET    /api/v1/text/adaptations                     the adaptations, which one is active
    POST   /api/v1/text/adaptations                     fit a new one (in the background)
    POST   /api/v1/text/adaptations/rollback            back to the one before (in the background)
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from tiyan.domain.access import Permission
from tiyan.domain.text_corrections import TextCorrection
from tiyan.services import text_corrections as service
from tiyan.store import responses, text_analysis
from tiyan.web.api.schemas import ErrorBody, Strict, TextAnalysisOut
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["text analysis"])

Label = Literal["positive", "neutral", "negative"]


class TextCorrectionIn(Strict):
    question_key: str = Field(max_length=130, description="The free-text question corrected.")
    aspect: str | None = Field(default=None, max_length=64, description=(
        "The aspect's code (see the industry's taxonomy); omitted: the comment's own sentiment."))
    label: Label | None = Field(description=(
        "The right sentiment; null on an aspect: the comment does not talk about it."))
    evidence: str | None = Field(default=None, max_length=500, description=(
        "For an aspect the analysis missed: the words of the comment that talk about it."))


class AnalysisWithCorrections(TextAnalysisOut):
    corrections: list[dict[str, Any]]


@router.post("/responses/{response_id}/text-corrections",
             response_model=list[AnalysisWithCorrections])
def correct(response_id: str, body: TextCorrectionIn, ctx: ContextDep,
            actor: ApiActor) -> list[AnalysisWithCorrections]:
    """Correct one text of a response; it is analysed again at once with every correction of
    it laid over the models' reading, and later re-analyses keep them. Returns the response's
    analyses as now stored."""
    service.do_correct_text(ctx, actor, response_id, TextCorrection(
        body.question_key, body.aspect or None, body.label, body.evidence))
    return _analyses(ctx, actor, response_id)


@router.delete("/responses/{response_id}/text-corrections", status_code=204)
def withdraw(response_id: str, ctx: ContextDep, actor: ApiActor,
             question_key: Annotated[str, Query(max_length=130)],
             aspect: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    service.do_withdraw_correction(ctx, actor, response_id, question_key, aspect)
    return Response(status_code=204)


def _analyses(ctx: Any, actor: Any, response_id: str) -> list[AnalysisWithCorrections]:
    with ctx.db.read() as conn:
        row = responses.get_response(conn, actor, response_id[:64])
        found = text_analysis.analyses_for(conn, [row["id"]])[row["id"]]
        by_text = service.corrections_by_text(conn, row["id"])
    return [AnalysisWithCorrections.model_validate({**a, "corrections": [
        {"aspect": c.correction.aspect, "label": c.correction.label,
         "evidence": c.correction.evidence, "model_label": c.model_label,
         "corrected_at": c.corrected_at} for c in by_text.get(a["question_key"], [])]})
        for a in found]


class AdaptationOut(BaseModel):
    id: int
    created_at: dt.datetime
    created_by: str | None
    corrections: int
    active: bool
    summary: dict[str, Any]


class AdaptationsOut(BaseModel):
    active_id: int | None = Field(description="null: the shipped models alone are in use")
    corrections: int = Field(description="corrections stored now")
    adaptations: list[AdaptationOut]


@router.get("/text/adaptations", response_model=AdaptationsOut)
def list_adaptations(ctx: ContextDep, actor: ApiActor) -> AdaptationsOut:
    actor.require(Permission.ADAPT_TEXT_MODELS)
    with ctx.db.read() as conn:
        active, rows = service.adaptation_history(conn)
        stored = service.correction_count(conn)
    return AdaptationsOut(active_id=active, corrections=stored, adaptations=[
        AdaptationOut(id=r["id"], created_at=r["created_at"], created_by=r["created_by_email"],
                      corrections=r["corrections"], active=r["id"] == active,
                      summary=r["summary"]) for r in rows])


@router.post("/text/adaptations", status_code=202)
def adapt(ctx: ContextDep, actor: ApiActor) -> dict[str, str]:
    """Fit an adaptation on every correction and re-analyse every text, in the background."""
    service.request_adapt(ctx, actor)
    return {"status": "queued"}


@router.post("/text/adaptations/rollback", status_code=202)
def rollback(ctx: ContextDep, actor: ApiActor) -> dict[str, str]:
    """Make the adaptation before the active one active (or none) and re-analyse, in the
    background."""
    service.request_adapt(ctx, actor, rollback=True)
    return {"status": "queued"}
