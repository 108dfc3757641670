"""API bodies and replies for passwords and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from tiyan.web.api.schemas import Strict

Password = Field(min_length=1, max_length=1024)


class PasswordChange(Strict):
    current_password: str = Password
    new_password: str = Password


class PasswordReset(Strict):
    new_password: str = Password


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    scope: Literal["read", "write", "admin"] = Field(
        default="read", description="read: GET only; write: also changes, but not the "
                                    "administrative endpoints; admin: everything the user may")
    expires_days: int | None = Field(
        default=None, ge=1, le=3650,
        description="lifetime in days (none: TIYAN_API_TOKEN_DAYS, 90 unless configured)")
    never_expires: bool = Field(default=False, description="a token that never expires; "
                                                           "only with expires_days left out")


class TokenOut(BaseModel):
    id: int
    user_id: int
    email: str
    name: str
    scope: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(BaseModel):
    id: int
    token: str = Field(description="the secret: shown this once, only its hash is kept")
    name: str
    scope: str
    expires_at: dt.datetime | None
