"""The alert-rule builder's rows: every condition the rows can hold comes back unchanged from
its rows; the others are refused for editing; wrong inputs are named one by one."""

import datetime as dt

import pytest

from tiyan.domain.alerts import ResponseFacts, parse_condition
from tiyan.domain.rule_form import (
    ConditionForm,
    FormErrors,
    GroupForm,
    RowForm,
    apply_action,
    condition_of,
    default_form,
    form_from_fields,
    form_of,
    normalized,
    outline,
)

NOW = dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC)
LEAVES = [
    {"score": {"item": "nps", "op": "<=", "value": 6}},
    {"score": {"item": "q_clean", "op": ">", "value": 3.5}},
    {"any_item": {"op": "<=", "value": 2}},
    {"choice": {"item": "reason", "any_of": ["wait", "price"]}},
    {"answered_no": "resolved"},
    {"sentiment": "negative"},
    {"aspect_negative": "waiting"},
    {"aspect_negative": "*"},
    {"aspect": {"code": "staff", "sentiment": "positive"}},
    {"keywords": ["退款", "refund", "投诉"]},
    {"customer": {"segment": "vip"}},
    {"customer": {"attribute": "vip", "equals": True}},
    {"customer": {"attribute": "level", "equals": 3}},
    {"customer": {"attribute": "city", "equals": "上海"}},
    {"repeat_complaint": {"within_days": 30, "at_least": 2}},
    {"churn_risk": {"op": ">=", "value": 0.7}},
    {"churn_risk": {"op": ">", "value": 0.07}},
]
EXPRESSIBLE = [
    *LEAVES,
    {"all": LEAVES[:3]},
    {"any": LEAVES[3:9]},
    {"all": [LEAVES[0], {"any": [LEAVES[5], LEAVES[9], LEAVES[6]]}]},
    {"any": [{"all": [LEAVES[0], LEAVES[10]]}, {"all": [LEAVES[2], LEAVES[15]]}, LEAVES[14]]},
    {"all": [{"all": [LEAVES[0], LEAVES[1]]}, LEAVES[2]]},
]
NOT_EXPRESSIBLE = [
    {"all": [LEAVES[0], {"any": [LEAVES[5], {"all": [LEAVES[9], LEAVES[6]]}]}]},  # 2 levels
    {"customer": {"segment": "vip", "attribute": "vip"}},  # two tests in one leaf
    {"customer": {"attribute": "tags", "equals": ["a"]}},  # a list value
    {"customer": {"attribute": "code", "equals": "123"}},  # text that reads as a number
    {"keywords": ["a,b"]},  # a separator inside a word
]


@pytest.mark.parametrize("raw", EXPRESSIBLE)
def test_every_condition_the_rows_hold_comes_back_unchanged(raw: dict) -> None:
    condition = parse_condition(raw)
    form = form_of(condition)
    assert form is not None
    assert condition_of(form) == normalized(condition)
    assert condition_of(form).to_json() == condition.to_json()
    # and through the posted inputs the page writes
    assert condition_of(form_from_fields(_fields(form))) == normalized(condition)


@pytest.mark.parametrize("raw", NOT_EXPRESSIBLE)
def test_what_the_rows_cannot_hold_is_not_offered_for_editing(raw: dict) -> None:
    condition = parse_condition(raw)
    assert form_of(condition) is None
    assert outline(condition)  # still shown, read-only


def test_singletons_and_negative_aspects_are_written_the_short_way() -> None:
    condition = parse_condition({"all": [{"aspect": {"code": "wait", "sentiment": "negative"}}]})
    form = form_of(condition)
    assert form is not None and condition_of(form).to_json() == {"aspect_negative": "wait"}


