"""What a customer is worth to the business: RFM (recency, frequency, monetary) and segments.

Pure. RFM values come from the customer's transactions (every transaction is a visit); each of
R, F and M is scored 1–5 against quintile edges taken from the whole customer base, and the
scores name an RFM segment (champions, loyal, at risk, hibernating, new …). Rule-based segments
(a "VIP" attribute, spend at least X) come first: the first rule that matches names the segment.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tiyan.errors import InvalidInput

YEAR = dt.timedelta(days=365)
NEW_CUSTOMER_DAYS = 90
LOST_AFTER_DAYS = 365

RFM_SEGMENTS = ("champions", "loyal", "potential", "new", "needs_attention", "at_risk",
                "cant_lose", "hibernating", "lost", "prospect")
SEGMENT_NAMES: Mapping[str, tuple[str, str]] = {
    "vip": ("VIP", "VIP"),
    "champions": ("高价值忠诚客户", "champions"),
    "loyal": ("忠诚客户", "loyal"),
    "regular": ("普通客户", "regular"),
    "potential": ("潜力客户", "potential loyalists"),
    "new": ("新客户", "new"),
    "needs_attention": ("需要关注", "needs attention"),
    "at_risk": ("流失风险", "at risk"),
    "cant_lose": ("不能失去的客户", "can't lose them"),
    "hibernating": ("休眠客户", "hibernating"),
    "lost": ("已流失", "lost"),
    "prospect": ("潜在客户（无消费）", "prospect (no purchase)"),
}


@dataclass(frozen=True)
class Visit:
    """One transaction or visit: when and how much."""

    occurred_at: dt.datetime
    amount: Decimal


@dataclass(frozen=True)
class Rfm:
    """Days since the last visit (None: never), visits and spend in the last 365 days, and
    days since the first visit (None: never)."""

    recency_days: float | None
    frequency: int
    monetary: Decimal
    first_visit_days: float | None

    def to_json(self) -> dict[str, Any]:
        return {"recency_days": self.recency_days, "frequency": self.frequency,
                "monetary": str(self.monetary), "first_visit_days": self.first_visit_days}


def rfm_of(visits: Iterable[Visit], as_of: dt.datetime) -> Rfm:
    """RFM of one customer at ``as_of``; visits after ``as_of`` do not count."""
    past = [v for v in visits if v.occurred_at <= as_of]
    if not past:
        return Rfm(None, 0, Decimal("0"), None)
    last_year = [v for v in past if v.occurred_at > as_of - YEAR]
    latest = max(v.occurred_at for v in past)
    first = min(v.occurred_at for v in past)
    return Rfm(
        recency_days=(as_of - latest) / dt.timedelta(days=1),
        frequency=len(last_year),
        monetary=sum((v.amount for v in last_year), Decimal("0")),
        first_visit_days=(as_of - first) / dt.timedelta(days=1),
    )


@dataclass(frozen=True)
class RfmEdges:
    """Quintile edges (4 each, ascending) of recency days, frequency and monetary."""

    recency: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    def to_json(self) -> dict[str, list[float]]:
        return {"recency": list(self.recency), "frequency": list(self.frequency),
                "monetary": list(self.monetary)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RfmEdges:
        return cls(tuple(float(x) for x in raw["recency"]),
                   tuple(float(x) for x in raw["frequency"]),
                   tuple(float(x) for x in raw["monetary"]))


# Used until the customer base has been measured once: typical retail/service figures.
DEFAULT_EDGES = RfmEdges(recency=(30.0, 90.0, 180.0, 300.0), frequency=(1.0, 2.0, 3.0, 5.0),
                         monetary=(500.0, 1500.0, 4000.0, 10000.0))


def rfm_edges(values: Sequence[Rfm]) -> RfmEdges:
    """Quintile edges over the customers who bought at least once (defaults when none did)."""
    active = [v for v in values if v.recency_days is not None]
    if not active:
        return DEFAULT_EDGES
    return RfmEdges(
        recency=_quintiles([float(v.recency_days) for v in active if v.recency_days is not None]),
        frequency=_quintiles([float(v.frequency) for v in active]),
        monetary=_quintiles([float(v.monetary) for v in active]),
    )


def _quintiles(numbers: Sequence[float]) -> tuple[float, ...]:
    ordered = sorted(numbers)
    last = len(ordered) - 1
    return tuple(ordered[min(last, math.floor(last * q / 5))] for q in (1, 2, 3, 4))


@dataclass(frozen=True)
class RfmScore:
    """1 (worst) to 5 (best) each; 0 for a customer who never bought."""

    r: int
    f: int
    m: int

    @property
    def code(self) -> str:
        return f"{self.r}{self.f}{self.m}"


def score_rfm(rfm: Rfm, edges: RfmEdges) -> RfmScore:
    """Recent, frequent, big spenders score high: R counts down, F and M up."""
    if rfm.recency_days is None:
        return RfmScore(0, 0, 0)
    recency = 5 - bisect.bisect_left(edges.recency, rfm.recency_days)
    frequency = 1 + bisect.bisect_left(edges.frequency, float(rfm.frequency))
    monetary = 1 + bisect.bisect_left(edges.monetary, float(rfm.monetary))
    return RfmScore(max(1, recency), min(5, frequency), min(5, monetary))


def rfm_segment(rfm: Rfm, score: RfmScore) -> str:
    """The RFM segment (one of ``RFM_SEGMENTS``)."""
    if rfm.recency_days is None:
        return "prospect"
    if rfm.recency_days > LOST_AFTER_DAYS:
        return "lost"
    if rfm.first_visit_days is not None and rfm.first_visit_days <= NEW_CUSTOMER_DAYS:
        return "new"
    r, f, m = score.r, score.f, score.m
    if r >= 4 and f >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 4:
        return "potential"
    if r <= 2 and f >= 4 and m >= 4:
        return "cant_lose"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r == 3:
        return "needs_attention"
    if r == 2 and f <= 2:
        return "hibernating"
    return "lost" if r == 1 and f == 1 else "hibernating"


# --- rule-based segments -------------------------------------------------------------------

RULE_FIELDS = ("attribute", "monetary_at_least", "frequency_at_least")


@dataclass(frozen=True)
class SegmentRule:
    """A named segment a customer belongs to when every given test holds: an attribute equal
    to a value (``{"vip": true}``), spend in 365 days at least X, visits in 365 days at least N."""

    segment: str
    attribute: Mapping[str, Any] | None = None
    monetary_at_least: Decimal | None = None
    frequency_at_least: int | None = None

    def matches(self, attributes: Mapping[str, Any], rfm: Rfm) -> bool:
        if self.attribute is not None and any(
                _normal(attributes.get(k)) != _normal(v) for k, v in self.attribute.items()):
            return False
        if self.monetary_at_least is not None and rfm.monetary < self.monetary_at_least:
            return False
        return self.frequency_at_least is None or rfm.frequency >= self.frequency_at_least


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1", "是"):
            return True
        if lowered in ("false", "no", "0", "否"):
            return False
        return lowered
    return value


DEFAULT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("vip", attribute={"vip": True}),
    SegmentRule("vip", monetary_at_least=Decimal("50000")),
)


def parse_segment_rules(raw: Any, where: str = "segment_rules") -> tuple[SegmentRule, ...]:
    """Rules from JSON/YAML: a list of {segment, attribute?, monetary_at_least?,
    frequency_at_least?}; errors name the rule and the field."""
    if not isinstance(raw, list):
        raise InvalidInput("customer_value.segment_rules_must_list", where=where)
    rules = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput("customer_value.segment_rule_must_mapping", where=here)
        unknown = set(item) - {"segment", *RULE_FIELDS}
        if unknown:
            raise InvalidInput("common.unknown_field", unknown=sorted(unknown), where=here)
        segment = item.get("segment")
        if not isinstance(segment, str) or not segment.strip() or len(segment) > 64:
            raise InvalidInput("customer_value.segment_must_name_characters",
                               where=f"{here}.segment")
        if not any(item.get(name) is not None for name in RULE_FIELDS):
            raise InvalidInput("customer_value.least", rule_fields=', '.join(RULE_FIELDS),
                               where=here)
        attribute = item.get("attribute")
        if attribute is not None and not isinstance(attribute, dict):
            raise InvalidInput("customer_value.attribute_must_map_names", where=f"{here}.attribute")
        rules.append(SegmentRule(
            segment.strip(), attribute=attribute,
            monetary_at_least=_opt_decimal(item.get("monetary_at_least"),
                                           f"{here}.monetary_at_least"),
            frequency_at_least=_opt_int(item.get("frequency_at_least"),
                                        f"{here}.frequency_at_least")))
    return tuple(rules)


def _opt_decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput("customer_value.not_amount", value=value, where=where)
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput("customer_value.not_amount", value=value, where=where) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("customer_value.not_amount_more", value=value, where=where)
    return amount


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("customer_value.not_whole_number_more", value=value, where=where)
    return value


def segment_of(attributes: Mapping[str, Any], rfm: Rfm, edges: RfmEdges,
               rules: Sequence[SegmentRule] = DEFAULT_RULES) -> str:
    """The first matching rule's segment, else the RFM segment."""
    for rule in rules:
        if rule.matches(attributes, rfm):
            return rule.segment
    return rfm_segment(rfm, score_rfm(rfm, edges))


def segment_label(segment: str | None, locale: str) -> str:
    """The segment's name in the UI language (unknown names are shown as they are)."""
    if not segment:
        return ""
    names = SEGMENT_NAMES.get(segment)
    if names is None:
        return segment
    return names[0] if locale.startswith("zh") else names[1]
