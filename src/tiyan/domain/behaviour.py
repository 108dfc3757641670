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
local months. Plain Python:
the query side (analytics/behaviour) reads the transactions and hands them in.
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


def behaviour(history: Mapping[int, Sequence[Purchase]], period: Period,
              window: dt.timedelta, as_of: dt.datetime, *, min_n: int) -> Behaviour:
    """The behaviour figures of a set of customers: `history` holds each customer's purchases
    from the period's start to at least `window` after its end (any order)."""
    buyers = repeat = 0
    count_sum = count_sq = 0.0
    spend_sum = spend_sq = amount_sum = amount_sq = 0.0
    purchases = 0
    for bought in history.values():
        inside = [p for p in bought if period.holds(p.at)]
        if not inside:
            continue
        buyers += 1
        purchases += len(inside)
        count_sum += len(inside)
        count_sq += len(inside) ** 2
        total = float(sum((p.amount for p in inside), Decimal(0)))
        spend_sum += total
        spend_sq += total * total
        for p in inside:
            amount_sum += float(p.amount)
            amount_sq += float(p.amount) ** 2
        repeat += repurchased(sorted(p.at for p in bought), period, window)
    return Behaviour(
        customers=buyers, purchases=purchases,
        repurchase=proportion(repeat, buyers, min_n=min_n),
        frequency=mean_estimate(buyers, count_sum, count_sq, min_n=min_n),
        spend_per_purchase=mean_estimate(purchases, amount_sum, amount_sq, min_n=min_n),
        spend_per_customer=mean_estimate(buyers, spend_sum, spend_sq, min_n=min_n),
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
    out = []
    for month in sorted(members):
        size = len(members[month])
        later = months_between(month, last_month)
        out.append(Cohort(month, size, [
            proportion(len(active.get((month, k), ())), size, min_n=min_n)
            for k in range(1, later + 1)]))
    return out
