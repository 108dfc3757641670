"""The VOC review (客户之声复盘): which themes of dissatisfied feedback cost the most KPI points.

For a theme (an aspect mentioned negatively, or a case root cause) over the scored responses of a
period: share = responses in the theme / all responses; the theme's responses have KPI_with, the
others KPI_without; the points lost = share × (KPI_without − KPI_with): how much the overall
KPI would rise if the theme's respondents scored like everybody else. Themes are ranked by it.
The KPI is NPS (from 0–10 scores), or a mean: CSAT or any rated item (`kpi_value`).

A theme is *new* when it had no mention in the previous period of the same length and has at
least `NEW_MIN` now; *rising* when its share grew by at least half and by at least one point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tiyan.errors import InvalidInput

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
    kpi_with: float | None
    kpi_without: float | None
    points_lost: float  # KPI points; 0 when a side is empty


def nps_of(scores: Iterable[float]) -> float | None:
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return 100.0 * (promoters - detractors) / len(values)


def mean_of(scores: Iterable[float]) -> float | None:
    values = list(scores)
    return sum(values) / len(values) if values else None


ITEM_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class VocKpi:
    """The KPI themes are ranked by: `nps`, `csat` (mean of the csat item) or `item:<code>`
    (mean of that rated item)."""

    code: str  # as written: nps, csat, item:<code>
    item: str  # the answer item code scores come from
    kind: str  # nps | mean

    @property
    def value(self) -> Callable[[Iterable[float]], float | None]:
        return nps_of if self.kind == "nps" else mean_of


def parse_kpi(text: str) -> VocKpi:
    text = (text or "nps").strip()
    if text in ("nps", "csat"):
        return VocKpi(text, text, "nps" if text == "nps" else "mean")
    item = text.removeprefix("item:")
    if text.startswith("item:") and ITEM_CODE.match(item):
        return VocKpi(text, item, "nps" if item == "nps" else "mean")
    raise InvalidInput("voc.not_kpi_nps_csat", text=text, where="kpi")


def theme_impacts(scores: Mapping[int, float], themes: Mapping[str, Iterable[int]],
                  kpi: Callable[[Iterable[float]], float | None] = nps_of) -> list[ThemeImpact]:
    """Impact of each theme (code → response ids) on the KPI (default NPS) of `scores`
    (response id → score), largest loss first; responses without a score are left out."""
    total = len(scores)
    out = []
    for code, ids in themes.items():
        inside = {i for i in ids if i in scores}
        if not inside:
            continue
        with_ = kpi(scores[i] for i in inside)
        without = kpi(s for i, s in scores.items() if i not in inside)
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
