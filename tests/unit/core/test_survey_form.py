"""The builder's form mapping: stored definition ⇄ flat form fields, and the editing actions."""

from __future__ import annotations

import pytest

from tiyan.domain.journeys import check_channels, moved, shifted
from tiyan.domain.survey_templates import TEMPLATES
from tiyan.domain.surveys import definition_to_dict, parse_definition
from tiyan.errors import Conflict, InvalidInput
from tiyan.web.i18n import catalogue
from tiyan.web.ui import survey_form as sf


def as_fields(form: sf.SurveyForm) -> dict[str, str]:
    """What a browser posts for this form (the same names the template renders)."""
    fields = {"count": str(len(form.questions)), "languages": ",".join(form.languages)}
    for lang in form.languages:
        fields[f"title.{lang}"] = form.title[lang]
        fields[f"intro.{lang}"] = form.intro[lang]
    for i, q in enumerate(form.questions):
        p = f"q{i}."
        fields.update({f"{p}key": q.key, f"{p}type": q.type, f"{p}page": q.page,
                       f"{p}item_code": q.item_code, f"{p}touchpoint": q.touchpoint,
                       f"{p}scale_min": q.scale_min, f"{p}scale_max": q.scale_max,
                       f"{p}options": q.options, f"{p}rows": q.rows, f"{p}extra": q.extra,
                       f"{p}conds": str(len(q.conditions) + 1)})
        fields.update({f"{p}text.{lang}": q.text[lang] for lang in form.languages})
        for name in ("required", "allow_other", "randomize"):
            if getattr(q, name):
                fields[f"{p}{name}"] = "on"
        for j, c in enumerate(q.conditions):
            fields.update({f"{p}c{j}.source": c.source, f"{p}c{j}.op": c.op,
                           f"{p}c{j}.value": c.value})
        fields[f"{p}skips"] = str(len(q.skips) + 1)  # and a blank rule, as the page has
        for k, rule in enumerate(q.skips):
            sp = f"{p}s{k}."
            fields.update({f"{sp}target": rule.target, f"{sp}conds": str(len(rule.conditions) + 1)})
            for j, c in enumerate(rule.conditions):
                fields.update({f"{sp}c{j}.source": c.source, f"{sp}c{j}.op": c.op,
                               f"{sp}c{j}.value": c.value})
    return fields


@pytest.mark.parametrize("code", sorted(TEMPLATES))
def test_every_template_survives_the_form_unchanged(code: str) -> None:
    stored = definition_to_dict(parse_definition(TEMPLATES[code]))
    form = sf.form_from_fields(as_fields(sf.form_from_definition(stored)))
    assert definition_to_dict(parse_definition(sf.definition_from_form(form))) == stored


def test_conditions_options_matrix_and_unknown_fields_round_trip() -> None:
    stored = {
        "title": {"zh-CN": "问卷", "en": "Survey"}, "languages": ["zh-CN", "en"],
        "questions": [
            {"key": "nps", "type": "nps", "text": {"zh-CN": "推荐", "en": "Recommend"}},
            {"key": "vip", "type": "yesno", "text": {"zh-CN": "会员", "en": "Member"}},
            {"key": "why", "type": "multi", "allow_other": True, "randomize": True, "page": 2,
             "options": [{"code": "wait", "text": {"zh-CN": "等待", "en": "Waiting"}},
                         {"code": "price", "text": {"zh-CN": "价格", "en": "Price"}}],
             "show_if": [{"question": "nps", "op": "<=", "value": 6},
                         {"invitation": "segment", "op": "in", "value": ["vip", 3]},
                         {"question": "vip", "op": "answered"}],
             "text": {"zh-CN": "原因", "en": "Why"}, "max_length": 200},
            {"key": "grid", "type": "matrix", "scale": {"min": 1, "max": 7}, "randomize": True,
             "rows": [{"code": "a", "text": {"zh-CN": "甲", "en": "A"}},
                      {"code": "b", "text": {"zh-CN": "乙", "en": "B"}}],
             "text": {"zh-CN": "矩阵", "en": "Grid"}},
        ],
    }
    form = sf.form_from_fields(as_fields(sf.form_from_definition(stored)))
    raw = sf.definition_from_form(form)
    assert definition_to_dict(parse_definition(raw)) == definition_to_dict(
        parse_definition(stored))
    assert raw["questions"][2]["max_length"] == 200  # no control for it, still kept


