"""How many billed segments an SMS takes (3GPP TS 23.038 / 23.040).

A text made only of GSM 7-bit characters fits 160 characters in one message; split, each segment
carries 153 (the rest is the concatenation header). Characters of the extension table (such as
€ [ ] { } ^ ~ \\ |) cost two. Any other character (Chinese, most emoji) switches the whole text to
UCS-2: 70 UTF-16 units in one message, 67 per segment when split. A character is never split
across two segments (an escaped GSM character or a surrogate pair moves to the next one).
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")
SINGLE = {"gsm7": 160, "ucs2": 70}
PER_SEGMENT = {"gsm7": 153, "ucs2": 67}


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def _costs(text: str) -> tuple[str, list[int]]:
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        return "gsm7", [2 if c in GSM7_EXTENDED else 1 for c in text]
    return "ucs2", [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_length(text: str) -> SmsLength:
    """The encoding, length in units and number of segments of `text` (0 for an empty text)."""
    encoding, costs = _costs(text)
    units = sum(costs)
    if units <= SINGLE[encoding]:
        return SmsLength(encoding, units, 1 if units else 0)
    size, segments, used = PER_SEGMENT[encoding], 1, 0
    for cost in costs:
        if used + cost > size:
            segments, used = segments + 1, 0
        used += cost
    return SmsLength(encoding, units, segments)
