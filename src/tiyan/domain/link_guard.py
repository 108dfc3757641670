"""Ballot stuffing on anonymous links: the limits of a link and the judgement of a submission.

An anonymous link (a QR code on a counter) can be answered by anyone, so a script could post
twenty promoter answers in a few seconds. Nothing is refused: a response that goes over a
link's limits is stored, flagged with its reasons and left out of every figure until a manager
restores it.

- `device`: this device (its signed cookie) already sent the link `device_limit` responses
  within `device_window_hours`;
- `network`: else, the same network and browser did (a keyed hash of the client's /24, IPv6
  /48, and user agent, never the address itself): a script that drops its cookies, or, now
  and then, two people with the same phone on one Wi-Fi — which is why nothing is refused;
- `burst`: the link took `burst_limit` responses from anyone within `burst_window_minutes`;
- `identical`: two responses with exactly these answers came through the link within the burst
  window already — only for answers that say something of their own (three answers or more,
  or a written one): on a two-question survey many people answer alike.

A limit of 0 turns its check off (a kiosk that many people answer on one device).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from tiyan.errors import InvalidInput

REASONS = ("device", "network", "burst", "identical")
IDENTICAL_LIMIT = 2  # the third identical set of answers within the burst window is flagged
LIMITS = {"device_limit": (0, 100), "device_window_hours": (1, 24 * 30),
          "burst_limit": (0, 10_000), "burst_window_minutes": (1, 24 * 60)}


@dataclass(frozen=True)
class LinkPolicy:
    device_limit: int = 1  # completed responses per device and window; 0: no device check
    device_window_hours: int = 24
    burst_limit: int = 20  # responses per link within the burst window; 0: no burst check
    burst_window_minutes: int = 10

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in LIMITS}


def parse_policy(values: Mapping[str, Any]) -> LinkPolicy:
    """A policy from a form or JSON body; InvalidInput names the field out of range."""
    parsed: dict[str, int] = {}
    for name, (low, high) in LIMITS.items():
        raw = values.get(name, getattr(LinkPolicy(), name))
        try:
            number = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise InvalidInput("link_guard.must_whole_number", name=name, low=low, high=high,
                               where=name)
        parsed[name] = number
    return LinkPolicy(**parsed)


@dataclass(frozen=True)
class Seen:
    """What a link already took: from this device's cookie and from its network and browser
    in the device window, from anyone in the burst window, and with the same answers in the
    burst window."""

    device: int = 0
    network: int = 0
    burst: int = 0
    identical: int = 0


def judge(policy: LinkPolicy, seen: Seen) -> tuple[str, ...]:
    """The reasons to flag a submission (empty: it counts)."""
    reasons = []
    if policy.device_limit and seen.device >= policy.device_limit:
        reasons.append("device")
    elif policy.device_limit and seen.network >= policy.device_limit:
        reasons.append("network")
    if policy.burst_limit and seen.burst >= policy.burst_limit:
        reasons.append("burst")
    if seen.identical >= IDENTICAL_LIMIT:
        reasons.append("identical")
    return tuple(reasons)


def distinctive(answers: Mapping[str, Any]) -> bool:
    """Whether a set of answers is unlikely to be given twice by chance: three answers or
    more, or a written answer of a few characters."""
    written = any(isinstance(v, str) and len(v.strip()) >= 4 for v in answers.values())
    return written or sum(1 for v in answers.values() if v not in (None, "", [])) >= 3


def network_of(address: str) -> str:
    """The /24 of an IPv4 address, the /48 of an IPv6 one; anything else as given."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 4:
        return str(IPv4Network(f"{parsed}/24", strict=False))
    return str(IPv6Network(f"{parsed}/48", strict=False))


def fingerprint(key: bytes, address: str, user_agent: str) -> str:
    """A keyed hash of the client's network and user agent: equal for one browser on one
    network, and not reversible to the address without the installation's key."""
    message = f"{network_of(address)}\n{user_agent[:512]}".encode()
    return hmac.new(key, b"link-guard\n" + message, hashlib.sha256).hexdigest()[:40]


def answers_digest(answers: Mapping[str, Any]) -> str:
    text = json.dumps(answers, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]
