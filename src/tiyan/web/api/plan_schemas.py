"""API bodies and replies for action plans and the VOC review."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from tiyan.web.api.schemas import Strict

Kpi = Literal["nps", "csat"]
PlanStatus = Literal["active", "done", "cancelled"]
TaskStatus = Literal["todo", "doing", "done"]


class TaskIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    due_date: dt.date | None = None


class TaskPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    due_date: dt.date | None = Field(default=None, description="null clears the due date")
    status: TaskStatus | None = None


class PlanIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    kpi: Kpi
    units: list[str] = Field(min_length=1, max_length=50, description="unit codes; the first "
                             "is the plan's main unit")
    start_date: dt.date
    end_date: dt.date | None = None
    owner_email: str | None = Field(default=None, max_length=320)
    tasks: list[TaskIn] = Field(default_factory=list, max_length=200)


class PlanPatch(Strict):
    """Only the fields sent change; owner_email and end_date null clear them."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    kpi: Kpi | None = None
    units: list[str] | None = Field(default=None, min_length=1, max_length=50)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    owner_email: str | None = Field(default=None, max_length=320)
    status: PlanStatus | None = None


class TaskOut(BaseModel):
    id: int
    title: str
    due_date: dt.date | None
    status: str
    owner_name: str | None
    done_at: dt.datetime | None


class PlanOut(BaseModel):
    id: str
    title: str
    kpi: str
    status: str
    units: list[str]
    owner_email: str | None
    owner_name: str | None
    start_date: dt.date
    end_date: dt.date | None
    created_at: dt.datetime
    progress: float | None = Field(description="share of tasks done (null: no tasks)")
    tasks: list[TaskOut]


class UnitFiguresOut(BaseModel):
    unit: str
    before: float
    after: float
    n_before: int
    n_after: int


class EffectOut(BaseModel):
    kpi: str
    before_start: dt.date
    after_end: dt.date
    effect: float | None = Field(description="difference-in-differences in KPI points")
    low: float | None = Field(description="95% confidence interval, lower end")
    high: float | None
    p_value: float | None
    significant: bool | None
    problem: str | None = Field(description="why there is no effect: too_few_units, not_started")
    treated: list[UnitFiguresOut]
    control: list[UnitFiguresOut]
    units_left_out: int = Field(
        0, description="the plan's units outside the caller's units: neither shown nor counted "
                       "in the effect")


class PlanDetail(PlanOut):
    effect: EffectOut


class Deleted(BaseModel):
    deleted: bool


class VocThemeOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    mentions: int
    responses: int
    share: float
    kpi_with: float | None = Field(description="the KPI of the responses in the theme")
    points_lost: float
    trend: str
    before: int
    quotes: list[str]


class SlaOut(BaseModel):
    due: int
    on_time: int
    rate: float | None


class RecoveryOut(BaseModel):
    recovered: int
    reached: int
    rate: float | None


class VocReviewOut(BaseModel):
    start: dt.date
    end: dt.date
    timezone: str
    unit: str | None
    kpi: str
    responses: int = Field(description="responses with a score for the KPI")
    score: float | None
    score_before: float | None
    feedback: int
    aspects: list[VocThemeOut]
    causes: list[VocThemeOut]
    new_themes: list[str]
    cases_opened: int
    cases_by_status: dict[str, int]
    sla: SlaOut
    recovery: RecoveryOut


class SubscriptionIn(Strict):
    unit: str | None = Field(default=None, max_length=64, description="null: all your units")
    locale: Literal["zh-CN", "en"] = "zh-CN"
    kpi: str = Field(default="nps", max_length=80, description="nps, csat or item:<item code>")


class SubscriptionOut(BaseModel):
    subscribed: bool
    email: str | None = None
    unit: str | None = None
    locale: str | None = None
    kpi: str | None = None
    last_sent: str | None = None
