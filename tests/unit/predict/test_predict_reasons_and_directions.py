"""Reasons list only what pushes this customer's risk above the baseline, a customer at low risk
hears none, and the declared business directions hold: more spend or visits never raises risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.predict.test_predict_customer_model import AS_OF, customers
from tiyan.predict import (
    CUSTOMER_FEATURES,
    DEFAULT_CANDIDATES,
    ChurnDataset,
    FeatureSpec,
    TrainedChurnModel,
    customer_feature_frame,
    train_churn_model,
)
from tiyan.predict.calibration import log_odds

RAISED = ("monetary_12m", "frequency_12m", "visits_per_month_recent")


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    histories, churned = customers(500, seed=1)
    return customer_feature_frame(histories, AS_OF), churned


@pytest.fixture(scope="module")
def model(data: tuple[pd.DataFrame, np.ndarray]) -> TrainedChurnModel:
    frame, churned = data
    return train_churn_model(ChurnDataset(frame, churned, CUSTOMER_FEATURES), seed=0)


def test_listed_reasons_all_raise_the_risk_and_match_the_contributions(
    model: TrainedChurnModel, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame = data[0].iloc[:300]
    scores = model.score(frame)
    contributions = model.explainer.contributions(model.pipeline, frame)
    position = {spec.name: i for i, spec in enumerate(CUSTOMER_FEATURES)}
    listed = 0
    for row, score in enumerate(scores):
        for reason in score.reasons:
            listed += 1
            assert reason.contribution > 0
            expected = contributions[row, position[reason.feature]]
            assert reason.contribution == pytest.approx(expected)
    assert listed > 20


def test_a_customer_not_above_the_base_rate_hears_no_churn_reasons(
    model: TrainedChurnModel, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    scores = model.score(data[0])
    low = [s for s in scores if s.probability <= model.training_base_rate]
    high = [s for s in scores if s.probability > model.training_base_rate]
    assert low and high
    assert all(not s.reasons for s in low)
    assert any(s.reasons for s in high)


def test_reason_sentences_compare_with_the_typical_customer(model: TrainedChurnModel) -> None:
    spend = next(spec for spec in CUSTOMER_FEATURES if spec.name == "monetary_12m")
    zh, en = spend.describe({"monetary_12m": 1200.0}, 5400.0) or ("", "")
    assert en == "spent 1,200 in 12 months, less than the usual 5,400"
    assert zh == "12个月内消费金额1,200，低于一般客户的5,400"
    assert set(model.explainer.baseline) == {spec.name for spec in CUSTOMER_FEATURES}


def raised(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    """The same customers with more spend, purchases and recent visits (the drop follows)."""
    more = frame.copy()
    for name in RAISED:
        more[name] = frame[name] * factor + (factor - 1.0)
    more["visit_rate_drop"] = more["visits_per_month_before"] - more["visits_per_month_recent"]
    return more


@pytest.mark.parametrize("candidate", DEFAULT_CANDIDATES, ids=lambda c: c.name)
def test_an_eligible_candidate_never_raises_risk_for_more_spend_or_visits(
    candidate: object, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, churned = data
    trained = train_churn_model(
        ChurnDataset(frame, churned, CUSTOMER_FEATURES), seed=0, candidates=(candidate,)  # type: ignore[arg-type]
    )
    [result] = trained.report.candidates
    if not result.eligible:  # a linear fit that weighs a direction the other way is refused
        assert result.broken_directions
        return
    sample = frame.iloc[:200]
    before = trained.probabilities(sample)
    for factor in (1.5, 2.0, 4.0):
        after = trained.probabilities(raised(sample, factor))
        assert np.all(after <= before + 1e-12)


def test_gradient_boosting_keeps_the_directions_the_data_contradict() -> None:
    generator = np.random.default_rng(3)
    spend = generator.gamma(2.0, 500.0, 800)
    noise = generator.normal(0.0, 1.0, 800)
    churned = generator.random(800) < 1 / (1 + np.exp(-(spend - 1000.0) / 400.0))
    frame = pd.DataFrame({"spend": spend, "noise": noise})
    features = (
        FeatureSpec("spend", "numeric", "{value}", "{value}", direction=-1),
        FeatureSpec("noise", "numeric", "{value}", "{value}"),
    )
    model = train_churn_model(ChurnDataset(frame, churned, features), seed=0)
    results = {c.name: c for c in model.report.candidates}
    assert results["logistic_linear"].broken_directions == ("spend",)
    assert model.report.chosen == "gradient_boosting"
    grid = pd.DataFrame({"spend": np.linspace(0, 5000, 50), "noise": 0.0})
    raw = model.pipeline.predict_proba(grid)[:, 1]
    assert np.all(np.diff(log_odds(raw)) <= 1e-9)
