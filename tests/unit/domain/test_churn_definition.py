"""The churn definition: a lapse interval per segment, configured, learned from the gaps between
visits (a high quantile) or the default when there are too few gaps."""

import datetime as dt
import random

import numpy as np
import pytest

from tiyan.domain.churn_definition import (
    MINIMUM_GAPS,
    LapseRule,
    lapse_rule,
    lapse_rules,
    quantile,
    visit_gaps,
)

DAY = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)


def test_gaps_are_days_between_visits_and_same_day_transactions_are_one_visit():
    moments = [DAY, DAY + dt.timedelta(hours=3), DAY + dt.timedelta(days=30),
               DAY + dt.timedelta(days=100)]
    assert visit_gaps(reversed(moments)) == [30.0, 70.0]
    assert visit_gaps([DAY]) == []


@pytest.mark.parametrize("q", [0.5, 0.8, 0.9, 0.95])
def test_quantile_matches_numpy(q):
    values = [random.Random(4).expovariate(1 / 200) for _ in range(333)]
    assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)))


def test_a_learned_interval_is_the_quantile_of_the_gaps_rounded_up():
    gaps = [float(d) for d in range(150, 400)]  # 250 gaps
    rule = lapse_rule("car_aftersales", gaps, configured={}, q=0.9, default_days=90)
    assert rule == LapseRule("car_aftersales", int(np.ceil(np.quantile(gaps, 0.9))), "learned",
                             0.9, 250, float(np.median(gaps)))


def test_a_configured_interval_wins_and_too_few_gaps_fall_back_to_the_default():
    gaps = [7.0] * (MINIMUM_GAPS - 1)
    rules = lapse_rules({"food": gaps, "hotel": [60.0] * 500}, configured={"car": 365},
                        q=0.9, default_days=90)
    assert rules["car"] == LapseRule("car", 365, "configured")
    assert rules["food"] == LapseRule("food", 90, "default", gaps=MINIMUM_GAPS - 1)
    assert rules["hotel"].days == 60 and rules["hotel"].source == "learned"
    assert LapseRule.from_json(rules["hotel"].to_json()) == rules["hotel"]


def test_learned_intervals_stay_within_two_weeks_and_two_years():
    assert lapse_rule("x", [1.0] * 200, configured={}, q=0.9, default_days=90).days == 14
    assert lapse_rule("x", [5000.0] * 200, configured={}, q=0.9, default_days=90).days == 730
