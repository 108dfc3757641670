"""API bodies and replies for outbound webhooks (see docs/webhooks.md)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from tiyan.web.api.schemas import Strict


class WebhookIn(Strict):
    url: str = Field(min_length=8, max_length=2000, description="http(s) address to POST to")
    events: list[str] = Field(min_length=1, max_length=10,
                              description="response.submitted and/or feedback.imported")
    unit_code: str = Field(min_length=1, max_length=64,
                           description="only events about this unit's subtree are sent")


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    unit_code: str
    active: bool
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_… signing secret; shown only in this reply")


class DeliveryOut(BaseModel):
    id: str = Field(description="the message id, sent as the webhook-id header")
    event_type: str
    status: str = Field(description="pending, delivered, failed or cancelled")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
