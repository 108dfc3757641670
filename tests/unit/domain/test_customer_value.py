"""RFM values, quintile scores, RFM segments and rule-based segments."""

import datetime as dt
from decimal import Decimal

import pytest

from tiyan.domain.customer_value import (
    DEFAULT_EDGES,
    Rfm,
    RfmEdges,
    RfmScore,
    SegmentRule,
    Visit,
    parse_segment_rules,
    rfm_edges,
    rfm_of,
    rfm_segment,
    score_rfm,
    segment_label,
    segment_of,
)
from tiyan.errors import InvalidInput

NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def days_ago(days: float, amount: str = "100") -> Visit:
    return Visit(NOW - dt.timedelta(days=days), Decimal(amount))


def test_rfm_counts_the_last_year_and_ignores_the_future():
    rfm = rfm_of([days_ago(10, "200"), days_ago(100, "300"), days_ago(400, "5000"),
                  days_ago(-3, "999")], NOW)
    assert rfm.recency_days == 10
    assert rfm.frequency == 2
    assert rfm.monetary == Decimal("500")
    assert rfm.first_visit_days == 400


def test_a_customer_without_visits_has_no_recency_and_is_a_prospect():
    rfm = rfm_of([], NOW)
    assert rfm == Rfm(None, 0, Decimal("0"), None)
    assert score_rfm(rfm, DEFAULT_EDGES) == RfmScore(0, 0, 0)
    assert segment_of({}, rfm, DEFAULT_EDGES) == "prospect"


def test_quintile_edges_split_the_active_base():
    values = [Rfm(float(d), d % 7, Decimal(d * 10), 400.0) for d in range(1, 101)]
    edges = rfm_edges(values + [Rfm(None, 0, Decimal(0), None)])
    assert edges.recency == (20.0, 40.0, 60.0, 80.0)
    assert len(edges.frequency) == len(edges.monetary) == 4
    assert rfm_edges([]) == DEFAULT_EDGES
    assert RfmEdges.from_json(edges.to_json()) == edges


@pytest.mark.parametrize(("rfm", "expected"), [
    (Rfm(5, 8, Decimal(20000), 500), "champions"),
    (Rfm(100, 3, Decimal(2000), 500), "loyal"),
    (Rfm(10, 1, Decimal(100), 500), "potential"),
    (Rfm(10, 1, Decimal(100), 30), "new"),
    (Rfm(200, 6, Decimal(20000), 700), "cant_lose"),
    (Rfm(200, 3, Decimal(2000), 700), "at_risk"),
    (Rfm(120, 1, Decimal(100), 700), "needs_attention"),
    (Rfm(250, 1, Decimal(100), 700), "hibernating"),
    (Rfm(320, 1, Decimal(100), 700), "lost"),
    (Rfm(400, 0, Decimal(0), 700), "lost"),
])
def test_rfm_segments(rfm, expected):
    assert rfm_segment(rfm, score_rfm(rfm, DEFAULT_EDGES)) == expected


def test_scores_run_from_one_to_five():
    assert score_rfm(Rfm(1, 50, Decimal(10**6), 900), DEFAULT_EDGES) == RfmScore(5, 5, 5)
    assert score_rfm(Rfm(364, 0, Decimal(0), 900), DEFAULT_EDGES) == RfmScore(1, 1, 1)
    assert score_rfm(Rfm(1, 50, Decimal(10**6), 900), DEFAULT_EDGES).code == "555"


def test_rules_come_before_rfm_and_the_first_match_wins():
    rules = parse_segment_rules([
        {"segment": "vip", "attribute": {"vip": True}},
        {"segment": "big_spender", "monetary_at_least": 5000, "frequency_at_least": 2},
    ])
    rfm = Rfm(5, 3, Decimal(6000), 500)
    assert segment_of({"vip": "是"}, rfm, DEFAULT_EDGES, rules) == "vip"
    assert segment_of({"vip": "no"}, rfm, DEFAULT_EDGES, rules) == "big_spender"
    assert segment_of({}, Rfm(5, 1, Decimal(6000), 500), DEFAULT_EDGES, rules) == "potential"
    assert SegmentRule("x", monetary_at_least=Decimal(1)).matches({}, rfm)


@pytest.mark.parametrize(("raw", "where"), [
    ({"segment": "x"}, "segment_rules"),
    ([{"segment": "", "attribute": {"a": 1}}], "segment_rules[0].segment"),
    ([{"segment": "x"}], "segment_rules[0]"),
    ([{"segment": "x", "monetary_at_least": -5}], "segment_rules[0].monetary_at_least"),
    ([{"segment": "x", "frequency_at_least": 1.5}], "segment_rules[0].frequency_at_least"),
    ([{"segment": "x", "colour": "red"}], "segment_rules[0]"),
    (["vip"], "segment_rules[0]"),
])
def test_bad_rules_name_where(raw, where):
    with pytest.raises(InvalidInput) as caught:
        parse_segment_rules(raw)
    assert caught.value.where == where


def test_segment_labels_in_both_languages():
    assert segment_label("at_risk", "zh-CN") == "流失风险"
    assert segment_label("at_risk", "en") == "at risk"
    assert segment_label("custom", "en") == "custom"
    # the demo's customers with one or two visits (the at-risk page showed the code)
    assert segment_label("regular", "zh-CN") == "普通客户"
    assert segment_label(None, "en") == ""
