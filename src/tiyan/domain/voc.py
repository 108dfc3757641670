"""The VOC review (客户之声复盘): which themes of dissatisfied feedback cost the most KPI points.

For a theme (an aspect mentioned negatively, or a case root cause) over the NPS responses of a
period: share = responses in the theme / all responses; the theme's responses have NPS_with, the
others NPS_without; the points lost = share × (NPS_without − NPS_with): how much the overall
NPS would rise if the theme's respondents scored like everybody else. Themes are ranked by it.

A theme is *new* when it had no mention in the previous period of the same length and has at
least `NEW_MIN` now; *rising* when its share grew by at least half and by at least one point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

NEW_MIN = 3
RISE_FACTOR = 1.5
RISE_POINTS = 1.0  # percentage points of share


class Trend(StrEnum):
    NEW = "new"
    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"


@dataclass(frozen=True)
class ThemeImpact:
    code: str
    responses: int  # scored responses in the theme
    share: float  # of all scored responses, 0..1
    nps_with: float | None
    nps_without: float | None
    points_lost: float  # NPS points; 0 when a side is empty


def nps_of(scores: Iterable[float]) -> float | None:
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return 100.0 * (promoters - detractors) / len(values)


def theme_impacts(scores: Mapping[int, float],
                  themes: Mapping[str, Iterable[int]]) -> list[ThemeImpact]:
    """Impact of each theme (code → response ids) on the NPS of `scores` (response id → 0..10),
    largest loss first; responses without a score are left out."""
    total = len(scores)
    out = []
    for code, ids in themes.items():
        inside = {i for i in ids if i in scores}
        if not inside:
            continue
        with_ = nps_of(scores[i] for i in inside)
        without = nps_of(s for i, s in scores.items() if i not in inside)
        share = len(inside) / total
        lost = share * (without - with_) if with_ is not None and without is not None else 0.0
        out.append(ThemeImpact(code, len(inside), share, with_, without, lost))
    return sorted(out, key=lambda x: (-x.points_lost, -x.responses, x.code))


def trend(now_count: int, now_total: int, before_count: int, before_total: int) -> Trend:
    """How a theme's share moved against the previous period."""
    now_share = 100.0 * now_count / now_total if now_total else 0.0
    before_share = 100.0 * before_count / before_total if before_total else 0.0
    if before_count == 0:
        return Trend.NEW if now_count >= NEW_MIN else Trend.STEADY
    if now_share >= before_share * RISE_FACTOR and now_share - before_share >= RISE_POINTS:
        return Trend.RISING
    if now_share * RISE_FACTOR <= before_share and before_share - now_share >= RISE_POINTS:
        return Trend.FALLING
    return Trend.STEADY


@dataclass(frozen=True)
class SlaCompliance:
    due: int  # timers whose due time has passed or that were met
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.due if self.due else None
