"""API bodies and replies of the survey builder and the journey editor."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from tiyan.web.api.schemas import Strict

Code = Field(min_length=1, max_length=64)
Name = Field(min_length=1, max_length=200)


class TouchpointRefIn(Strict):
    journey: str = Code
    touchpoint: str = Code


class SurveyCreateIn(Strict):
    """Either `template` (see GET /api/v1/survey-templates) or a full `definition`."""

    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Name
    unit_code: str = Code
    template: str | None = Field(default=None, max_length=64)
    definition: dict[str, Any] | None = None
    touchpoint: TouchpointRefIn | None = None


class DraftIn(Strict):
    definition: dict[str, Any]


class StatusIn(Strict):
    status: Literal["active", "closed"]


class AttachIn(Strict):
    touchpoint: TouchpointRefIn | None


class TouchpointRefOut(BaseModel):
    journey: str
    touchpoint: str


class SurveySummaryOut(BaseModel):
    id: int
    code: str
    name: str
    status: str
    current_version: int | None
    draft_version: int | None
    unit_id: int
    unit_code: str
    touchpoint: TouchpointRefOut | None
    responses: int


class SurveyDetailOut(SurveySummaryOut):
    editing_version: int = Field(description="the draft's number, or the current version's "
                                             "when there is no draft")
    definition: dict[str, Any] = Field(description="the draft, or the current version")


class DraftSaved(BaseModel):
    draft_version: int


class Published(BaseModel):
    version: int


class VersionOut(BaseModel):
    version: int
    published_at: dt.datetime | None
    created_at: dt.datetime
    author: str | None
    responses: int


class VersionDetailOut(VersionOut):
    definition: dict[str, Any]


class TemplateOut(BaseModel):
    code: str
    title: dict[str, str]
    questions: int


class JourneyIn(Strict):
    code: str = Code
    name_zh: str = Name
    name_en: str = Name
    description: str | None = Field(default=None, max_length=2000)


class JourneyPatch(Strict):
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class TouchpointIn(Strict):
    code: str = Code
    name_zh: str = Name
    name_en: str = Name
    parent: str | None = Field(default=None, max_length=64,
                               description="code of the touchpoint this one is a sub-touchpoint of")
    position: int | None = Field(default=None, ge=1, le=1000,
                                 description="1 = first among its siblings; default: last")


class TouchpointPatch(Strict):
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    position: int | None = Field(default=None, ge=1, le=1000)


class ListenerIn(Strict):
    channels: list[str] = Field(min_length=1, max_length=10)


class ListenerOut(BaseModel):
    survey_code: str
    survey_name: str
    status: str
    channels: list[str]


class TouchpointOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    position: int
    listeners: list[ListenerOut]
    sub_touchpoints: list[TouchpointOut]


class JourneyOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    description: str | None
    touchpoints: list[TouchpointOut]


class JourneySummaryOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    description: str | None
    touchpoints: int
