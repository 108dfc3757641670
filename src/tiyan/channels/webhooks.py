"""Outbound webhooks on the wire, per the Standard Webhooks spec (standardwebhooks.com).

Each request is a POST of a JSON body with three headers:

- `webhook-id`: the message id (the same on every retry of one message, so receivers can
  deduplicate),
- `webhook-timestamp`: integer Unix seconds of this attempt,
- `webhook-signature`: `v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with
  the base64-decoded part of the endpoint's secret `whsec_<base64 key>`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable

from tiyan.channels import outbound
from tiyan.metrics import delivered

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
KEY_BYTES = 32  # the spec asks for 24 to 64 random bytes
USER_AGENT = "tiyan-webhooks/1"


def new_secret() -> str:
    """A fresh endpoint secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    body = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(body)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, at: dt.datetime, body: bytes) -> dict[str, str]:
    timestamp = int(at.timestamp())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def post(url: str, body: bytes, headers: dict[str, str], timeout: float,
         policy: outbound.Policy, http: outbound.Client | None = None, *,
         channel: str = "webhook", read_answer: int = 0,
         refusal: Callable[[bytes], str | None] | None = None) -> outbound.Outcome:
    """POST one signed message to a target the policy allows; never raises for network
    trouble (it is in the outcome, as a short error class). `http`: a client
    (outbound.client) shared by the messages of a batch. `channel` names it in the metrics
    and the log: webhook, or chat for a chat app's incoming webhook. `read_answer`: how many
    bytes of the answer's body to keep; `refusal` reads from them the error of a receiver that
    answers 2xx but did not take the message (a chat robot), which then counts as failed."""
    answer = outbound.post(url, policy, timeout=timeout, headers=headers, content=body,
                           http=http, read_answer=read_answer)
    if answer.delivered and refusal is not None:
        refused = refusal(answer.answer)
        if refused is not None:
            answer = outbound.Outcome(None, refused, answer.answer)
    delivered(channel, answer.delivered)
    if not answer.delivered:
        log.warning("%s delivery failed", channel, extra={"channel": channel,
                                                          "error": answer.error})
    return answer