def test_each_wrong_input_is_named() -> None:
    form = ConditionForm("all", [GroupForm("any", [
        RowForm("score", "", "<<", "six"), RowForm("churn_risk", "", ">=", "170"),
        RowForm("repeat", "0", "", "2"), RowForm("keywords", value=" , ")]),
        GroupForm("maybe", [RowForm("sentiment", value="angry"), RowForm("nope")])])
    with pytest.raises(FormErrors) as caught:
        condition_of(form)
    assert caught.value.errors == {
        "g0.r0.item": ("item", {}), "g0.r0.op": ("op", {}), "g0.r0.value": ("number", {}),
        "g0.r1.value": ("percent", {}), "g0.r2.item": ("whole", {"low": 1, "high": 3650}),
        "g0.r3.value": ("words", {}), "g1.join": ("join", {}), "g1.r0.value": ("sentiment", {}),
        "g1.r1.field": ("field", {})}
    with pytest.raises(FormErrors) as empty:
        condition_of(ConditionForm("all", []))
    assert "g0.r0.field" in empty.value.errors


def test_rows_evaluate_like_the_json_they_stand_for() -> None:
    form = ConditionForm("all", [
        GroupForm("all", [RowForm("score", "nps", "<=", "6")]),
        GroupForm("any", [RowForm("choice", "reason", "", "wait,price"),
                          RowForm("aspect", "*", "", "negative"),
                          RowForm("churn_risk", "", ">=", "70")])])
    rule = condition_of(form)
    base = {"at": NOW, "scores": {"nps": 3}}
    assert rule.test(ResponseFacts(**base, choices={"reason": frozenset({"price"})}))
    assert rule.test(ResponseFacts(**base, aspects={"x": frozenset({"negative"})},
                                   negative_aspects=frozenset({"x"})))
    assert rule.test(ResponseFacts(**base, churn_risk=0.7))
    assert not rule.test(ResponseFacts(**base, churn_risk=0.69,
                                       choices={"reason": frozenset({"other"})}))
    assert not rule.test(ResponseFacts(at=NOW, scores={"nps": 9}, churn_risk=0.9))


def test_the_buttons_add_and_remove_rows_and_groups() -> None:
    form = default_form()
    apply_action(form, "add-row:0")
    apply_action(form, "add-group")
    assert [len(g.rows) for g in form.groups] == [2, 1]
    apply_action(form, "remove-row:1.0")  # the group's last row: the group goes
    assert len(form.groups) == 1
    apply_action(form, "remove-group:0")  # never empty: a fresh first row
    assert form.groups == default_form().groups
    apply_action(form, "remove-row:9.9")
    apply_action(form, "bogus")
    assert form.groups == default_form().groups


def _fields(form: ConditionForm) -> dict[str, list[str]]:
    out = {"join": [form.join], "groups": [str(len(form.groups))]}
    for i, g in enumerate(form.groups):
        out[f"g{i}.join"] = [g.join]
        out[f"g{i}.rows"] = [str(len(g.rows))]
        for j, r in enumerate(g.rows):
            p = f"g{i}.r{j}."
            out.update({p + "field": [r.field], p + "item": [r.item], p + "op": [r.op]})
            out[p + "value"] = r.value.split(",") if r.field == "choice" else [r.value]
    return out


def test_a_row_whose_field_was_changed_starts_afresh() -> None:
    """Changing a row's field from a score on "nps" to an aspect showed "nps" as the aspect
    (and the preview matched nothing); now the row comes back as that field first shows."""
    fields = _fields(default_form())
    fields.update({"g0.r0.field": ["aspect"], "g0.r0.shown": ["score"]})
    assert form_from_fields(fields).groups[0].rows == [RowForm("aspect", "*", "", "negative")]
    fields.update({"g0.r0.field": ["choice"]})
    assert form_from_fields(fields).groups[0].rows == [RowForm("choice")]
    fields.update({"g0.r0.field": ["score"]})  # not changed: kept as typed
    assert form_from_fields(fields).groups[0].rows == [RowForm("score", "nps", "<=", "6")]
