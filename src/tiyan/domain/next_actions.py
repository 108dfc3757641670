"""Next best action: configurable rules over churn risk, customer value, segment, open cases and
the churn reasons give each customer a ranked list of actions with their expected impact.

An action is for a customer worth acting on: the built-in retention rules fire only for a
customer on the at-risk list (``at_risk``: risk at or above the installation's at-risk
threshold) whose churn reasons match the remedy. The expected impact comes from the rule's
``uplift``, an assumption until an experiment measures it, and is always labelled so
(``impact_basis`` "assumed").

Pure. The built-in rules are next_actions.yaml beside this module; a YAML file in the same
format replaces them (TIYAN_NEXT_ACTIONS_FILE). Errors name the rule and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tiyan.errors import InvalidInput

BUILT_IN = Path(__file__).with_name("next_actions.yaml")
CONDITIONS = ("risk_at_least", "value_at_least", "open_cases_at_least", "segment_in",
              "reasons_any", "at_risk")
IMPACT_BASIS = "assumed"  # every uplift is a guess written in the rules until measured
FIELDS = ("code", "priority", "owner", "when", "uplift", "label_zh", "label_en")


@dataclass(frozen=True)
class CustomerSituation:
    """What the rules look at: churn probability (None: not scored), yearly value, segment,
    unresolved cases, the features named by the churn reasons, and whether the customer is on
    the at-risk list (risk at or above the installation's threshold)."""

    risk: float | None
    value: float
    segment: str | None
    open_cases: int
    reasons: frozenset[str]
    at_risk: bool = False


@dataclass(frozen=True)
class ActionRule:
    code: str
    priority: int
    owner: str
    label_zh: str
    label_en: str
    when: Mapping[str, Any]
    uplift: float | None = None

    def applies(self, s: CustomerSituation) -> bool:
        w = self.when
        if "risk_at_least" in w and (s.risk is None or s.risk < w["risk_at_least"]):
            return False
        if "at_risk" in w and s.at_risk != w["at_risk"]:
            return False
        if "value_at_least" in w and s.value < w["value_at_least"]:
            return False
        if "open_cases_at_least" in w and s.open_cases < w["open_cases_at_least"]:
            return False
        if "segment_in" in w and s.segment not in w["segment_in"]:
            return False
        return not ("reasons_any" in w and not s.reasons & set(w["reasons_any"]))


@dataclass(frozen=True)
class Action:
    code: str
    owner: str
    label_zh: str
    label_en: str
    priority: int
    expected_impact: float | None  # value expected to be kept: risk × uplift × yearly value
    impact_basis: str = IMPACT_BASIS  # the uplift behind the impact is an assumption

    def label(self, locale: str) -> str:
        return self.label_zh if locale.startswith("zh") else self.label_en

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "owner": self.owner, "label_zh": self.label_zh,
                "label_en": self.label_en, "priority": self.priority,
                "expected_impact": self.expected_impact,
                "impact_basis": self.impact_basis if self.expected_impact is not None else None}


def next_actions(situation: CustomerSituation, rules: Sequence[ActionRule]) -> list[Action]:
    """The actions whose rules apply, by priority and then expected impact (highest first)."""
    found = []
    for rule in rules:
        if not rule.applies(situation):
            continue
        impact = None
        if rule.uplift is not None and situation.risk is not None:
            impact = round(situation.risk * rule.uplift * situation.value, 2)
        found.append(Action(rule.code, rule.owner, rule.label_zh, rule.label_en, rule.priority,
                            impact))
    return sorted(found, key=lambda a: (-a.priority, -(a.expected_impact or 0.0)))


def parse_rules(raw: Any, where: str = "next_actions") -> tuple[ActionRule, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("next_actions.next_action_rules_must", where=where)
    rules, codes = [], set()
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput("next_actions.rule_must_mapping", where=here)
        unknown = set(item) - set(FIELDS)
        if unknown:
            raise InvalidInput("common.unknown_field", unknown=sorted(unknown), where=here)
        for name in ("code", "owner", "label_zh", "label_en"):
            if not isinstance(item.get(name), str) or not item[name].strip():
                raise InvalidInput("next_actions.must_non_empty_text", name=name,
                                   where=f"{here}.{name}")
        if item["code"] in codes:
            raise InvalidInput("next_actions.code_used_twice", code=item['code'],
                               where=f"{here}.code")
        codes.add(item["code"])
        priority = item.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise InvalidInput("next_actions.priority_must_whole_number", where=f"{here}.priority")
        uplift = item.get("uplift")
        if uplift is not None and (isinstance(uplift, bool) or not isinstance(uplift, int | float)
                                   or not 0 <= uplift <= 1):
            raise InvalidInput("next_actions.uplift_must_number", where=f"{here}.uplift")
        rules.append(ActionRule(item["code"], priority, item["owner"], item["label_zh"],
                                item["label_en"], _when(item.get("when", {}), f"{here}.when"),
                                None if uplift is None else float(uplift)))
    return tuple(rules)


def _when(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInput("next_actions.when_must_map_conditions", where=where)
    when: dict[str, Any] = {}
    for name, value in raw.items():
        here = f"{where}.{name}"
        if name not in CONDITIONS:
            raise InvalidInput("next_actions.unknown_condition", conditions=', '.join(CONDITIONS),
                               where=here)
        if name == "at_risk":
            if not isinstance(value, bool):
                raise InvalidInput("common.must_true_false", where=here)
            when[name] = value
            continue
        if name in ("segment_in", "reasons_any"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInput("next_actions.must_list_names", where=here)
            when[name] = tuple(value)
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidInput("next_actions.must_number_more", where=here)
            if name == "risk_at_least" and value > 1:
                raise InvalidInput("next_actions.risk_probability", where=here)
            when[name] = float(value)
    return when


def load_rules(path: str | Path | None = None) -> tuple[ActionRule, ...]:
    """Rules from ``path`` (a YAML file) or the built-in ones."""
    source = Path(path) if path else BUILT_IN
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput("next_actions.cannot_read_next_action", exc=exc,
                           where=str(source)) from None
    return parse_rules(raw, where=source.name)
