"""REST API: a survey's anonymous link and QR code for one unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from tiyan.services import survey_links as links
from tiyan.web.api import schemas as s
from tiyan.web.deps import ApiActor, ContextDep

ERRORS = {code: {"model": s.ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["surveys"])  # type: ignore[arg-type]
SurveyCode = Annotated[str, Path(min_length=1, max_length=64)]
UnitCode = Annotated[str, Query(min_length=1, max_length=64, description="the unit's code")]


class SurveyLinkOut(BaseModel):
    survey: str
    unit: str
    url: str
    qr_url: str
    qr_png: str
    qr_svg: str


@router.get("/surveys/{code}/links", response_model=SurveyLinkOut)
def survey_link(code: SurveyCode, unit: UnitCode, ctx: ContextDep,
                actor: ApiActor) -> SurveyLinkOut:
    """The anonymous link of the survey at a unit (responses record that unit), the address its
    QR code encodes (channel "qr"), and where to download the QR code."""
    link = links.access_survey_link(ctx, actor, code, unit)
    base = f"/api/v1/surveys/{code}/links/qr"
    return SurveyLinkOut(survey=code, unit=unit, url=link.url, qr_url=link.qr_url,
                         qr_png=f"{base}.png?unit={unit}", qr_svg=f"{base}.svg?unit={unit}")


@router.get("/surveys/{code}/links/qr.{kind}", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}})
def survey_qr(code: SurveyCode, kind: str, unit: UnitCode, ctx: ContextDep,
              actor: ApiActor) -> Response:
    """The QR code as PNG or SVG."""
    link = links.access_survey_link(ctx, actor, code, unit)
    return Response(links.qr_code(link, kind), media_type=links.QR_FORMATS.get(kind, "image/png"),
                    headers={"Content-Disposition":
                             f'attachment; filename="{links.qr_filename(link, kind)}"'})
