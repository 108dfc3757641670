"""Alert rule conditions: parsing with errors that name the node, and evaluation on facts."""

import datetime as dt

import pytest

from tiyan.domain.alerts import ResponseFacts, RuleScope, parse_action, parse_condition
from tiyan.errors import InvalidInput

NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)
DETRACTOR = {"score": {"item": "nps", "op": "<=", "value": 6}}


def facts(**kw):  # type: ignore[no-untyped-def]
    return ResponseFacts(at=NOW, **kw)


def test_nps_at_most_six_matches_detractors_only() -> None:
    rule = parse_condition(DETRACTOR)
    assert rule.test(facts(scores={"nps": 6}))
    assert not rule.test(facts(scores={"nps": 7}))
    assert not rule.test(facts(scores={"csat": 1}))  # no NPS answer: no match


def test_any_item_at_most_two_ignores_nps() -> None:
    rule = parse_condition({"any_item": {"op": "<=", "value": 2}})
    assert rule.test(facts(rated_items={"csat": 4, "clean": 2}))
    assert not rule.test(facts(scores={"nps": 0}, rated_items={"csat": 3}))


def test_yes_no_answered_no() -> None:
    rule = parse_condition({"answered_no": "explained_work"})
    assert rule.test(facts(yes_no={"explained_work": False}))
    assert not rule.test(facts(yes_no={"explained_work": True}))
    assert not rule.test(facts())


def test_sentiment_aspect_and_keywords() -> None:
    f = facts(sentiments=frozenset({"negative"}), negative_aspects=frozenset({"wait_time"}),
              text="等了两个小时，要求退款")
    assert parse_condition({"sentiment": "negative"}).test(f)
    assert parse_condition({"aspect_negative": "wait_time"}).test(f)
    assert parse_condition({"aspect_negative": "*"}).test(f)
    assert not parse_condition({"aspect_negative": "price"}).test(f)
    assert parse_condition({"keywords": ["投诉", "退款"]}).test(f)
    assert parse_condition({"keywords": ["REFUND"]}).test(facts(text="I want a refund"))


def test_vip_customer_by_segment_or_attribute() -> None:
    vip = facts(customer_segment="vip", customer_attributes={"tier": "gold"})
    assert parse_condition({"customer": {"segment": "vip"}}).test(vip)
    assert parse_condition({"customer": {"attribute": "tier", "equals": "gold"}}).test(vip)
    assert not parse_condition({"customer": {"segment": "vip"}}).test(facts())


def test_repeat_complaint_within_n_days() -> None:
    rule = parse_condition({"repeat_complaint": {"within_days": 30}})
    assert rule.test(facts(earlier_complaints=(NOW - dt.timedelta(days=29),)))
    assert not rule.test(facts(earlier_complaints=(NOW - dt.timedelta(days=31),)))
    twice = parse_condition({"repeat_complaint": {"within_days": 30, "at_least": 2}})
    assert not twice.test(facts(earlier_complaints=(NOW - dt.timedelta(days=1),)))


def test_churn_risk_against_the_customers_latest_score() -> None:
    short = parse_condition({"churn_risk": {">=": 0.7}})
    full = parse_condition({"churn_risk": {"op": ">=", "value": 0.7}})
    assert short == full and parse_condition(full.to_json()) == full
    assert full.test(facts(churn_risk=0.7)) and full.test(facts(churn_risk=0.93))
    assert not full.test(facts(churn_risk=0.69))
    assert not full.test(facts())  # no scored customer: never matches
    assert parse_condition({"churn_risk": {"value": 0.5}}).test(facts(churn_risk=0.6))  # op >=
    low = parse_condition({"all": [DETRACTOR, {"churn_risk": {"<": 0.2}}]})
    assert low.test(facts(scores={"nps": 2}, churn_risk=0.1))
    assert not low.test(facts(scores={"nps": 2}, churn_risk=0.5))


def test_and_or_combine() -> None:
    rule = parse_condition({"all": [DETRACTOR, {"any": [{"sentiment": "negative"},
                                                        {"customer": {"segment": "vip"}}]}]})
    assert rule.test(facts(scores={"nps": 3}, customer_segment="vip"))
    assert not rule.test(facts(scores={"nps": 3}))
    assert not rule.test(facts(scores={"nps": 9}, customer_segment="vip"))
    assert parse_condition(rule.to_json()) == rule  # round-trips


@pytest.mark.parametrize(("raw", "where", "words"), [
    ({"score": {"item": "nps", "value": "six"}}, "condition.score.value", "not a number"),
    ({"all": [DETRACTOR, {"mood": "bad"}]}, "condition.all[1]", 'unknown condition "mood"'),
    ({"any": []}, "condition.any", "non-empty"),
    ({"sentiment": "angry"}, "condition.sentiment", "not a sentiment"),
    ({"score": {"item": "nps", "op": "~", "value": 1}}, "condition.score.op", "comparison"),
    ({"score": {"item": "nps", "value": 1, "x": 2}}, "condition.score", "unknown field"),
    ({"repeat_complaint": {"within_days": 0}}, "condition.repeat_complaint.within_days",
     "whole number"),
    ({"customer": {}}, "condition.customer", "segment"),
    ({"churn_risk": {">=": 70}}, "condition.churn_risk.value", "probability from 0 to 1"),
    ({"churn_risk": {"op": "~", "value": 0.5}}, "condition.churn_risk.op", "comparison"),
    ({"churn_risk": {">=": "high"}}, "condition.churn_risk.value", "not a number"),
    ({"churn_risk": 0.7}, "condition.churn_risk", "expected an object"),
    ({"a": 1, "b": 2}, "condition", "exactly one key"),
])
def test_bad_conditions_say_what_and_where(raw: object, where: str, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_condition(raw)
    assert err.value.where == where
    assert words in err.value.message


def test_scope_and_action() -> None:
    scope = RuleScope(survey_ids=frozenset({1}))
    assert scope.covers(1, None) and not scope.covers(2, None)
    assert RuleScope().covers(None, None)
    action = parse_action({"kind": "both", "route_role": "agent"}, ["unit_manager", "agent"])
    assert action.opens_case and action.notifies
    with pytest.raises(InvalidInput) as err:
        parse_action({"kind": "case", "route_role": "boss"}, ["unit_manager"])
    assert err.value.where == "action.route_role"
