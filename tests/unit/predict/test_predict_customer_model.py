"""From tiyan customer histories to churn scores with reasons in plain words: customers who
complain and stop visiting leave; the model must find that and say it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from tiyan.predict import (
    CUSTOMER_FEATURES,
    ChurnDataset,
    ComplaintRecord,
    CustomerHistory,
    SurveyAnswer,
    TrainedChurnModel,
    TransactionRecord,
    customer_feature_frame,
    train_churn_model,
)

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def history(complaints: int, monthly_visits: int, stopped: bool, nps: int) -> CustomerHistory:
    visits = [
        TransactionRecord(AS_OF - timedelta(days=30 * month + 3 * visit), Decimal("88"))
        for month in range(12)
        for visit in range(monthly_visits)
        if not (stopped and month < 4)
    ]
    return CustomerHistory(
        customer_since=AS_OF - timedelta(days=800),
        answers=[SurveyAnswer(AS_OF - timedelta(days=20), nps=nps)],
        complaints=[ComplaintRecord(AS_OF - timedelta(days=2 + i)) for i in range(complaints)],
        transactions=visits,
        products=["service"],
    )


def customers(count: int, seed: int) -> tuple[dict[str, CustomerHistory], np.ndarray]:
    generator = np.random.default_rng(seed)
    histories: dict[str, CustomerHistory] = {}
    churned = np.zeros(count, dtype=bool)
    for i in range(count):
        complaints = int(generator.poisson(0.5))
        stopped = bool(generator.random() < 0.3)
        log_odds = -2.5 + 1.2 * complaints + 2.5 * stopped
        churned[i] = generator.random() < 1 / (1 + np.exp(-log_odds))
        nps = int(generator.integers(0, 11))
        histories[f"c{i}"] = history(complaints, int(generator.integers(1, 4)), stopped, nps)
    return histories, churned


@pytest.fixture(scope="module")
def model() -> TrainedChurnModel:
    histories, churned = customers(500, seed=1)
    frame = customer_feature_frame(histories, AS_OF)
    return train_churn_model(ChurnDataset(frame, churned, CUSTOMER_FEATURES), seed=0)


def test_model_learns_churn_from_complaints_and_lost_visits(model: TrainedChurnModel) -> None:
    histories, churned = customers(1000, seed=2)
    frame = customer_feature_frame(histories, AS_OF)
    figures = model.evaluate(ChurnDataset(frame, churned, CUSTOMER_FEATURES))
    assert figures.roc_auc > 0.75
    assert figures.brier < figures.brier_base_rate


def test_customer_who_complains_and_stops_visiting_hears_why(model: TrainedChurnModel) -> None:
    frame = customer_feature_frame({"lost": history(3, 2, True, 8)}, AS_OF)
    [score] = model.score(frame)
    assert score.probability > 0.7
    texts = [reason.text_en for reason in score.reasons]
    assert any("complaints in 30 days" in text for text in texts), texts
    lost_visits = ("visits went from", "visits a month in the last 4 months", "last purchase was")
    assert any(part in text for part in lost_visits for text in texts), texts
    assert all(reason.text_zh for reason in score.reasons)


def test_content_regular_customer_is_low_risk(model: TrainedChurnModel) -> None:
    frame = customer_feature_frame({"regular": history(0, 2, False, 9)}, AS_OF)
    assert model.score(frame)[0].probability < 0.2
