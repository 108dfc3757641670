"""Alert rules: a condition tree over one response (or feedback record), its scope and action.

A rule's condition is JSON parsed at the edge into the typed nodes below; evaluation is pure:
`matches(condition, facts)` with `ResponseFacts` gathered by the service after text analysis.

    {"any": [{"score": {"item": "nps", "op": "<=", "value": 6}},
             {"all": [{"sentiment": "negative"}, {"keywords": ["退款", "refund"]}]}]}

Leaves: score (one item against a threshold), any_item (some rated item, NPS excluded, against a
threshold), answered_no (a yes/no item answered "no"), sentiment, aspect_negative (an aspect
code, or "*" for any), keywords (any of them in the texts), customer (segment and/or one
attribute), repeat_complaint (the same customer complained before within N days), choice (a
single or multiple choice item answered with any of some options:
``{"choice": {"item": "reason", "any_of": ["wait", "price"]}}``), aspect (an aspect code, or "*",
talked about with a sentiment: ``{"aspect": {"code": "waiting", "sentiment": "positive"}}``;
aspect_negative is its short form for "negative"), churn_risk
(the customer's latest stored churn probability against a threshold:
``{"churn_risk": {"op": ">=", "value": 0.7}}`` or the short ``{"churn_risk": {">=": 0.7}}``;
never true for a response without a scored customer).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tiyan.errors import InvalidInput

OPS: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
SENTIMENTS = ("negative", "neutral", "positive")
MAX_DEPTH = 6


@dataclass(frozen=True)
class ResponseFacts:
    """What a rule may look at, for one response, after its texts were analysed."""

    at: dt.datetime
    scores: Mapping[str, float] = field(default_factory=dict)  # by item code and question key
    rated_items: Mapping[str, float] = field(default_factory=dict)  # scaled items, NPS excluded
    yes_no: Mapping[str, bool] = field(default_factory=dict)  # by item code and question key
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)  # option codes chosen
    aspects: Mapping[str, frozenset[str]] = field(default_factory=dict)  # aspect → sentiments
    sentiments: frozenset[str] = frozenset()  # labels of the analysed texts
    negative_aspects: frozenset[str] = frozenset()
    text: str = ""  # every free text of the response, joined
    customer_segment: str | None = None
    customer_attributes: Mapping[str, Any] = field(default_factory=dict)
    earlier_complaints: tuple[dt.datetime, ...] = ()  # the same customer's, before this one
    churn_risk: float | None = None  # the customer's latest stored churn probability


class Condition:
    def test(self, facts: ResponseFacts) -> bool:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class AllOf(Condition):
    parts: tuple[Condition, ...]

    def test(self, facts: ResponseFacts) -> bool:
        return all(p.test(facts) for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {"all": [p.to_json() for p in self.parts]}


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]

    def test(self, facts: ResponseFacts) -> bool:
        return any(p.test(facts) for p in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {"any": [p.to_json() for p in self.parts]}


@dataclass(frozen=True)
class Score(Condition):
    item: str
    op: str
    value: float

    def test(self, facts: ResponseFacts) -> bool:
        got = facts.scores.get(self.item)
        return got is not None and OPS[self.op](got, self.value)

    def to_json(self) -> dict[str, Any]:
        return {"score": {"item": self.item, "op": self.op, "value": self.value}}


@dataclass(frozen=True)
class AnyItem(Condition):
    op: str
    value: float

    def test(self, facts: ResponseFacts) -> bool:
        return any(OPS[self.op](v, self.value) for v in facts.rated_items.values())

    def to_json(self) -> dict[str, Any]:
        return {"any_item": {"op": self.op, "value": self.value}}


@dataclass(frozen=True)
class AnsweredNo(Condition):
    item: str

    def test(self, facts: ResponseFacts) -> bool:
        return facts.yes_no.get(self.item) is False

    def to_json(self) -> dict[str, Any]:
        return {"answered_no": self.item}


@dataclass(frozen=True)
class Sentiment(Condition):
    label: str

    def test(self, facts: ResponseFacts) -> bool:
        return self.label in facts.sentiments

    def to_json(self) -> dict[str, Any]:
        return {"sentiment": self.label}


@dataclass(frozen=True)
class AspectNegative(Condition):
    aspect: str  # "*" for any aspect

    def test(self, facts: ResponseFacts) -> bool:
        if self.aspect == "*":
            return bool(facts.negative_aspects)
        return self.aspect in facts.negative_aspects

    def to_json(self) -> dict[str, Any]:
        return {"aspect_negative": self.aspect}


@dataclass(frozen=True)
class Aspect(Condition):
    aspect: str  # "*" for any aspect
    sentiment: str

    def test(self, facts: ResponseFacts) -> bool:
        if self.aspect == "*":
            return any(self.sentiment in labels for labels in facts.aspects.values())
        return self.sentiment in facts.aspects.get(self.aspect, ())

    def to_json(self) -> dict[str, Any]:
        return {"aspect": {"code": self.aspect, "sentiment": self.sentiment}}


@dataclass(frozen=True)
class Choice(Condition):
    item: str
    any_of: tuple[str, ...]

    def test(self, facts: ResponseFacts) -> bool:
        return bool(facts.choices.get(self.item, frozenset()) & set(self.any_of))

    def to_json(self) -> dict[str, Any]:
        return {"choice": {"item": self.item, "any_of": list(self.any_of)}}


@dataclass(frozen=True)
class Keywords(Condition):
    words: tuple[str, ...]

    def test(self, facts: ResponseFacts) -> bool:
        text = facts.text.casefold()
        return any(w.casefold() in text for w in self.words)

    def to_json(self) -> dict[str, Any]:
        return {"keywords": list(self.words)}


@dataclass(frozen=True)
class Customer(Condition):
    segment: str | None = None
    attribute: str | None = None
    equals: Any = True

    def test(self, facts: ResponseFacts) -> bool:
        if self.segment is not None and facts.customer_segment != self.segment:
            return False
        if self.attribute is not None:
            return bool(facts.customer_attributes.get(self.attribute) == self.equals)
        return True

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.segment is not None:
            body["segment"] = self.segment
        if self.attribute is not None:
            body.update(attribute=self.attribute, equals=self.equals)
        return {"customer": body}


@dataclass(frozen=True)
class RepeatComplaint(Condition):
    within_days: int
    at_least: int = 1

    def test(self, facts: ResponseFacts) -> bool:
        since = facts.at - dt.timedelta(days=self.within_days)
        return sum(1 for at in facts.earlier_complaints if since <= at <= facts.at) \
            >= self.at_least

    def to_json(self) -> dict[str, Any]:
        return {"repeat_complaint": {"within_days": self.within_days,
                                     "at_least": self.at_least}}


@dataclass(frozen=True)
class ChurnRisk(Condition):
    op: str
    value: float

    def test(self, facts: ResponseFacts) -> bool:
        return facts.churn_risk is not None and OPS[self.op](facts.churn_risk, self.value)

    def to_json(self) -> dict[str, Any]:
        return {"churn_risk": {"op": self.op, "value": self.value}}


def parse_condition(raw: Any, where: str = "condition", depth: int = 0) -> Condition:
    """Parse a condition tree; every error names the path to the offending node."""
    if depth > MAX_DEPTH:
        raise InvalidInput("alerts.conditions_nest_most_levels", max_depth=MAX_DEPTH, where=where)
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise InvalidInput("alerts.condition_one_key", kinds=", ".join(_LEAVES), where=where)
    (kind, body), = raw.items()
    here = f"{where}.{kind}"
    if kind in ("all", "any"):
        if not isinstance(body, list) or not body:
            raise InvalidInput("alerts.needs_non_empty_list", kind=kind, where=here)
        parts = tuple(parse_condition(p, f"{here}[{i}]", depth + 1) for i, p in enumerate(body))
        return AllOf(parts) if kind == "all" else AnyOf(parts)
    parser = _LEAVES.get(kind)
    if parser is None:
        raise InvalidInput("alerts.unknown_condition", kind=kind, kinds=", ".join(_LEAVES),
                           where=where)
    return parser(body, here)


def _fields(body: Any, where: str, required: Sequence[str],
            optional: Sequence[str] = ()) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidInput("alerts.expected_object_with", fields=", ".join(required),
                           where=where)
    unknown = set(body) - set(required) - set(optional)
    if unknown:
        raise InvalidInput("alerts.unknown_field", unknown=sorted(unknown)[0], where=where)
    for name in required:
        if name not in body:
            raise InvalidInput("alerts.missing", name=name, where=where)
    return body


def _op(body: Mapping[str, Any], where: str) -> str:
    op = body.get("op", "<=")
    if op not in OPS:
        raise InvalidInput("alerts.unknown_comparison", op=op, ops=', '.join(OPS),
                           where=f"{where}.op")
    return str(op)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("common.not_number", value=value, where=where)
    return float(value)


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 130:
        raise InvalidInput("alerts.expected_non_empty_item", where=where)
    return value.strip()


def _score(body: Any, where: str) -> Condition:
    f = _fields(body, where, ("item", "value"), ("op",))
    return Score(_name(f["item"], f"{where}.item"), _op(f, where),
                 _number(f["value"], f"{where}.value"))


def _any_item(body: Any, where: str) -> Condition:
    f = _fields(body, where, ("value",), ("op",))
    return AnyItem(_op(f, where), _number(f["value"], f"{where}.value"))


def _sentiment(body: Any, where: str) -> Condition:
    if body not in SENTIMENTS:
        raise InvalidInput("alerts.not_sentiment", body=body, sentiments=', '.join(SENTIMENTS),
                           where=where)
    return Sentiment(str(body))


def _aspect(body: Any, where: str) -> Condition:
    f = _fields(body, where, ("code", "sentiment"))
    if f["sentiment"] not in SENTIMENTS:
        raise InvalidInput("alerts.not_sentiment_2", sentiment=f['sentiment'],
                           sentiments=', '.join(SENTIMENTS), where=f"{where}.sentiment")
    return Aspect(_name(f["code"], f"{where}.code"), str(f["sentiment"]))


def _choice(body: Any, where: str) -> Condition:
    f = _fields(body, where, ("item", "any_of"))
    codes = f["any_of"]
    if not isinstance(codes, list) or not codes or len(codes) > 100:
        raise InvalidInput("alerts.expected_list_option_codes", where=f"{where}.any_of")
    return Choice(_name(f["item"], f"{where}.item"),
                  tuple(dict.fromkeys(_name(c, f"{where}.any_of[{i}]")
                                      for i, c in enumerate(codes))))


def _keywords(body: Any, where: str) -> Condition:
    if not isinstance(body, list) or not body:
        raise InvalidInput("alerts.expected_non_empty_list", where=where)
    words = tuple(_name(w, f"{where}[{i}]") for i, w in enumerate(body))
    return Keywords(words)


def _customer(body: Any, where: str) -> Condition:
    f = _fields(body, where, (), ("segment", "attribute", "equals"))
    if "segment" not in f and "attribute" not in f:
        raise InvalidInput("alerts.segment_attribute_both", where=where)
    segment = _name(f["segment"], f"{where}.segment") if "segment" in f else None
    attribute = _name(f["attribute"], f"{where}.attribute") if "attribute" in f else None
    return Customer(segment, attribute, f.get("equals", True))


def _repeat(body: Any, where: str) -> Condition:
    f = _fields(body, where, ("within_days",), ("at_least",))
    days, least = f["within_days"], f.get("at_least", 1)
    for name, value, top in (("within_days", days, 3650), ("at_least", least, 1000)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise InvalidInput("alerts.expected_whole_number", top=top, where=f"{where}.{name}")
    return RepeatComplaint(days, least)


def _churn_risk(body: Any, where: str) -> Condition:
    if isinstance(body, Mapping) and len(body) == 1 and next(iter(body)) in OPS:
        (op, value), = body.items()  # the short form {">=": 0.7}
        body = {"op": op, "value": value}
    f = _fields(body, where, ("value",), ("op",))
    value = _number(f["value"], f"{where}.value")
    if not 0 <= value <= 1:
        raise InvalidInput("alerts.not_probability", value=value, where=f"{where}.value")
    return ChurnRisk(_op({"op": f.get("op", ">=")}, where), value)


_LEAVES: Mapping[str, Callable[[Any, str], Condition]] = {
    "score": _score,
    "any_item": _any_item,
    "answered_no": lambda body, where: AnsweredNo(_name(body, where)),
    "sentiment": _sentiment,
    "aspect_negative": lambda body, where: AspectNegative(_name(body, where)),
    "keywords": _keywords,
    "aspect": _aspect,
    "choice": _choice,
    "customer": _customer,
    "repeat_complaint": _repeat,
    "churn_risk": _churn_risk,
}


# --- scope and action ------------------------------------------------------------------------

ACTIONS = ("case", "notify", "both")


@dataclass(frozen=True)
class RuleScope:
    """Which responses a rule looks at: its unit's subtree, optionally some surveys, touchpoints
    and channels (each list: any of them)."""

    survey_ids: frozenset[int] = frozenset()
    touchpoint_ids: frozenset[int] = frozenset()
    channels: frozenset[str] = frozenset()

    def covers(self, survey_id: int | None, touchpoint_id: int | None,
               channel: str | None = None) -> bool:
        if self.survey_ids and survey_id not in self.survey_ids:
            return False
        if self.channels and channel not in self.channels:
            return False
        return not self.touchpoint_ids or touchpoint_id in self.touchpoint_ids


@dataclass(frozen=True)
class RuleAction:
    kind: str = "case"  # case | notify | both
    route_role: str = "unit_manager"
    callback: bool = False  # also create a 3-day callback task

    @property
    def opens_case(self) -> bool:
        return self.kind in ("case", "both")

    @property
    def notifies(self) -> bool:
        return self.kind in ("notify", "both")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "route_role": self.route_role, "callback": self.callback}


def parse_action(raw: Any, roles: Sequence[str], where: str = "action") -> RuleAction:
    f = _fields(raw, where, ("kind",), ("route_role", "callback"))
    if f["kind"] not in ACTIONS:
        raise InvalidInput("alerts.not_action", kind=f['kind'], actions=', '.join(ACTIONS),
                           where=f"{where}.kind")
    role = f.get("route_role", "unit_manager")
    if role not in roles:
        raise InvalidInput("alerts.not_role", role=role, roles=', '.join(roles),
                           where=f"{where}.route_role")
    if not isinstance(f.get("callback", False), bool):
        raise InvalidInput("alerts.expected_true_false", where=f"{where}.callback")
    return RuleAction(str(f["kind"]), str(role), bool(f.get("callback", False)))