def test_values_typed_in_the_form_become_numbers_lists_and_flags() -> None:
    def cond(op: str, value: str) -> object:
        return sf.condition_from_form(sf.ConditionForm("nps", op, value))

    assert cond("<=", " 6 ") == {"question": "nps", "op": "<=", "value": 6}
    assert cond("==", "4.5") == {"question": "nps", "op": "==", "value": 4.5}
    assert cond("in", "a, b,,7") == {"question": "nps", "op": "in", "value": ["a", "b", 7]}
    assert cond("==", "true")["value"] is True  # type: ignore[index]
    assert cond("answered", "ignored") == {"question": "nps", "op": "answered"}
    assert sf.condition_from_form(sf.ConditionForm("invitation.vip", "==", "yes")) == \
        {"invitation": "vip", "op": "==", "value": "yes"}


def test_option_lines_take_one_text_for_both_languages_or_one_each() -> None:
    assert sf.parse_lines("a | 甲 | A\n\nb | 乙\n  \nc") == [
        {"code": "a", "text": {"zh-CN": "甲", "en": "A"}}, {"code": "b", "text": "乙"},
        {"code": "c", "text": "c"}]


def test_changing_the_type_drops_fields_the_new_type_cannot_take() -> None:
    q = sf.QuestionForm(key="q1", type="nps", text={"zh-CN": "x", "en": "x"},
                        options="a | A\nb | B", rows="r | R", scale_min="1", scale_max="5",
                        allow_other=True, randomize=True)
    assert set(sf.question_from_form(q)) == {"key", "type", "text", "page"}


def test_add_remove_and_move_questions() -> None:
    form = sf.form_from_definition(TEMPLATES["plain_nps"])
    sf.apply_action(form, "add", "single")
    assert [(q.key, q.type) for q in form.questions] == [("nps", "nps"), ("reason", "text"),
                                                         ("q3", "single")]
    sf.apply_action(form, "up:2")
    sf.apply_action(form, "up:0")  # already first: nothing happens
    sf.apply_action(form, "down:2")  # already last
    assert [q.key for q in form.questions] == ["nps", "q3", "reason"]
    sf.apply_action(form, "remove:0")
    sf.apply_action(form, "remove:9")
    sf.apply_action(form, "add")
    assert [q.key for q in form.questions] == ["q3", "reason", "q4"]


def test_a_validation_error_is_placed_at_its_question() -> None:
    form = sf.form_from_definition(TEMPLATES["plain_nps"])
    assert sf.error_question('question "reason".show_if', form) == 1
    assert sf.error_question("question 1", form) == 0
    assert sf.error_question("survey.title", form) is None
    assert sf.error_question('question "ghost"', form) is None


def test_every_question_type_has_a_label_in_both_languages() -> None:
    from tiyan.domain.surveys import QuestionType

    for locale in ("zh-CN", "en"):
        assert {f"qtype.{t.value}" for t in QuestionType} <= set(catalogue(locale))


def test_touchpoints_move_within_their_siblings() -> None:
    order = ["a", "b", "c", "d"]
    assert moved(order, "d", 1) == ["d", "a", "b", "c"]
    assert moved(order, "a", 99) == ["b", "c", "d", "a"]
    assert moved(order, "b", 0) == ["b", "a", "c", "d"]
    assert shifted(order, "c", -1) == ["a", "c", "b", "d"]
    assert shifted(order, "d", 1) == order
    with pytest.raises(InvalidInput):
        moved(order, "x", 1)


def test_listener_channels_are_known_and_canonical() -> None:
    assert check_channels(["sms", "qr", "sms"]) == ["qr", "sms"]
    with pytest.raises(InvalidInput, match="unknown channel"):
        check_channels(["fax"])
    with pytest.raises(InvalidInput, match="at least one"):
        check_channels([])
    with pytest.raises(InvalidInput):
        check_channels(["import"])  # imported feedback is not a listening channel


