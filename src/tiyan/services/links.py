"""Links that respondents open: anonymous survey links (and their QR codes) and invitations.

Anonymous link (one per survey × unit, optionally × staff or touchpoint; never expires):
    {public_url}/s/{token}   token payload {"s": survey_id, "u": unit_id, "st"?: staff_id,
                                            "tp"?: touchpoint_id}
Personal invitation (single use, expires):
    {public_url}/i/{token}   token payload {"i": invitation public_id, "x": expiry, epoch s}
Unsubscribe (one click, confirmed with a POST; never expires):
    {public_url}/u/{token}   token payload {"o": customer public_id, "i"?: invitation public_id}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tiyan.context import Context
from tiyan.security import BadSignature, read_token, sign_token


class LinkProblem(Exception):
    """A link that cannot be used: `reason` is "tampered" or "expired"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AnonymousTarget:
    survey_id: int
    unit_id: int
    staff_id: int | None = None
    touchpoint_id: int | None = None


def anonymous_token(ctx: Context, target: AnonymousTarget) -> str:
    payload: dict[str, object] = {"s": target.survey_id, "u": target.unit_id}
    if target.staff_id is not None:
        payload["st"] = target.staff_id
    if target.touchpoint_id is not None:
        payload["tp"] = target.touchpoint_id
    return sign_token(payload, ctx.signing_key())


def anonymous_url(ctx: Context, target: AnonymousTarget) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/s/{anonymous_token(ctx, target)}"


def read_anonymous_token(ctx: Context, token: str) -> AnonymousTarget:
    try:
        payload = read_token(token, ctx.signing_key())
        return AnonymousTarget(
            survey_id=_int(payload["s"]), unit_id=_int(payload["u"]),
            staff_id=_int(payload["st"]) if "st" in payload else None,
            touchpoint_id=_int(payload["tp"]) if "tp" in payload else None,
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkProblem("tampered") from None


def invitation_token(ctx: Context, invitation_public_id: str, expires_at: dt.datetime) -> str:
    return sign_token({"i": invitation_public_id, "x": int(expires_at.timestamp())},
                      ctx.signing_key())


def invitation_url(ctx: Context, invitation_public_id: str, expires_at: dt.datetime) -> str:
    token = invitation_token(ctx, invitation_public_id, expires_at)
    return f"{ctx.settings.public_url.rstrip('/')}/i/{token}"


def read_invitation_token(ctx: Context, token: str) -> str:
    """The invitation's public id, or LinkProblem("tampered" | "expired")."""
    try:
        payload = read_token(token, ctx.signing_key())
        public_id, expiry = str(payload["i"]), _int(payload["x"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkProblem("tampered") from None
    if ctx.now().timestamp() >= expiry:
        raise LinkProblem("expired")
    return public_id


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


# --- unsubscribe (opt-out) links -------------------------------------------------------------
# {public_url}/u/{token}   token payload {"o": customer public_id, "i"?: invitation public_id}
# No expiry: an unsubscribe link in an old message must keep working.

def unsubscribe_token(ctx: Context, customer_public_id: str,
                      invitation_public_id: str | None = None) -> str:
    payload: dict[str, object] = {"o": customer_public_id}
    if invitation_public_id is not None:
        payload["i"] = invitation_public_id
    return sign_token(payload, ctx.signing_key())


def unsubscribe_url(ctx: Context, customer_public_id: str,
                    invitation_public_id: str | None = None) -> str:
    token = unsubscribe_token(ctx, customer_public_id, invitation_public_id)
    return f"{ctx.settings.public_url.rstrip('/')}/u/{token}"


@dataclass(frozen=True)
class UnsubscribeTarget:
    customer_public_id: str
    invitation_public_id: str | None = None


def read_unsubscribe_token(ctx: Context, token: str) -> UnsubscribeTarget:
    """Whom an unsubscribe link names, or LinkProblem("tampered")."""
    try:
        payload = read_token(token, ctx.signing_key())
        customer, invitation = payload["o"], payload.get("i")
        if not isinstance(customer, str) or not (invitation is None or isinstance(invitation, str)):
            raise TypeError("not a text")
    except (BadSignature, KeyError, TypeError):
        raise LinkProblem("tampered") from None
    return UnsubscribeTarget(customer, invitation)
