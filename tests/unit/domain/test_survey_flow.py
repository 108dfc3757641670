"""Display logic, skip logic, piping, progress, option order and page answers."""

import pytest

from tiyan.domain.answer_forms import answers_from_form, check_page, form_values
from tiyan.domain.responses import check_answers
from tiyan.domain.survey_flow import (
    client_logic,
    first_page,
    next_page,
    option_order,
    pipe,
    previous_page,
    progress,
    title_for_staff,
    visible_questions,
    walk,
)
from tiyan.domain.surveys import definition_to_dict, parse_definition
from tiyan.errors import InvalidInput

OPTIONS = [{"code": c, "text": {"zh-CN": f"选项{c}", "en": f"Option {c}"}} for c in "abcdef"]

SURVEY = parse_definition({
    "title": "体验",
    "questions": [
        {"key": "nps", "type": "nps", "text": "推荐我们吗?", "required": True,
         "skip_to": [{"if": [{"question": "nps", "op": ">=", "value": 9}], "page": 3}]},
        {"key": "why", "type": "text", "text": "哪里不好?", "max_length": 20,
         "show_if": {"question": "nps", "op": "<=", "value": 6}},
        {"key": "vip_only", "type": "yesno", "text": "VIP?",
         "show_if": {"invitation": "vip", "op": "==", "value": True}},
        {"key": "fix", "type": "multi", "text": "{customer:first_name|您}, 要改进什么?",
         "page": 2, "allow_other": True, "randomize": True, "options": OPTIONS, "required": True},
        {"key": "csat", "type": "csat", "text": "You gave {answer:nps}. Satisfied?", "page": 3},
        {"key": "grid", "type": "matrix", "text": "评分", "page": 3, "scale": {"min": 1, "max": 5},
         "rows": [{"code": "r1", "text": "快"}, {"code": "r2", "text": "好"}]},
        {"key": "when", "type": "date", "text": "日期", "page": 4},
    ],
})


def test_show_if_uses_earlier_answers_and_invitation_data():
    keys = [q.key for q in visible_questions(SURVEY, 1, {"nps": "5"}, {"vip": True})]
    assert keys == ["nps", "why", "vip_only"]
    assert [q.key for q in visible_questions(SURVEY, 1, {"nps": 9}, {})] == ["nps"]


def test_skip_logic_jumps_forward_and_the_path_drops_skipped_pages():
    assert first_page(SURVEY, {}) == 1
    assert next_page(SURVEY, 1, {"nps": "10"}, {}) == 3
    assert next_page(SURVEY, 1, {"nps": "4"}, {}) == 2
    promoter = walk(SURVEY, {"nps": 10, "why": "x", "fix": ["a"], "csat": 5}, {})
    assert promoter.pages == (1, 3, 4)
    assert "fix" not in promoter.answers and "why" not in promoter.answers
    assert previous_page(SURVEY, 3, {"nps": 10}, {}) == 1
    assert previous_page(SURVEY, 3, {"nps": 3}, {}) == 2


def test_skip_to_end_finishes_the_survey():
    definition = parse_definition({"title": "t", "questions": [
        {"key": "ok", "type": "yesno", "text": "ok?",
         "skip_to": {"if": {"question": "ok", "op": "==", "value": "no"}, "page": "end"}},
        {"key": "more", "type": "text", "text": "more", "page": 2}]})
    assert next_page(definition, 1, {"ok": "no"}, {}) is None
    assert next_page(definition, 1, {"ok": "yes"}, {}) == 2
    assert parse_definition(definition_to_dict(definition)) == definition


def test_required_questions_on_skipped_pages_are_not_enforced():
    values = check_answers(SURVEY, {"nps": "10", "csat": "4", "fix": ["a"]})
    assert {v.question_key for v in values} == {"nps", "csat"}
    with pytest.raises(InvalidInput) as err:
        check_answers(SURVEY, {"nps": "3"})
    assert err.value.where == "answers.fix"


