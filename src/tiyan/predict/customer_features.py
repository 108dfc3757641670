"""Churn features of one tiyan customer at a moment ``as_of``, computed from their history.

Only what happened up to ``as_of`` counts, so features for past moments can train a model
without looking into the future. A window of N days holds events in (as_of − N days, as_of].
Product holdings have no dates and are taken as they are now.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from tiyan.predict.customer_history import CustomerHistory, require_aware

OVERDUE_AFTER_DAYS = 7
DAYS_PER_MONTH = 30
RECENT_VISIT_MONTHS = 4
EARLIER_VISIT_MONTHS = 8
NAN = float("nan")


def build_customer_features(
    customer_history: CustomerHistory, as_of: datetime, lapse_days: float | None = None
) -> dict[str, float]:
    """All churn features of one customer, by the names ``CUSTOMER_FEATURES`` declares.

    ``lapse_days``: the customer's lapse interval (days without a purchase after which their
    segment counts them as gone); ``recency_share`` is the days since the last purchase over it.
    """
    require_aware(as_of, "as_of")
    history = customer_history
    purchases = purchase_features(history, as_of)
    return {
        **score_features(history, as_of),
        **experience_features(history, as_of),
        **purchases,
        "recency_share": recency_share(purchases["recency_days"], lapse_days),
        **visit_features(history, as_of),
        "tenure_months": float(months_between(history.customer_since, as_of)),
        "product_count": float(len(set(history.products))),
    }


def score_features(history: CustomerHistory, as_of: datetime) -> dict[str, float]:
    """Latest NPS and CSAT and their change from the previous answer (NaN when unknown)."""
    answers = sorted(
        (a for a in history.answers if a.answered_at <= as_of),
        key=lambda answer: answer.answered_at,
    )
    nps = [float(a.nps) for a in answers if a.nps is not None]
    csat = [float(a.csat) for a in answers if a.csat is not None]
    return {
        "latest_nps": _latest(nps),
        "nps_trend": _last_change(nps),
        "latest_csat": _latest(csat),
        "csat_trend": _last_change(csat),
    }


def experience_features(history: CustomerHistory, as_of: datetime) -> dict[str, float]:
    """Negative mentions, open and overdue cases, failed recoveries and complaints."""
    negative = [m.mentioned_at for m in history.aspect_mentions if m.sentiment == "negative"]
    unresolved = [case for case in history.cases if case.unresolved_at(as_of)]
    overdue_since = as_of - timedelta(days=OVERDUE_AFTER_DAYS)
    failed = [c.called_at for c in history.callbacks if not c.recovered]
    complaints = [complaint.received_at for complaint in history.complaints]
    return {
        "negative_aspects_90d": float(count_within(negative, as_of, 90)),
        "open_cases": float(len(unresolved)),
        "overdue_cases": float(sum(case.opened_at <= overdue_since for case in unresolved)),
        "failed_recoveries_12m": float(count_within(failed, as_of, 365)),
        "complaints_30d": float(count_within(complaints, as_of, 30)),
        "complaints_90d": float(count_within(complaints, as_of, 90)),
    }


def purchase_features(history: CustomerHistory, as_of: datetime) -> dict[str, float]:
    """RFM: days since the last purchase, purchases and amount spent in the last 365 days."""
    past = [t for t in history.transactions if t.occurred_at <= as_of]
    year_ago = as_of - timedelta(days=365)
    last_year = [t for t in past if t.occurred_at > year_ago]
    latest = max((t.occurred_at for t in past), default=None)
    return {
        "recency_days": NAN if latest is None else (as_of - latest) / timedelta(days=1),
        "frequency_12m": float(len(last_year)),
        "monetary_12m": float(sum(t.amount for t in last_year)),
    }


def recency_share(recency_days: float, lapse_days: float | None) -> float:
    """Days since the last purchase as a share of the lapse interval (NaN when either is
    unknown); 1.0 means the customer is just lapsing."""
    if lapse_days is None or not lapse_days > 0 or math.isnan(recency_days):
        return NAN
    return recency_days / lapse_days


def visit_features(history: CustomerHistory, as_of: datetime) -> dict[str, float]:
    """Visits a month in the last 4 months against the 8 months before; drop = before − recent.

    Months are 30 days; every transaction is a visit.
    """
    visits = [t.occurred_at for t in history.transactions]
    recent_days = RECENT_VISIT_MONTHS * DAYS_PER_MONTH
    earlier_days = (RECENT_VISIT_MONTHS + EARLIER_VISIT_MONTHS) * DAYS_PER_MONTH
    recent = count_within(visits, as_of, recent_days) / RECENT_VISIT_MONTHS
    earlier = (
        count_within(visits, as_of, earlier_days) - count_within(visits, as_of, recent_days)
    ) / EARLIER_VISIT_MONTHS
    return {
        "visits_per_month_recent": recent,
        "visits_per_month_before": earlier,
        "visit_rate_drop": earlier - recent,
    }


def count_within(moments: Iterable[datetime], as_of: datetime, days: int) -> int:
    """How many of ``moments`` fall in the ``days`` days up to and including ``as_of``."""
    start = as_of - timedelta(days=days)
    return sum(start < moment <= as_of for moment in moments)


def months_between(start: datetime, end: datetime) -> int:
    """Whole calendar months from ``start`` to ``end`` (0 if ``end`` is not later)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    months = (end.year - start.year) * 12 + end.month - start.month
    if (end.day, end.time()) < (start.day, start.time()):
        months -= 1
    return max(months, 0)


def _latest(values: Sequence[float]) -> float:
    return values[-1] if values else NAN


def _last_change(values: Sequence[float]) -> float:
    return values[-1] - values[-2] if len(values) >= 2 else NAN
