"""Next-best-action rules: built-in file, ranking, expected impact, bad rules named."""

import pytest

from tiyan.domain.next_actions import CustomerSituation, load_rules, next_actions, parse_rules
from tiyan.errors import InvalidInput


def situation(**overrides):
    values = {"risk": 0.6, "value": 10_000.0, "segment": "vip", "open_cases": 0,
              "reasons": frozenset({"latest_nps"}), "at_risk": True}
    values.update(overrides)
    return CustomerSituation(**values)


def test_built_in_rules_rank_fixing_the_open_case_first():
    rules = load_rules()
    actions = next_actions(situation(open_cases=1), rules)
    codes = [a.code for a in actions]
    assert codes[0] == "fix_open_case"
    assert codes[:4] == ["fix_open_case", "manager_callback", "service_voucher", "vip_event"]
    assert actions[1].expected_impact == pytest.approx(0.6 * 0.2 * 10_000)
    assert {a.impact_basis for a in actions} == {"assumed"}
    assert actions[1].to_json()["impact_basis"] == "assumed"
    assert actions[0].label("zh-CN").startswith("先解决")
    assert actions[0].label("en").startswith("Fix")


def test_low_risk_low_value_customers_get_nothing_pressing():
    assert next_actions(situation(risk=0.05, value=100.0, segment="new", at_risk=False),
                        load_rules()) == []
    assert next_actions(situation(risk=None, segment=None, at_risk=False), load_rules()) == []


def test_reasons_select_the_remedy():
    rules = load_rules()
    codes = {a.code for a in next_actions(situation(segment=None, value=500.0,
                                                    reasons=frozenset({"recency_days"})), rules)}
    assert codes == {"win_back_reminder"}


def test_retention_actions_are_only_for_customers_on_the_at_risk_list():
    rules = load_rules()
    assert next_actions(situation(at_risk=False), rules) == []
    assert [a.code for a in next_actions(situation(at_risk=False, open_cases=1), rules)] == [
        "fix_open_case"]


def test_an_at_risk_customer_gets_only_the_remedies_for_their_reasons():
    rules = load_rules()
    codes = {a.code for a in next_actions(situation(segment=None,
                                                    reasons=frozenset({"recency_share"})), rules)}
    assert codes == {"win_back_reminder"}
    assert next_actions(situation(segment=None, reasons=frozenset()), rules) == []


def test_at_risk_condition_must_be_true_or_false():
    with pytest.raises(InvalidInput) as caught:
        parse_rules([{"code": "x", "owner": "a", "label_zh": "甲", "label_en": "x",
                      "when": {"at_risk": 1}}])
    assert caught.value.where == "next_actions[0].when.at_risk"


def test_impact_unknown_without_uplift():
    rules = parse_rules([{"code": "x", "owner": "agent", "label_zh": "甲", "label_en": "x",
                          "when": {"risk_at_least": 0.1}}])
    assert next_actions(situation(), rules)[0].expected_impact is None


@pytest.mark.parametrize(("raw", "where"), [
    ([], "next_actions"),
    ([{"code": "x", "owner": "a", "label_zh": "甲", "label_en": "x", "when": {"mood": 1}}],
     "next_actions[0].when.mood"),
    ([{"code": "x", "owner": "a", "label_zh": "甲", "label_en": "x",
       "when": {"risk_at_least": 2}}], "next_actions[0].when.risk_at_least"),
    ([{"code": "x", "owner": "a", "label_zh": "", "label_en": "x"}], "next_actions[0].label_zh"),
    ([{"code": "x", "owner": "a", "label_zh": "甲", "label_en": "x", "uplift": 3}],
     "next_actions[0].uplift"),
    ([{"code": "x", "owner": "a", "label_zh": "甲", "label_en": "x"},
      {"code": "x", "owner": "a", "label_zh": "甲", "label_en": "x"}], "next_actions[1].code"),
])
def test_bad_rules_name_the_rule_and_field(raw, where):
    with pytest.raises(InvalidInput) as caught:
        parse_rules(raw)
    assert caught.value.where == where


def test_an_override_file_replaces_the_built_in_rules(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("- {code: call, owner: agent, label_zh: 打电话, label_en: Call, "
                    "when: {risk_at_least: 0.5}}\n", encoding="utf-8")
    assert [r.code for r in load_rules(path)] == ["call"]
    with pytest.raises(InvalidInput):
        load_rules(tmp_path / "missing.yaml")