@pytest.mark.parametrize(("rule", "where", "fragment"), [
    ({"if": {"question": "a", "op": "==", "value": 1}, "page": 1}, 'question "a".skip_to[1]',
     "not after"),
    ({"if": {"question": "a", "op": "==", "value": 1}, "page": 9}, 'question "a".skip_to[1]',
     "does not exist"),
    ({"if": {"question": "zzz", "op": "==", "value": 1}, "page": 2}, 'question "a".skip_to[1]',
     "not an earlier question"),
    ({"page": 2}, 'question "a".skip_to[1]', "at least one condition"),
    ({"if": {"question": "a", "op": "~", "value": 1}, "page": 2}, 'question "a".skip_to[1]',
     "unknown operator"),
    ({"if": [], "page": "later"}, 'question "a".skip_to[1]', "later page number"),
])
def test_bad_skip_rules_name_the_question_and_the_rule(rule, where, fragment):
    raw = {"title": "t", "questions": [{"key": "a", "type": "nps", "text": "a", "skip_to": rule},
                                       {"key": "b", "type": "nps", "text": "b", "page": 2}]}
    with pytest.raises(InvalidInput) as err:
        parse_definition(raw)
    assert (err.value.where, fragment in err.value.message) == (where, True)


@pytest.mark.parametrize(("text", "fragment"), [
    ("{answer:b}", "earlier page"), ("{answer:a}", "earlier page"),
    ("{answer:nope}", "earlier page"), ("{shoe:size}", "not a placeholder"),
])
def test_piping_must_name_an_answer_known_by_then(text, fragment):
    raw = {"title": "t", "questions": [{"key": "a", "type": "nps", "text": "a"},
                                       {"key": "b", "type": "nps", "text": text}]}
    with pytest.raises(InvalidInput) as err:
        parse_definition(raw)
    assert err.value.where == 'question "b".text' and fragment in err.value.message


def test_piping_fills_answers_customer_and_invitation_fields():
    csat = SURVEY.question("csat")
    assert pipe(csat.text["en"], SURVEY, "en", {"nps": "9"}, {}, {}) == "You gave 9. Satisfied?"
    fix = SURVEY.question("fix").text["zh-CN"]
    assert pipe(fix, SURVEY, "zh-CN", {}, {}, {"first_name": "小明"}) == "小明, 要改进什么?"
    assert pipe(fix, SURVEY, "zh-CN", {}, {}, {}) == "您, 要改进什么?"
    assert pipe("店: {invitation:unit_name}", SURVEY, "en", {}, {"unit_name": "<b>"}, {}) \
        == "店: <b>"  # plain text; the template escapes it


def test_choice_answers_are_piped_as_option_texts():
    definition = parse_definition({"title": "t", "questions": [
        {"key": "pick", "type": "multi", "text": "p", "options": OPTIONS, "allow_other": True},
        {"key": "say", "type": "text", "text": "You chose {answer:pick}", "page": 2}]})
    text = definition.question("say").text["en"]
    assert pipe(text, definition, "en", {"pick": ["a", {"other": "tea"}]}, {}, {}) \
        == "You chose Option a, tea"


def test_progress_counts_pages_behind_the_respondent():
    assert progress(SURVEY, 1, {}, {}) == 0
    assert progress(SURVEY, 3, {"nps": 10}, {}) == 0.333
    assert progress(SURVEY, 4, {"nps": 3, "fix": ["a"]}, {}) == 0.75


def test_randomised_options_are_shuffled_per_session_and_stable_within_it():
    fix = SURVEY.question("fix")
    one, again, other = (option_order(fix, s) for s in ("session-1", "session-1", "session-2"))
    assert one == again and sorted(o.code for o in one) == list("abcdef")
    assert one != other
    assert option_order(SURVEY.question("grid"), "x") == ()


