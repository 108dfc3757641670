"""Journeys: touchpoints in order, sub-touchpoints, and who listens at each.

A journey (car after-sales, hotel stay …) is a sequence of touchpoints; a touchpoint may have
sub-touchpoints, ordered among their siblings. At each touchpoint, surveys *listen* through
channels (a QR code at the counter, an SMS after the repair order closes …).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tiyan.domain.responses import Channel
from tiyan.errors import Conflict, InvalidInput, Phrase

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Channels a survey can listen through at a touchpoint (imports are not listening).
LISTENING_CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel if c != Channel.IMPORT)


def check_code(code: str, where: str) -> str:
    """Journey and touchpoint codes: lower-case letters, digits and _, starting with a letter."""
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise InvalidInput(
            "journeys.not_valid_code_lower", code=code, where=where)
    return code


def check_name(name: str, where: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("journeys.name_needed_most_characters", where=where)
    return name


def check_channels(channels: Iterable[str], where: str = "channels") -> list[str]:
    """The channels of a listener: known, without repeats, in the canonical order."""
    chosen = list(channels)
    unknown = sorted(set(chosen) - set(LISTENING_CHANNELS))
    if unknown:
        raise InvalidInput("journeys.unknown_channel_choose", unknown=', '.join(unknown),
                           listening_channels=', '.join(LISTENING_CHANNELS), where=where)
    if not chosen:
        raise InvalidInput("journeys.choose_least_channel", where=where)
    return [c for c in LISTENING_CHANNELS if c in chosen]


def moved(order: Sequence[str], code: str, position: int) -> list[str]:
    """`order` with `code` moved to `position` (1-based, clamped to the ends)."""
    if code not in order:
        raise InvalidInput("journeys.not_among_these_touchpoints", code=code, where="touchpoint")
    rest = [c for c in order if c != code]
    index = min(max(position, 1), len(order)) - 1
    return [*rest[:index], code, *rest[index:]]


def shifted(order: Sequence[str], code: str, step: int) -> list[str]:
    """`order` with `code` moved `step` places (negative: earlier)."""
    if code not in order:
        return moved(order, code, 1)  # raises: names the unknown touchpoint
    return moved(order, code, list(order).index(code) + 1 + step)


@dataclass(frozen=True)
class Use:
    """What still refers to a touchpoint or journey (table -> rows), so it cannot be deleted;
    `hidden`: rows of units the reader may not see, which no message describes."""

    counts: Mapping[str, int]
    hidden: int = 0

    @property
    def in_use(self) -> bool:
        return any(self.counts.values()) or self.hidden > 0

    def describe(self) -> str:
        return ", ".join(f"{n} {name}" for name, n in sorted(self.counts.items()) if n)


def check_unused(use: Use, what: Phrase, where: str) -> None:
    """409 when anything refers to it; the message names only what the reader may see."""
    if not use.in_use:
        return
    seen = use.describe()
    if seen:
        raise Conflict("journeys.still_remove_those_first", what=what, seen=seen, where=where)
    raise Conflict("journeys.still", what=what, where=where)
