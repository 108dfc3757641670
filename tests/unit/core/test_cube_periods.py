"""Cutting date ranges into whole months and leftover days; previous periods; question boxes."""

import datetime as dt

from tiyan.analytics.cube import Filters, Sums, split_range
from tiyan.domain.surveys import QuestionType, parse_definition
from tiyan.store.aggregates import boxes, question_rows

D = dt.date


def test_a_range_is_cut_into_whole_months_and_leftover_days():
    assert split_range(D(2026, 1, 1), D(2026, 12, 31)) == ((D(2026, 1, 1), D(2026, 12, 1)), [])
    assert split_range(D(2026, 1, 15), D(2026, 3, 10)) == (
        (D(2026, 2, 1), D(2026, 2, 1)),
        [(D(2026, 1, 15), D(2026, 1, 31)), (D(2026, 3, 1), D(2026, 3, 10))])
    assert split_range(D(2026, 2, 3), D(2026, 2, 20)) == (None, [(D(2026, 2, 3), D(2026, 2, 20))])
    assert split_range(D(2025, 12, 1), D(2026, 2, 28)) == ((D(2025, 12, 1), D(2026, 2, 1)), [])
    assert split_range(D(2026, 3, 1), D(2026, 2, 1)) == (None, [])


def test_the_previous_period_of_whole_months_is_whole_months():
    year = Filters(D(2026, 1, 1), D(2026, 12, 31))
    assert (year.previous().date_from, year.previous().date_to) == (D(2025, 1, 1), D(2025, 12, 31))
    march = Filters(D(2026, 3, 1), D(2026, 3, 31), unit_id=4, channel="sms")
    before = march.previous()
    assert (before.date_from, before.date_to, before.unit_id, before.channel) == (
        D(2026, 2, 1), D(2026, 2, 28), 4, "sms")
    days = Filters(D(2026, 3, 5), D(2026, 3, 11)).previous()
    assert (days.date_from, days.date_to) == (D(2026, 2, 26), D(2026, 3, 4))


def test_sums_give_nps_and_means():
    s = Sums(n=10, total=80.0, total_sq=660.0, top=5, bottom=2) + Sums()
    assert s.nps(min_n=5).value == 30.0
    assert s.mean(min_n=5).value == 8.0
    assert s.top_share(min_n=5).value == 50.0
    assert s.nps(min_n=30).too_few


def test_question_boxes_and_touchpoints():
    assert boxes(QuestionType.NPS, (0, 10)) == (9.0, 6.0)
    assert boxes(QuestionType.CSAT, (1, 5)) == (4.0, 2.0)
    assert boxes(QuestionType.CES, (1, 7)) == (6.0, 2.0)
    assert boxes(QuestionType.YESNO, None) == (1.0, 0.0)
    definition = parse_definition({
        "title": {"zh-CN": "问卷", "en": "Survey"},
        "questions": [
            {"key": "nps", "type": "nps", "item_code": "nps", "text": {"zh-CN": "a", "en": "a"}},
            {"key": "q", "type": "csat", "item_code": "sat_q", "touchpoint": "repair",
             "text": {"zh-CN": "b", "en": "b"}},
            {"key": "c", "type": "text", "text": {"zh-CN": "c", "en": "c"}},
        ]})
    rows = question_rows(definition, 7, {"repair": 3})
    assert [(r["question_key"], r["touchpoint_id"], r["top_from"]) for r in rows] == [
        ("nps", None, 9.0), ("q", 3, 4.0)]


def test_top_units_of_whole_subtrees_and_none_for_a_broken_one():
    from tiyan.store.subtrees import top_units

    parents = {1: None, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3}
    assert top_units(frozenset(parents), parents) == [1]
    assert top_units(frozenset({2, 4, 5, 6}), parents) == [2, 6]
    assert top_units(frozenset({2, 4}), parents) is None  # 5 is below 2 but not shown
    assert top_units(frozenset(), parents) == []
