"""Behaviour figures from purchases, checked against values worked out by hand."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from tiyan.domain.behaviour import (
    Period,
    Purchase,
    behaviour,
    cohort_retention,
    months_between,
    repurchased,
)

TZ = dt.timezone(dt.timedelta(hours=8))
PERIOD = Period(dt.datetime(2026, 1, 1, tzinfo=TZ), dt.datetime(2026, 7, 1, tzinfo=TZ))
WINDOW = dt.timedelta(days=90)
AFTER = dt.datetime(2026, 11, 20, tzinfo=TZ)


def at(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 12, tzinfo=TZ)


def bought(*items: tuple[dt.datetime, str]) -> list[Purchase]:
    return [Purchase(moment, Decimal(amount)) for moment, amount in items]


HISTORY = {
    1: bought((at(1, 10), "100"), (at(2, 1), "50")),  # again after 22 days: yes
    2: bought((at(3, 1), "200"), (at(3, 15), "20")),  # yes
    3: bought((at(6, 20), "80"), (at(8, 1), "40")),  # again after the period, 42 days: yes
    4: bought((at(2, 1), "60"), (at(7, 15), "60")),  # 164 days later: no
    5: bought((at(12, 15, 2025), "30"), (at(4, 1), "70")),  # bought before, not after: no
    6: bought((at(5, 5), "10"),),  # once: no
    7: bought((at(8, 1), "999"),),  # only after the period: not a buyer of the period
}


def test_repurchase_frequency_and_spend_of_a_hand_counted_history():
    figures = behaviour(HISTORY, PERIOD, WINDOW, AFTER, min_n=5)
    assert (figures.customers, figures.purchases) == (6, 8)
    assert figures.repurchase.value == pytest.approx(50.0)
    assert figures.repurchase.n == 6
    assert figures.frequency.value == pytest.approx(8 / 6)
    assert figures.spend_per_purchase.value == pytest.approx(590 / 8)
    assert figures.spend_per_purchase.n == 8
    assert figures.spend_per_customer.value == pytest.approx(590 / 6)
    assert figures.follow_up_complete


def test_repurchase_interval_is_the_wilson_interval_of_3_of_6():
    figures = behaviour(HISTORY, PERIOD, WINDOW, AFTER, min_n=5)
    z, p, n = 1.96, 0.5, 6
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert figures.repurchase.low == pytest.approx(100 * (centre - half))
    assert figures.repurchase.high == pytest.approx(100 * (centre + half))


def test_frequency_interval_is_the_t_interval_of_the_counts():
    figures = behaviour(HISTORY, PERIOD, WINDOW, AFTER, min_n=5)
    counts = [2, 2, 1, 1, 1, 1]
    mean = sum(counts) / 6
    sd = math.sqrt(sum((c - mean) ** 2 for c in counts) / 5)
    half = 2.5705818366147395 * sd / math.sqrt(6)  # t(0.975, 5)
    assert figures.frequency.low == pytest.approx(mean - half)
    assert figures.frequency.high == pytest.approx(mean + half)


def test_under_the_minimum_n_no_figure_is_shown():
    figures = behaviour(HISTORY, PERIOD, WINDOW, AFTER, min_n=7)
    assert figures.repurchase.too_few and figures.repurchase.value is None
    assert figures.frequency.too_few and figures.spend_per_customer.too_few
    assert not figures.spend_per_purchase.too_few  # 8 purchases


def test_follow_up_is_incomplete_until_the_window_after_the_period_has_passed():
    soon = PERIOD.end + dt.timedelta(days=30)
    assert not behaviour(HISTORY, PERIOD, WINDOW, soon, min_n=5).follow_up_complete


def test_no_buyers_gives_too_few_with_n_zero():
    figures = behaviour({}, PERIOD, WINDOW, AFTER, min_n=5)
    assert figures.customers == 0 and figures.repurchase.too_few and figures.repurchase.n == 0


def test_a_purchase_at_the_same_moment_or_past_the_window_is_not_a_repurchase():
    first = at(3, 1)
    assert not repurchased([first, first], PERIOD, WINDOW)
    assert not repurchased([first, first + WINDOW + dt.timedelta(seconds=1)], PERIOD, WINDOW)
    assert repurchased([first, first + WINDOW], PERIOD, WINDOW)


def test_cohort_triangle_counts_each_customer_once_per_later_month():
    first = {1: at(1, 10), 2: at(1, 20), 3: at(1, 25), 4: at(2, 3), 5: at(12, 1, 2025)}
    purchases = [(1, at(1, 10)), (1, at(2, 5)), (1, at(2, 9)), (2, at(1, 20)), (2, at(3, 1)),
                 (3, at(1, 25)), (1, at(3, 2)), (4, at(2, 3)), (4, at(3, 30)), (5, at(2, 2))]
    cohorts = cohort_retention(first, purchases, dt.date(2026, 1, 1), dt.date(2026, 3, 1),
                               min_n=1)
    assert [(c.month, c.customers) for c in cohorts] == [
        (dt.date(2026, 1, 1), 3), (dt.date(2026, 2, 1), 1)]  # customer 5 began in December
    january, february = cohorts
    assert [e.value for e in january.retained] == pytest.approx([100 / 3, 200 / 3])
    assert [e.value for e in february.retained] == pytest.approx([100.0])
    assert months_between(dt.date(2025, 11, 1), dt.date(2026, 2, 1)) == 3


def test_cohort_cells_under_the_minimum_n_are_too_few():
    first = {1: at(1, 10), 2: at(1, 11)}
    cohorts = cohort_retention(first, [(1, at(2, 1))], dt.date(2026, 1, 1),
                               dt.date(2026, 2, 1), min_n=3)
    assert cohorts[0].customers == 2 and cohorts[0].retained[0].too_few
