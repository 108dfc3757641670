"""API bodies and replies for the closed loop: alert rules, cases, callbacks, notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from tiyan.web.api.schemas import Strict


class AlertRuleIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    unit_code: str = Field(min_length=1, max_length=64,
                           description="the rule looks at responses in this unit's subtree")
    condition: dict[str, Any] = Field(description='condition tree, e.g. {"any": [{"score": '
                                      '{"item": "nps", "op": "<=", "value": 6}}, '
                                      '{"sentiment": "negative"}]}')
    action: dict[str, Any] = Field(description='{"kind": "case" | "notify" | "both", '
                                   '"route_role": "unit_manager", "callback": true}')
    scope: dict[str, list[str]] | None = Field(
        default=None, description='{"surveys": [codes], "touchpoints": [codes], '
                                  '"channels": ["sms", "qr", …]} (each: any of them)')
    sla: dict[str, Any] | None = Field(
        default=None, description='{"acknowledge": {"hours": 4, "working": true}, "contact": '
                                  '{"hours": 24}, "close": {"hours": 72}} (these are the default)')
    active: bool = True


class AlertRuleOut(BaseModel):
    id: str
    name: str
    unit_code: str
    condition: dict[str, Any]
    action: dict[str, Any]
    scope: dict[str, list[str]]
    sla: dict[str, Any] | None
    active: bool
    created_at: dt.datetime


class Deleted(BaseModel):
    deleted: bool = Field(description="false: the rule had opened cases and was deactivated")


class CaseOut(BaseModel):
    id: str
    title: str
    status: str
    unit_code: str
    owner_email: str | None
    rule: str | None
    response_id: str | None
    root_cause: str | None
    escalation_level: int
    created_at: dt.datetime
    due_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    first_contact_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None


class CaseEventOut(BaseModel):
    at: dt.datetime
    kind: str
    user_email: str | None
    detail: dict[str, Any]


class TimerOut(BaseModel):
    kind: str
    due_at: dt.datetime
    met_at: dt.datetime | None
    breached_at: dt.datetime | None


class NotificationOut(BaseModel):
    id: int
    event: str
    channel: str
    target: str
    status: str = Field(description="queued, retrying, sent or failed")
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    sent_at: dt.datetime | None


class CaseRuleOut(BaseModel):
    id: str
    name: str


class CaseDetail(CaseOut):
    rules: list[CaseRuleOut] = Field(
        default_factory=list, description="every alert rule the response matched, the case's "
        "own rule first")
    events: list[CaseEventOut]
    timers: list[TimerOut]
    notifications: list[NotificationOut]


class StatusIn(Strict):
    status: str = Field(description="acknowledged, in_progress, resolved, closed")
    note: str | None = Field(default=None, max_length=5000)


class NoteIn(Strict):
    note: str = Field(min_length=1, max_length=5000)


class RootCauseIn(Strict):
    code: str = Field(min_length=1, max_length=64)


class CallbackOut(BaseModel):
    id: str
    unit_code: str
    customer_name: str | None
    case_id: str | None
    response_id: str
    reason: str
    status: str
    due_at: dt.datetime


class CallIn(Strict):
    outcome: str = Field(description="reached, no_answer, refused, call_back")
    recovered: bool | None = Field(default=None, description="required when reached")
    satisfaction: float | None = Field(default=None, ge=0, le=10)
    note: str | None = Field(default=None, max_length=5000)


class RecoveryOut(BaseModel):
    recovered: int
    reached: int
    rate: float | None


class PreferenceIn(Strict):
    channel: str = Field(description="email, webhook, wecom, dingtalk, feishu, slack")
    target: str = Field(min_length=3, max_length=1000, description="address or URL")
    events: list[str] = Field(default_factory=list,
                              description="case.opened, case.escalated, alert; empty: all")
    active: bool = True
    robot_secret: str | None = Field(default=None, max_length=100, description=(
        "A DingTalk or Feishu robot's signing secret (加签, e.g. SEC…); never shown again"))
    mentions: list[str] = Field(default_factory=list, max_length=20, description=(
        "Mobile numbers a WeCom or DingTalk robot @-mentions"))


class PreferenceOut(BaseModel):
    channel: str
    target: str
    events: list[str]
    active: bool
    signed: bool = Field(default=False, description="the robot has a signing secret")
    mentions: list[str] = Field(default_factory=list)
    secret: str | None = Field(default=None, description="webhook signing secret, shown once")
