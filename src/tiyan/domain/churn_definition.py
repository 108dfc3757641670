"""When a customer counts as gone: a lapse interval per business segment.

Customers of different businesses come back at different paces: a car owner services every
6–12 months, a restaurant guest comes back within weeks. A customer has lapsed (churned) when
no purchase or visit follows their last one within their segment's lapse interval.

The interval is, in this order: the one configured for the segment (TIYAN_CHURN_WINDOWS), else
learned from the segment's own customers, as the ``quantile`` (default 0.9) of the gaps between
consecutive visit days (at least ``MINIMUM_GAPS`` gaps), else the installation's default
(TIYAN_CHURN_WINDOW_DAYS). Learned intervals are rounded up to whole days and held within
``SHORTEST_DAYS``..``LONGEST_DAYS``. A segment is the customer's unit's `industry` (its own
attribute or the nearest ancestor's), or "all" where none is set.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

OTHER_SEGMENT = "all"
MINIMUM_GAPS = 100
SHORTEST_DAYS = 14
LONGEST_DAYS = 730
SAME_VISIT = dt.timedelta(days=1)  # transactions less than a day apart are one visit

Source = Literal["configured", "learned", "default"]


@dataclass(frozen=True)
class LapseRule:
    """A segment's lapse interval, where it came from, and the gaps behind a learned one."""

    segment: str
    days: int
    source: Source
    quantile: float | None = None
    gaps: int = 0
    median_gap_days: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"segment": self.segment, "days": self.days, "source": self.source,
                "quantile": self.quantile, "gaps": self.gaps,
                "median_gap_days": self.median_gap_days}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> LapseRule:
        return cls(str(raw["segment"]), int(raw["days"]), raw["source"], raw.get("quantile"),
                   int(raw.get("gaps", 0)), raw.get("median_gap_days"))


def visit_gaps(moments: Iterable[dt.datetime]) -> list[float]:
    """Days between one customer's consecutive visits (a day or more apart), oldest first."""
    ordered = sorted(moments)
    gaps: list[float] = []
    last: dt.datetime | None = None
    for moment in ordered:
        if last is not None and moment - last < SAME_VISIT:
            continue
        if last is not None:
            gaps.append((moment - last) / dt.timedelta(days=1))
        last = moment
    return gaps


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def lapse_rule(segment: str, gaps: Sequence[float], *, configured: Mapping[str, int],
               q: float, default_days: int) -> LapseRule:
    """The segment's lapse interval from its configuration, its gaps, or the default."""
    if segment in configured:
        return LapseRule(segment, int(configured[segment]), "configured")
    if len(gaps) < MINIMUM_GAPS:
        return LapseRule(segment, default_days, "default", gaps=len(gaps))
    days = math.ceil(quantile(gaps, q))
    return LapseRule(segment, min(max(days, SHORTEST_DAYS), LONGEST_DAYS), "learned", q,
                     len(gaps), round(quantile(gaps, 0.5), 1))


def lapse_rules(gaps_by_segment: Mapping[str, Sequence[float]], *,
                configured: Mapping[str, int], q: float,
                default_days: int) -> dict[str, LapseRule]:
    """One rule per segment seen in the data (and per configured one), by segment name."""
    segments = sorted(set(gaps_by_segment) | set(configured))
    return {segment: lapse_rule(segment, gaps_by_segment.get(segment, ()),
                                configured=configured, q=q, default_days=default_days)
            for segment in segments}
