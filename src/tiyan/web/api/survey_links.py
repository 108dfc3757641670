"""REST API: a survey's anonymous link and QR code for one unit, the link's ballot-stuffing
limits, and the responses the guard flagged (services/link_guard)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tiyan.services import link_guard
from tiyan.services import survey_links as links
from tiyan.web.api import schemas as s
from tiyan.web.client_address import client_address
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


class LinkPolicyBody(BaseModel):
    """A link's limits; 0 turns a check off (a kiosk: device_limit 0)."""

    device_limit: int = Field(1, description="completed responses per device and window")
    device_window_hours: int = Field(24, description="the device window, in hours")
    burst_limit: int = Field(20, description="responses through the link per burst window")
    burst_window_minutes: int = Field(10, description="the burst window, in minutes")


@router.get("/surveys/{code}/links/policy", response_model=LinkPolicyBody)
def survey_link_policy(code: SurveyCode, unit: UnitCode, ctx: ContextDep,
                       actor: ApiActor) -> LinkPolicyBody:
    """The ballot-stuffing limits of the survey's anonymous link at the unit (the defaults
    until someone sets them)."""
    return LinkPolicyBody(**link_guard.view_policy(ctx, actor, code, unit).as_dict())


@router.put("/surveys/{code}/links/policy", response_model=LinkPolicyBody)
def put_survey_link_policy(code: SurveyCode, unit: UnitCode, body: LinkPolicyBody,
                           request: Request, ctx: ContextDep,
                           actor: ApiActor) -> LinkPolicyBody:
    """Set the limits (422 names the field out of range; audited as survey_link.policy)."""
    saved = link_guard.do_save_policy(ctx, actor, code, unit, body.model_dump(),
                                      ip=client_address(request))
    return LinkPolicyBody(**saved.as_dict())


class FlaggedOut(BaseModel):
    id: str
    survey: str | None
    unit: str
    submitted_at: dt.datetime | None
    reasons: list[str]
    counted: bool


@router.get("/flagged-responses", response_model=list[FlaggedOut])
def flagged_responses(ctx: ContextDep, actor: ApiActor,
                      state: Annotated[str, Query(max_length=16)] = "flagged",
                      survey: Annotated[str | None, Query(max_length=64)] = None
                      ) -> list[FlaggedOut]:
    """Responses the guard flagged in your scope, newest first (200 at most): state
    "flagged" (left out of every figure), "restored" or "all"."""
    rows = link_guard.list_flagged(ctx, actor, state=state, survey_code=survey)
    return [FlaggedOut(id=r["public_id"], survey=r["survey_code"], unit=r["unit_code"],
                       submitted_at=r["submitted_at"], reasons=r["flag_reasons"].split(","),
                       counted=r["status"] == "complete") for r in rows]


class CountedBody(BaseModel):
    counted: bool


@router.put("/responses/{public_id}/counted", response_model=CountedBody)
def put_counted(public_id: Annotated[str, Path(min_length=1, max_length=64)],
                body: CountedBody, request: Request, ctx: ContextDep,
                actor: ApiActor) -> CountedBody:
    """Restore a flagged response (true: it counts in every figure at once) or leave it out
    again (false); audited as response.restore / response.exclude."""
    link_guard.do_set_counted(ctx, actor, public_id, body.counted, ip=client_address(request))
    return body
