"""API bodies and replies: parsed at the edge, unknown fields rejected."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str
    message: str
    where: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str


class GrantOut(BaseModel):
    role: str
    unit_code: str


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    grants: list[GrantOut]
    permissions: list[str]


class UnitIn(Strict):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=32)
    parent_code: str = Field(min_length=1, max_length=64)


class UnitOut(BaseModel):
    id: int
    code: str
    name_zh: str
    name_en: str
    kind: str
    parent_id: int | None


class StaffOut(BaseModel):
    id: int
    code: str
    name: str
    title: str | None
    unit_id: int


class UserIn(Strict):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=1024)
    role: str = Field(min_length=1, max_length=32)
    unit_code: str = Field(min_length=1, max_length=64)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    active: bool
    grants: list[GrantOut]


class Created(BaseModel):
    id: int


class SurveyOut(BaseModel):
    id: int
    code: str
    name: str
    status: str
    current_version: int | None
    unit_id: int


class AnswerOut(BaseModel):
    question_key: str
    item_code: str | None
    value_num: float | None
    value_text: str | None
    value_json: Any = None


class AspectOut(BaseModel):
    aspect: str
    label: str
    score: float
    evidence: str


class TextAnalysisOut(BaseModel):
    """What tiyan read out of one free-text answer (filled in the background after arrival)."""

    question_key: str
    language: str
    sentiment_label: str
    sentiment_score: float
    aspects: list[AspectOut]
    keywords: list[str]
    redacted_text: str
    model_version: str
    analyzed_at: dt.datetime


class ResponseIn(Strict):
    survey_id: int = Field(ge=1, le=2**62)
    unit_code: str = Field(min_length=1, max_length=64)
    answers: dict[str, Any]
    channel: str = Field(default="api", max_length=16)
    language: str = Field(default="zh-CN", max_length=16)
    staff_code: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=32)
    submitted_at: dt.datetime | None = None
    started_at: dt.datetime | None = None


class ResponseCreated(BaseModel):
    id: str
    created: bool


class ResponseOut(BaseModel):
    id: str
    source: str
    survey_code: str | None
    survey_version_id: int | None
    channel: str
    unit_code: str
    staff_code: str | None
    agent_id: int | None = Field(default=None, description="The user (interviewer) who entered "
                                                         "the answers, e.g. on a phone survey.")
    agent_name: str | None = None
    touchpoint_id: int | None
    touchpoint: str | None = None
    external_id: str | None = None
    language: str | None
    status: str
    started_at: dt.datetime | None
    submitted_at: dt.datetime | None
    answers: list[AnswerOut]
    text_analysis: list[TextAnalysisOut] = []


class ResponsePage(BaseModel):
    items: list[ResponseOut]
    next_cursor: str | None


class CustomerOut(BaseModel):
    id: str
    unit_id: int
    segment: str | None
    name: str
    external_id: str | None
    attributes: dict[str, Any]
    opted_out: bool
    erased_at: dt.datetime | None = Field(
        default=None, description="when the customer's personal data was erased (then name, "
                                  "attributes and identities are empty)")
    identities: list[dict[str, str]] = []


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_cursor: str | None


class EstimateOut(BaseModel):
    value: float | None
    low: float | None
    high: float | None
    n: int
    too_few: bool


class MonthOut(BaseModel):
    month: str
    responses: int
    nps: EstimateOut
    csat: EstimateOut


class ProblemOut(BaseModel):
    """A rejected row of an import: `reason` stays English (programs, older clients);
    `message` says it in the caller's language with the line and column in words, and `key`
    is its entry in the error catalogue (null for rows stored before problems had keys)."""

    line: int | None
    column: str | None
    reason: str
    value: str | None = None
    key: str | None = None
    message: str = ""


def problems_out(entries: Any, locale: str) -> list[ProblemOut]:
    """Stored (or reported) rejections as API rows in `locale`."""
    from tiyan.errors import error_catalogue, placed_text

    known = error_catalogue("en")
    return [ProblemOut(line=p.get("line"), column=p.get("column"), reason=str(p.get("reason")),
                       value=p.get("value"),
                       key=p["key"] if p.get("key") in known else None,
                       message=placed_text(p, locale))
            for p in entries or []]