def test_in_use_names_what_refers_to_it() -> None:
    from tiyan.domain.journeys import Use, check_unused

    check_unused(Use({"survey": 0}), "x", "touchpoint")
    with pytest.raises(Conflict, match=r"2 response, 1 survey"):
        check_unused(Use({"survey": 1, "response": 2, "invitation": 0}), "x", "touchpoint")


def test_other_settings_must_be_a_json_object_naming_the_question() -> None:
    q = sf.QuestionForm(key="why", text={"zh-CN": "x", "en": "x"}, extra='{"skip": ')
    with pytest.raises(InvalidInput, match="not valid JSON") as err:
        sf.question_from_form(q)
    assert err.value.where == 'question "why".extra'
    q.extra = "[1]"
    with pytest.raises(InvalidInput, match="JSON object"):
        sf.question_from_form(q)
    q.extra = '{"future_rule": {"to": "end"}, "key": "ignored"}'
    assert sf.question_from_form(q)["future_rule"] == {"to": "end"}
    assert sf.question_from_form(q)["key"] == "why"


SKIPPING = {
    "title": {"zh-CN": "问卷", "en": "Survey"}, "languages": ["zh-CN", "en"],
    "questions": [
        {"key": "nps", "type": "nps", "text": {"zh-CN": "推荐", "en": "Recommend"},
         "skip_to": [{"if": [{"question": "nps", "op": ">=", "value": 9}], "page": 3},
                     {"if": [{"invitation": "channel", "op": "==", "value": "phone"},
                             {"question": "nps", "op": "answered"}], "page": "end"}]},
        {"key": "why", "type": "text", "page": 2, "text": {"zh-CN": "原因", "en": "Why"}},
        {"key": "again", "type": "yesno", "page": 3, "text": {"zh-CN": "再来", "en": "Again"}},
    ],
}


def test_skip_rules_round_trip_through_their_own_controls() -> None:
    form = sf.form_from_definition(SKIPPING)
    nps = form.questions[0]
    assert [(r.target, [c.source for c in r.conditions]) for r in nps.skips] == [
        ("3", ["nps"]), ("end", ["invitation.channel", "nps"])]
    assert nps.extra == ""  # skip_to has its own control, not the JSON box
    assert form.later_pages(nps) == ["2", "3"] and form.later_pages(form.questions[2]) == []
    again = sf.form_from_fields(as_fields(form))
    raw = sf.definition_from_form(again)
    assert definition_to_dict(parse_definition(raw)) == definition_to_dict(
        parse_definition(SKIPPING))


def test_a_blank_skip_rule_is_ignored_and_a_half_filled_one_is_refused_naming_it() -> None:
    fields = as_fields(sf.form_from_definition(SKIPPING))
    fields.update({"q0.s1.target": "", "q0.s1.c0.source": "", "q0.s1.c1.source": ""})
    assert len(sf.form_from_fields(fields).questions[0].skips) == 1  # rule 2 emptied: dropped
    fields["q0.s1.c0.source"] = "nps"  # a condition but no target
    form = sf.form_from_fields(fields)
    with pytest.raises(InvalidInput) as problem:
        parse_definition(sf.definition_from_form(form))
    assert problem.value.where == 'question "nps".skip_to[2]'
    assert "later page number" in problem.value.message
    assert sf.error_question(problem.value.where, form) == 0
    fields.update({"q0.s1.target": "2", "q0.s1.c0.source": ""})  # a target, no condition
    with pytest.raises(InvalidInput, match="at least one condition"):
        parse_definition(sf.definition_from_form(sf.form_from_fields(fields)))
    fields.update({"q2.skips": "1", "q2.s0.target": "1", "q2.s0.conds": "1",
                   "q2.s0.c0.source": "again", "q2.s0.c0.op": "==", "q2.s0.c0.value": "yes"})
    fields.update({"q0.s1.target": ""})
    with pytest.raises(InvalidInput, match="only jump forward") as backwards:
        parse_definition(sf.definition_from_form(sf.form_from_fields(fields)))
    assert backwards.value.where == 'question "again".skip_to[1]'
