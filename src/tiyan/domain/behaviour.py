"""Behaviour metrics from transactions, next to the survey KPIs of the same units.

A *purchase* is any stored transaction except a refund (kind "refund"): purchases, visits,
repairs, stays all count, as they do for the RFM segments. Every figure is an `Estimate` with
its n and 95% interval and is "too few" under the minimum n (domain/metrics), n being the
customers (or, for the spend per transaction, the transactions) it is computed over.

- **Repurchase rate**: of the customers who bought at the unit (its subtree) in the period, the
  share with a later purchase there within `window` (the churn window, 90 days by default)
  after one of their purchases in the period. The later purchase may fall after the period;
  while the window after the period's end has not passed yet, the follow-up is incomplete and
  the figure can only grow (`Behaviour.follow_up_complete`). Percent, Wilson interval.
- **Purchase frequency**: purchases per buying customer in the period (mean of each
  customer's count, Student-t interval).
- **Average spend**: mean amount per purchase (n = purchases) and per buying customer (each
  customer's total in the period, n = customers).
- **Retention by cohort**: a customer's cohort is the month of their first purchase at the
  unit's subtree; for each cohort, the share of its customers with a purchase there in the
  month +1, +2, … after (a triangle: only months that have begun are shown).

Times are aware datetimes; the cohorts' are in the business time zone, so their months are
local months. Plain Python: the figures are made from counts and sums (`figures`,
`retention`), which the query side (analytics/behaviour) has the database compute; `behaviour`
and `cohort_retention` make the same counts from the purchases themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tiyan.domain.metrics import Estimate, mean_estimate, proportion

REFUND = "refund"


@dataclass(frozen=True)
class Purchase:
    at: dt.datetime  # aware
    amount: Decimal


@dataclass(frozen=True)
class Period:
    """A half-open range of moments [start, end)."""

    start: dt.datetime
    end: dt.datetime

    def holds(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Behaviour:
    customers: int  # who bought in the period
    purchases: int  # in the period
    repurchase: Estimate  # percent of customers
    frequency: Estimate  # purchases per customer
    spend_per_purchase: Estimate
    spend_per_customer: Estimate
    follow_up_complete: bool  # the whole window after the period has passed


def repurchased(times: Sequence[dt.datetime], period: Period, window: dt.timedelta) -> bool:
    """Whether a purchase in the period is followed by a later one within `window`
    (`times` sorted)."""
    return any(period.holds(first) and first < then <= first + window
               for first, then in zip(times, times[1:], strict=False))


@dataclass(frozen=True)
class BehaviourSums:
    """The counts and sums the figures are made of (what a database sums up): amounts in the
    currency's units, squares as floats."""

    customers: int = 0  # who bought in the period
    repeat: int = 0  # of them, who bought again within the window
    purchases: int = 0  # in the period
    count_sq: float = 0.0  # Σ over customers of (their purchases)²
    spend: float = 0.0  # Σ amounts of the purchases
    spend_sq: float = 0.0  # Σ over customers of (their total)²
    amount_sq: float = 0.0  # Σ over purchases of amount²


def behaviour(history: Mapping[int, Sequence[Purchase]], period: Period,
              window: dt.timedelta, as_of: dt.datetime, *, min_n: int) -> Behaviour:
    """The behaviour figures of a set of customers: `history` holds each customer's purchases
    from the period's start to at least `window` after its end (any order)."""
    return figures(sums_of(history, period, window), period, window, as_of, min_n=min_n)


def sums_of(history: Mapping[int, Sequence[Purchase]], period: Period,
            window: dt.timedelta) -> BehaviourSums:
    buyers = repeat = purchases = 0
    count_sq = spend = spend_sq = amount_sq = 0.0
    for bought in history.values():
        inside = [p for p in bought if period.holds(p.at)]
        if not inside:
            continue
        buyers += 1
        purchases += len(inside)
        count_sq += len(inside) ** 2
        total = float(sum((p.amount for p in inside), Decimal(0)))
        spend += total
        spend_sq += total * total
        amount_sq += sum(float(p.amount) ** 2 for p in inside)
        repeat += repurchased(sorted(p.at for p in bought), period, window)
    return BehaviourSums(buyers, repeat, purchases, count_sq, spend, spend_sq, amount_sq)


def figures(sums: BehaviourSums, period: Period, window: dt.timedelta, as_of: dt.datetime,
            *, min_n: int) -> Behaviour:
    """The figures, with their n and intervals, from the counts and sums."""
    return Behaviour(
        customers=sums.customers, purchases=sums.purchases,
        repurchase=proportion(sums.repeat, sums.customers, min_n=min_n),
        frequency=mean_estimate(sums.customers, sums.purchases, sums.count_sq, min_n=min_n),
        spend_per_purchase=mean_estimate(sums.purchases, sums.spend, sums.amount_sq,
                                         min_n=min_n),
        spend_per_customer=mean_estimate(sums.customers, sums.spend, sums.spend_sq,
                                         min_n=min_n),
        follow_up_complete=as_of >= period.end + window)


# --- retention by cohort ----------------------------------------------------------------------

@dataclass(frozen=True)
class Cohort:
    month: dt.date  # first day of the month of the customers' first purchase
    customers: int
    retained: list[Estimate]  # percent with a purchase in month +1, +2, … (months begun)


def month_of(moment: dt.datetime | dt.date) -> dt.date:
    return dt.date(moment.year, moment.month, 1)


def months_between(first: dt.date, later: dt.date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def cohort_retention(first_purchase: Mapping[int, dt.datetime],
                     purchases: Iterable[tuple[int, dt.datetime]], first_month: dt.date,
                     last_month: dt.date, *, min_n: int) -> list[Cohort]:
    """Cohorts from `first_month` to `last_month` (first days of months), oldest first.

    `first_purchase` holds each customer's first purchase ever at the unit's subtree;
    `purchases` (customer, moment) their purchases from `first_month` on (at least up to
    `last_month`'s end). Customers whose first purchase lies outside the months are left out."""
    members: dict[dt.date, set[int]] = {}
    for customer, moment in first_purchase.items():
        month = month_of(moment)
        if first_month <= month <= last_month:
            members.setdefault(month, set()).add(customer)
    cohort_of = {c: month for month, group in members.items() for c in group}
    active: dict[tuple[dt.date, int], set[int]] = {}
    for customer, moment in purchases:
        cohort = cohort_of.get(customer)
        if cohort is None:
            continue
        offset = months_between(cohort, month_of(moment))
        if offset > 0:
            active.setdefault((cohort, offset), set()).add(customer)
    return retention({month: len(group) for month, group in members.items()},
                     {key: len(group) for key, group in active.items()}, last_month,
                     min_n=min_n)


def retention(sizes: Mapping[dt.date, int], active: Mapping[tuple[dt.date, int], int],
              last_month: dt.date, *, min_n: int) -> list[Cohort]:
    """Cohorts from their counts: `sizes` the customers of each cohort (month), `active`
    those of a cohort with a purchase in the month +k after it, keyed (month, k)."""
    out = []
    for month in sorted(sizes):
        size = sizes[month]
        later = months_between(month, last_month)
        out.append(Cohort(month, size, [
            proportion(active.get((month, k), 0), size, min_n=min_n)
            for k in range(1, later + 1)]))
    return out
