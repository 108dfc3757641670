"""Each churn feature of a tiyan customer, checked against values computed by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tiyan.predict import (
    CUSTOMER_FEATURES,
    AspectMention,
    CallbackRecord,
    CaseRecord,
    ComplaintRecord,
    CustomerHistory,
    InvalidCustomerHistory,
    SurveyAnswer,
    TransactionRecord,
    build_customer_features,
    customer_feature_frame,
)
from tiyan.predict.customer_features import count_within, months_between

AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def days(offset: float) -> datetime:
    """``AS_OF`` moved by ``offset`` days (negative = earlier)."""
    return AS_OF + timedelta(days=offset)


def rich_history() -> CustomerHistory:
    return CustomerHistory(
        customer_since=datetime(2024, 3, 31, 12, 0, tzinfo=UTC),
        answers=[
            SurveyAnswer(datetime(2026, 1, 10, tzinfo=UTC), nps=9, csat=5),
            SurveyAnswer(datetime(2026, 4, 1, tzinfo=UTC), nps=6),
            SurveyAnswer(datetime(2026, 5, 15, tzinfo=UTC), csat=3),
            SurveyAnswer(days(5), nps=0, csat=1),  # after as_of: ignored
        ],
        aspect_mentions=[
            AspectMention(days(-10), "服务态度", "negative"),
            AspectMention(days(-89), "等待时间", "negative"),
            AspectMention(days(-91), "价格", "negative"),  # older than 90 days
            AspectMention(days(-5), "环境", "positive"),
            AspectMention(days(1), "价格", "negative"),  # in the future
        ],
        cases=[
            CaseRecord(days(-20), "in_progress"),  # open, overdue
            CaseRecord(days(-3), "new"),  # open, not yet overdue
            CaseRecord(days(-40), "resolved", resolved_at=days(-30)),  # resolved before
            CaseRecord(days(-60), "closed", resolved_at=days(2)),  # still open at as_of
            CaseRecord(days(1), "new"),  # opened after as_of
        ],
        callbacks=[
            CallbackRecord(days(-100), recovered=False),
            CallbackRecord(days(-200), recovered=True),
            CallbackRecord(days(-400), recovered=False),  # older than 12 months
        ],
        complaints=[ComplaintRecord(days(d)) for d in (-1, -29, -31, -89, -120)],
        transactions=[
            *(TransactionRecord(days(-d), Decimal("100.50")) for d in range(130, 341, 30)),
            TransactionRecord(days(-10), Decimal("100.50")),
            TransactionRecord(days(-400), Decimal("999")),  # outside every window
            TransactionRecord(days(5), Decimal("50")),  # in the future
        ],
        products=["loan", "card", "card"],
    )


@pytest.fixture(scope="module")
def features() -> dict[str, float]:
    return build_customer_features(rich_history(), AS_OF)


def test_latest_scores_ignore_answers_after_as_of(features: dict[str, float]) -> None:
    assert features["latest_nps"] == 6.0
    assert features["latest_csat"] == 3.0


def test_score_trend_is_latest_minus_previous_answer(features: dict[str, float]) -> None:
    assert features["nps_trend"] == 6.0 - 9.0
    assert features["csat_trend"] == 3.0 - 5.0


def test_negative_aspects_count_only_negative_mentions_in_90_days(
    features: dict[str, float],
) -> None:
    assert features["negative_aspects_90d"] == 2.0


def test_open_cases_are_those_unresolved_at_as_of(features: dict[str, float]) -> None:
    assert features["open_cases"] == 3.0


def test_overdue_cases_are_open_for_more_than_seven_days(features: dict[str, float]) -> None:
    assert features["overdue_cases"] == 2.0


def test_failed_recoveries_count_callbacks_without_recovery_in_12_months(
    features: dict[str, float],
) -> None:
    assert features["failed_recoveries_12m"] == 1.0


def test_complaints_in_30_and_90_days(features: dict[str, float]) -> None:
    assert features["complaints_30d"] == 2.0
    assert features["complaints_90d"] == 4.0


def test_rfm_from_transactions_up_to_as_of(features: dict[str, float]) -> None:
    assert features["recency_days"] == 10.0
    assert features["frequency_12m"] == 9.0  # 8 earlier visits + 1 recent
    assert features["monetary_12m"] == pytest.approx(9 * 100.50)


def test_visit_rate_drop_compares_last_4_months_with_the_8_before(
    features: dict[str, float],
) -> None:
    assert features["visits_per_month_before"] == 8 / 8
    assert features["visits_per_month_recent"] == 1 / 4
    assert features["visit_rate_drop"] == pytest.approx(0.75)


def test_tenure_in_whole_months_and_distinct_products(features: dict[str, float]) -> None:
    assert features["tenure_months"] == 26.0  # 2024-03-31 → 2026-05-31 is 26 months
    assert features["product_count"] == 2.0


def test_features_match_the_declared_specs(features: dict[str, float]) -> None:
    assert list(features) == [spec.name for spec in CUSTOMER_FEATURES]


def test_empty_history_gives_missing_scores_and_zero_counts() -> None:
    empty = build_customer_features(CustomerHistory(customer_since=days(-45)), AS_OF)
    for unknown in ("latest_nps", "nps_trend", "latest_csat", "csat_trend", "recency_days"):
        assert math.isnan(empty[unknown]), unknown
    assert empty["complaints_90d"] == 0.0
    assert empty["visit_rate_drop"] == 0.0
    assert empty["tenure_months"] == 1.0


def test_window_holds_events_after_its_start_up_to_as_of() -> None:
    moments = [days(-30), days(-29.99), days(0), days(0.01)]
    assert count_within(moments, AS_OF, 30) == 2


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 2, 15, tzinfo=UTC), 1),
        (datetime(2024, 1, 31, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC), 0),
        (datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 12, 1, tzinfo=UTC), 12),
        (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC), 0),
    ],
)
def test_months_between_counts_whole_calendar_months(
    start: datetime, end: datetime, months: int
) -> None:
    assert months_between(start, end) == months


def test_as_of_without_time_zone_is_rejected() -> None:
    with pytest.raises(InvalidCustomerHistory, match="as_of: 2026-06-30T12:00:00 has no time zone"):
        build_customer_features(rich_history(), datetime(2026, 6, 30, 12, 0))


def test_record_without_time_zone_is_rejected() -> None:
    with pytest.raises(InvalidCustomerHistory, match="complaint: .* has no time zone"):
        ComplaintRecord(datetime(2026, 1, 1))


def test_resolved_case_needs_its_resolution_time() -> None:
    with pytest.raises(InvalidCustomerHistory, match="status 'resolved' needs resolved_at set"):
        CaseRecord(days(-5), "resolved")


def test_nps_outside_0_to_10_is_rejected() -> None:
    with pytest.raises(InvalidCustomerHistory, match="NPS 11 is not in 0–10"):
        SurveyAnswer(days(-1), nps=11)


def test_feature_frame_has_one_row_per_customer() -> None:
    frame = customer_feature_frame({"c1": rich_history(), "c2": CustomerHistory(days(-400))}, AS_OF)
    assert list(frame.index) == ["c1", "c2"]
    assert frame.loc["c1", "open_cases"] == 3.0
    assert frame.loc["c2", "tenure_months"] == 13.0
