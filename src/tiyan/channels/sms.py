"""SMS through an HTTP gateway: one form POST per message, the kind real SMS providers accept.

The provider is configuration (TIYAN_SMS_*): the URL, the names of the form fields for the
number, the text, the sender and our reference, and an authentication header. For example

    POST https://sms.example.com/send
    Authorization: Bearer <secret>
    Content-Type: application/x-www-form-urlencoded

    to=13800138000&text=...&from=TIYAN&reference=<invitation id>

A 2xx answer means the provider accepted the message; 400, 410 or 422 mean it never will (a
malformed or refused number): permanent. Anything else is worth trying again.
The provider later reports delivery to the status callback (see tiyan.services.invitations).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tiyan.channels import outbound
from tiyan.metrics import delivered

log = logging.getLogger(__name__)

USER_AGENT = "tiyan-sms/1"
# Answers that say this message will never go out (a malformed or refused number); any other
# failure (the gateway down, our credentials refused, rate limits) is retried, then fails.
PERMANENT_REFUSALS = frozenset({400, 410, 422})


@dataclass(frozen=True)
class SmsGateway:
    url: str
    to_field: str = "to"
    text_field: str = "text"
    sender_field: str = "from"
    reference_field: str = "reference"
    sender: str = ""
    auth_header: str = ""
    auth_value: str = ""
    timeout: float = 10.0
    policy: outbound.Policy = field(default_factory=outbound.Policy)


@dataclass(frozen=True)
class SmsOutcome:
    error: str | None = None
    permanent: bool = False
    status_code: int | None = None


def send_sms(gateway: SmsGateway, to: str, text: str, reference: str) -> SmsOutcome:
    """Hand one message to the gateway; never raises for network trouble."""
    if not gateway.url:
        return SmsOutcome(outbound.NOT_CONFIGURED)
    form = {gateway.to_field: to, gateway.text_field: text}
    if gateway.reference_field:
        form[gateway.reference_field] = reference
    if gateway.sender and gateway.sender_field:
        form[gateway.sender_field] = gateway.sender
    headers = {"user-agent": USER_AGENT}
    if gateway.auth_header and gateway.auth_value:
        headers[gateway.auth_header] = gateway.auth_value
    answer = outbound.post(gateway.url, gateway.policy, timeout=gateway.timeout,
                           headers=headers, data=form)
    delivered("sms", answer.delivered)
    if not answer.delivered:
        log.warning("SMS delivery failed", extra={"channel": "sms", "error": answer.error})
    return SmsOutcome(answer.error, answer.status_code in PERMANENT_REFUSALS,
                      answer.status_code)