def test_client_logic_ships_only_what_the_page_needs():
    logic = client_logic(SURVEY, 1, {}, {"vip": False, "secret": "x"})
    assert logic["rules"]["why"] == [["nps", "<=", 6]]
    assert logic["known"] == {"invitation.vip": False}
    assert client_logic(SURVEY, 4, {}, {}) == {}


def test_form_answers_are_parsed_per_question_type():
    form = form_values([("a.fix", "a"), ("a.fix", "other"), ("a.fix.other", "茶 🍵"),
                        ("a.grid.r1", "5"), ("a.grid.r2", ""), ("a.csat", "4"),
                        ("a.bogus", "1"), ("csrf", "x")])
    questions = visible_questions(SURVEY, 2, {}, {}) + visible_questions(SURVEY, 3, {}, {})
    raw, unknown = answers_from_form(questions, form)
    assert raw == {"fix": ["a", {"other": "茶 🍵"}], "grid": {"r1": "5"}, "csat": "4"}
    assert unknown == ["bogus"]
    assert check_page(questions, raw, unknown).answers == raw


@pytest.mark.parametrize(("key", "value", "code"), [
    ("nps", "11", "invalid"), ("nps", "seven", "invalid"), ("nps", "", "required"),
    ("why", "x" * 21, "too_long"), ("when", "2026-13-01", "invalid"),
    ("fix", [{"other": ""}], "other_missing"), ("fix", ["zz"], "invalid"),
])
def test_page_errors_name_the_question(key, value, code):
    questions = [SURVEY.question("nps"), SURVEY.question("why"), SURVEY.question("when"),
                 SURVEY.question("fix")]
    raw = {"nps": "7", "fix": ["a"], key: value}
    check = check_page(questions, raw)
    assert not check.ok and check.errors[key].code == code
    assert set(check.errors) == {key}


def test_emoji_and_mixed_scripts_within_limits_are_accepted():
    text = "服务很好 👍 but slow, очень"
    check = check_page([SURVEY.question("why")], {"why": text[:20]})
    assert check.ok and check.answers == {"why": text[:20]}


def test_yes_no_conditions_match_however_the_answer_is_written():
    definition = parse_definition({"title": "t", "questions": [
        {"key": "ok", "type": "yesno", "text": "ok?"},
        {"key": "why", "type": "text", "text": "why?",
         "show_if": {"question": "ok", "op": "==", "value": False}}]})
    for answer in ("no", "否", False, 0, "0"):
        assert [q.key for q in visible_questions(definition, 1, {"ok": answer}, {})] \
            == ["ok", "why"], answer
    assert [q.key for q in visible_questions(definition, 1, {"ok": "yes"}, {})] == ["ok"]


def test_surveys_without_logic_walk_as_the_general_rules_would():
    from tiyan.domain.survey_flow import _follow
    from tiyan.domain.survey_templates import TEMPLATES, template

    assert SURVEY.has_logic
    plain = [template(code) for code in TEMPLATES if not template(code).has_logic]
    assert plain, "the templates include surveys without logic"
    for definition in plain:
        keys = [q.key for q in definition.questions]
        for given in ({}, {k: 1 for k in keys}, {k: ("" if i % 3 else "x")
                                                 for i, k in enumerate(keys)}):
            fast = walk(definition, given, {})
            assert fast == _follow(definition, given, {})
            assert fast.pages == tuple(sorted({q.page for q in definition.questions}))


def test_staff_pages_name_the_survey_with_placeholders_read_as_their_fallbacks():
    definition = parse_definition({
        "title": {"zh-CN": "{customer:first_name|您}好，欢迎评价",
                  "en": "Hi {customer:name|there}, rate us"},
        "questions": [{"key": "nps", "type": "nps", "text": "?"}]})
    assert title_for_staff(definition, "zh-CN") == "您好，欢迎评价"
    assert title_for_staff(definition, "en") == "Hi there, rate us"
    assert title_for_staff(definition, "ja") == "您好，欢迎评价"  # the first written
    assert title_for_staff(None, "en") is None
