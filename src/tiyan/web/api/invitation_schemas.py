"""API bodies and replies for invitation rules, invitations and business events
(see docs/channels.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from tiyan.web.api.schemas import Strict

Scalar = str | int | float | bool | None


class RuleIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    event_type: str = Field(min_length=1, max_length=64, description="e.g. repair_order_closed")
    survey: str = Field(min_length=1, max_length=64, description="survey code")
    unit: str = Field(min_length=1, max_length=64,
                      description="unit code; the rule applies to events of its subtree")
    channel: str = Field(description="email, sms or phone (a call on the agents' worklist)")
    delay_minutes: int = Field(default=0, description="send this long after the event")
    expires_days: int = Field(default=14, description="the link works this many days")
    reminder_days: list[int] = Field(default_factory=list, max_length=5,
                                     description="remind on these days after sending, e.g. [3]")
    sampling_percent: float = Field(default=100.0, description="invite this share of customers")
    quarantine_days: int | None = Field(
        default=None, description="not more than once in N days (empty: TIYAN_CONTACT_"
                                  "QUARANTINE_DAYS)")
    active: bool = True


class RuleOut(BaseModel):
    id: int
    name: str
    event_type: str
    survey: str
    unit: str
    channel: str
    delay_minutes: int
    expires_days: int
    reminder_days: list[int]
    sampling_percent: float
    quarantine_days: int | None
    active: bool
    created_at: dt.datetime


class InvitationIn(Strict):
    survey: str = Field(min_length=1, max_length=64, description="survey code")
    unit: str = Field(min_length=1, max_length=64, description="unit code")
    customer: str = Field(min_length=1, max_length=32, description="customer id")
    channel: str = Field(description="email, sms or phone (a call on the agents' worklist)")
    staff: str | None = Field(default=None, max_length=64, description="staff code")
    touchpoint: str | None = Field(default=None, max_length=129,
                                   description="touchpoint code or journey/code")
    send_at: AwareDatetime | None = Field(default=None, description="default: now")
    expires_days: int = 14
    reminder_days: list[int] = Field(default_factory=list, max_length=5)
    data: dict[str, Scalar] = Field(default_factory=dict, max_length=50)


class TimelineStep(BaseModel):
    at: dt.datetime
    status: str
    detail: dict[str, Any]


class InvitationOut(BaseModel):
    id: str
    survey: str
    unit: str
    customer_id: str | None
    staff: str | None
    touchpoint: str | None
    channel: str
    contact: str | None = Field(description="masked without the view_pii permission")
    status: str = Field(description="queued, sent, opened, started, completed, bounced, "
                                    "failed, expired or suppressed")
    reason: str | None = Field(description="why it was suppressed: opted_out, no_contact, "
                                           "quarantined or sampled_out")
    rule_id: int | None
    created_at: dt.datetime
    send_at: dt.datetime | None
    expires_at: dt.datetime
    sent_at: dt.datetime | None
    opened_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    bounced_at: dt.datetime | None
    attempts: int
    last_error: str | None
    reminders_sent: int
    next_reminder_at: dt.datetime | None


class InvitationDetail(InvitationOut):
    timeline: list[TimelineStep]


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class EventCustomerIn(Strict):
    id: str | None = Field(default=None, min_length=1, max_length=32,
                           description="tiyan's customer id")
    external_id: str | None = Field(default=None, min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=16, description="zh-CN or en")


class EventIn(Strict):
    id: str | None = Field(default=None, min_length=1, max_length=128,
                           description="your id of the event; sent again, it is taken once")
    type: str = Field(min_length=1, max_length=64, description="e.g. repair_order_closed")
    unit: str = Field(min_length=1, max_length=64, description="unit code")
    customer: EventCustomerIn
    at: AwareDatetime | None = Field(default=None, description="when it happened (default: now)")
    staff: str | None = Field(default=None, min_length=1, max_length=64)
    touchpoint: str | None = Field(default=None, min_length=1, max_length=129)
    data: dict[str, Scalar] = Field(default_factory=dict, max_length=50,
                                    description="kept on the invitations it creates")


class EventInvitation(BaseModel):
    id: str
    rule_id: int
    survey: str
    channel: str
    status: str
    reason: str | None
    send_at: dt.datetime


class EventOut(BaseModel):
    id: str
    duplicate: bool = Field(description="true when this event id was received before")
    customer_id: str
    invitations: list[EventInvitation]


class SmsStatusOut(BaseModel):
    result: str = Field(description="delivered, failed or ignored")
