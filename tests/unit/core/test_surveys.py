import pytest

from tiyan.domain.responses import check_answers
from tiyan.domain.survey_templates import TEMPLATES, template
from tiyan.domain.surveys import definition_to_dict, parse_definition
from tiyan.errors import InvalidInput


def q(**fields):
    return {"key": "q1", "type": "nps", "text": "推荐?", **fields}


def survey(*questions):
    return {"title": "调查", "questions": list(questions)}


@pytest.mark.parametrize("code", sorted(TEMPLATES))
def test_every_template_parses_and_round_trips(code):
    definition = template(code)
    assert parse_definition(definition_to_dict(definition)) == definition


def test_after_sales_template_has_the_nine_process_and_nine_satisfaction_items():
    definition = template("after_sales_phone")
    process = [x for x in definition.questions if x.type == "yesno"]
    satisfaction = [x for x in definition.questions if x.type == "csat"]
    assert len(process) == 9 and len(satisfaction) == 9
    assert any(x.item_code == "nps" for x in definition.questions)


@pytest.mark.parametrize(
    ("raw", "where", "fragment"),
    [
        (survey(q(type="stars")), 'question "q1"', "unknown question type"),
        (survey(q(), q()), 'question "q1"', "used by an earlier question"),
        (survey(q(key="Bad Key")), "question 1", "key must be"),
        (survey(q(type="single", options=[{"code": "a", "text": "A"}])), 'question "q1"',
         "at least two options"),
        (survey(q(type="rating")), 'question "q1"', "needs a scale"),
        (survey(q(show_if={"question": "later", "op": "<=", "value": 6})),
         'question "q1".show_if', "not an earlier question"),
        (survey(q(text={"zh-CN": "推荐"})), 'question "q1".text', "missing the en text"),
        (survey(q(colour="red")), 'question "q1"', "unknown field"),
        ({"title": "x", "questions": []}, "survey.questions", "at least one question"),
    ],
)
def test_invalid_definitions_name_the_question_and_the_rule(raw, where, fragment):
    with pytest.raises(InvalidInput) as err:
        parse_definition(raw)
    assert err.value.where == where
    assert fragment in err.value.message


NPS_SURVEY = parse_definition(survey(
    q(key="nps", required=True, item_code="nps"),
    {"key": "why", "type": "text", "text": "为什么", "show_if": {"question": "nps", "op": "<=",
                                                             "value": 6}},
    {"key": "visit", "type": "yesno", "text": "来过吗"},
    {"key": "pick", "type": "multi", "text": "选", "allow_other": True,
     "options": [{"code": "a", "text": "A"}, {"code": "b", "text": "B"}]},
    {"key": "grid", "type": "matrix", "text": "打分", "scale": {"min": 1, "max": 5},
     "rows": [{"code": "r1", "text": "R1"}, {"code": "r2", "text": "R2"}]},
))


def test_answers_become_typed_long_rows():
    values = check_answers(NPS_SURVEY, {"nps": "3", "why": "太慢 🐢", "visit": "是",
                                        "pick": ["a", {"other": "别的"}], "grid": {"r1": 4}})
    rows = {v.question_key: v for v in values}
    assert rows["nps"].value_num == 3.0 and rows["nps"].item_code == "nps"
    assert rows["why"].value_text == "太慢 🐢"
    assert rows["visit"].value_num == 1.0
    assert rows["pick"].value_json == ["a", "other"] and rows["pick"].value_text == "别的"
    assert rows["grid.r1"].value_num == 4.0


def test_display_logic_drops_answers_to_hidden_questions():
    values = check_answers(NPS_SURVEY, {"nps": 9, "why": "not shown"})
    assert [v.question_key for v in values] == ["nps"]


@pytest.mark.parametrize(
    ("answers", "where", "fragment"),
    [
        ({"nps": "十"}, "answers.nps", "not a whole number from 0 to 10"),
        ({"nps": 11}, "answers.nps", "not a whole number from 0 to 10"),
        ({"nps": 7.5}, "answers.nps", "not a whole number"),
        ({"nps": True}, "answers.nps", "not a whole number"),
        ({}, "answers.nps", "needs an answer"),
        ({"nps": 5, "nope": 1}, "answers.nope", 'no question "nope"'),
        ({"nps": 5, "why": "x" * 100_001}, "answers.why", "the limit is"),
        ({"nps": 5, "visit": "maybe"}, "answers.visit", "not yes or no"),
        ({"nps": 5, "pick": ["zz"]}, "answers.pick", "not one of the options"),
        ({"nps": 5, "grid": {"r9": 1}}, "answers.grid", "not a row"),
        ({"nps": 5, "why": 12}, "answers.why", "must be text"),
    ],
)
def test_bad_answers_say_what_and_where(answers, where, fragment):
    with pytest.raises(InvalidInput) as err:
        check_answers(NPS_SURVEY, answers)
    assert err.value.where == where
    assert fragment in err.value.message
