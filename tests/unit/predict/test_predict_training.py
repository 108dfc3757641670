"""Training the churn model on synthetic data whose true risk is known: choice by
cross-validation, calibration, reasons, versions, saving and loading."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from tests.unit.predict.predict_factories import (
    SYNTHETIC_FEATURES,
    synthetic_dataset,
    synthetic_frame,
)
from tiyan.predict import (
    DEFAULT_CANDIDATES,
    ChurnDataset,
    InvalidDataset,
    ModelFileError,
    TooFewToTrain,
    TrainedChurnModel,
    train_churn_model,
)
from tiyan.predict.calibration import log_odds

LINEAR_ONLY = (DEFAULT_CANDIDATES[0],)
TREES_ONLY = (DEFAULT_CANDIDATES[2],)


@pytest.fixture(scope="module")
def model() -> TrainedChurnModel:
    return train_churn_model(synthetic_dataset(), seed=3, validation=synthetic_dataset(300, 8))


@pytest.fixture(scope="module")
def fresh() -> ChurnDataset:
    return synthetic_dataset(rows=3000, seed=99)


def customers(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_the_candidate_with_the_best_selection_score_is_chosen(model: TrainedChurnModel) -> None:
    results = {result.name: result for result in model.report.candidates}
    assert set(results) == {candidate.name for candidate in DEFAULT_CANDIDATES}
    best = max(results.values(), key=lambda result: result.selection_score)
    assert model.report.chosen == best.name
    for result in results.values():
        assert len(result.fold_roc_auc) == model.report.folds
        assert result.dev_roc_auc is not None


def test_selection_score_counts_dev_as_one_more_fold(model: TrainedChurnModel) -> None:
    result = model.report.candidates[0]
    expected = (sum(result.fold_roc_auc) + (result.dev_roc_auc or 0.0)) / (model.report.folds + 1)
    assert result.selection_score == pytest.approx(expected)


def test_folds_adapt_to_the_number_of_churners(model: TrainedChurnModel) -> None:
    assert model.report.folds == 5
    small = train_churn_model(synthetic_dataset(rows=200, seed=1), candidates=LINEAR_ONLY)
    assert small.report.folds == 3
    assert small.report.churners == 50


def test_model_ranks_and_calibrates_unseen_customers(
    model: TrainedChurnModel, fresh: ChurnDataset
) -> None:
    figures = model.evaluate(fresh)
    assert figures.roc_auc > 0.75
    assert figures.brier < figures.brier_base_rate
    assert model.probabilities(fresh.frame).mean() == pytest.approx(fresh.base_rate, abs=0.04)
    assert len(figures.calibration) == 10
    assert sum(group.n for group in figures.calibration) == fresh.n_rows


def test_dev_figures_are_recorded(model: TrainedChurnModel) -> None:
    dev = model.report.dev
    assert dev is not None
    assert dev.n == 300
    assert model.report.calibration in model.report.calibration_cv_brier


def test_reasons_name_the_risk_raising_features_in_both_languages(
    model: TrainedChurnModel,
) -> None:
    risky = customers(complaints_30d=[4.0], tenure_months=[2.0], plan=["basic"], noise=[0.0])
    [score] = model.score(risky)
    assert score.probability > 0.8
    assert score.reasons[0].feature == "complaints_30d"
    assert score.reasons[0].text_en == "4 complaints in 30 days"
    assert score.reasons[0].text_zh == "30天内投诉4次"
    assert {reason.feature for reason in score.reasons} >= {"complaints_30d", "plan"}
    assert all(reason.contribution > 0 for reason in score.reasons)


def test_loyal_customer_gets_low_risk_and_no_complaint_reason(model: TrainedChurnModel) -> None:
    loyal = customers(complaints_30d=[0.0], tenure_months=[70.0], plan=["premium"], noise=[0.0])
    [score] = model.score(loyal)
    assert score.probability < 0.05
    assert "complaints_30d" not in {reason.feature for reason in score.reasons}


def test_reason_count_can_be_limited(model: TrainedChurnModel) -> None:
    risky = customers(complaints_30d=[5.0], tenure_months=[1.0], plan=["basic"], noise=[0.0])
    assert len(model.score(risky, reasons=1)[0].reasons) == 1


def test_linear_contributions_add_up_to_the_log_odds() -> None:
    linear = train_churn_model(synthetic_dataset(), candidates=LINEAR_ONLY)
    frame, _ = synthetic_frame(20, seed=5)
    prepared = ChurnDataset(frame, np.zeros(20, dtype=bool), SYNTHETIC_FEATURES).frame
    contributions = linear.explainer.contributions(linear.pipeline, prepared)
    raw = log_odds(linear.pipeline.predict_proba(prepared)[:, 1])
    differences = raw - contributions.sum(axis=1)
    assert np.allclose(differences, differences[0])


def test_replacement_contributions_vanish_for_a_typical_customer() -> None:
    dataset = synthetic_dataset()
    trees = train_churn_model(dataset, candidates=TREES_ONLY)
    typical = customers(
        complaints_30d=[float(dataset.frame["complaints_30d"].median())],
        tenure_months=[float(dataset.frame["tenure_months"].median())],
        plan=[dataset.frame["plan"].mode()[0]],
        noise=[float(dataset.frame["noise"].median())],
    )
    assert trees.report.chosen == "gradient_boosting"
    assert np.allclose(trees.explainer.contributions(trees.pipeline, typical), 0.0)
    risky = customers(complaints_30d=[4.0], tenure_months=[2.0], plan=["basic"], noise=[0.0])
    assert trees.score(risky)[0].reasons[0].feature == "complaints_30d"


def test_unknown_category_and_missing_values_can_be_scored(model: TrainedChurnModel) -> None:
    odd = customers(complaints_30d=[np.nan], tenure_months=[12.0], plan=["gold"], noise=[0.1])
    [score] = model.score(odd)
    assert 0.0 < score.probability < 1.0


def test_training_with_missing_values_works_for_every_candidate() -> None:
    frame, churned = synthetic_frame(400, seed=11)
    frame.loc[::7, "tenure_months"] = np.nan
    frame.loc[::5, "plan"] = None
    trained = train_churn_model(ChurnDataset(frame, churned, SYNTHETIC_FEATURES))
    assert len(trained.report.candidates) == 3
    assert np.isfinite(trained.probabilities(frame)).all()


def test_version_depends_on_data_and_seed_only() -> None:
    dataset = synthetic_dataset(rows=300, seed=2)
    first = train_churn_model(dataset, seed=1, candidates=LINEAR_ONLY)
    again = train_churn_model(synthetic_dataset(rows=300, seed=2), seed=1, candidates=LINEAR_ONLY)
    other_seed = train_churn_model(dataset, seed=2, candidates=LINEAR_ONLY)
    other_data = train_churn_model(
        synthetic_dataset(rows=300, seed=4), seed=1, candidates=LINEAR_ONLY
    )
    assert first.version == again.version
    assert first.version.startswith("churn-") and len(first.version) == 18
    assert len({first.version, other_seed.version, other_data.version}) == 3


def test_saved_model_loads_with_the_same_scores(model: TrainedChurnModel, tmp_path: Path) -> None:
    path = tmp_path / "churn.joblib"
    model.save(path)
    loaded = TrainedChurnModel.load(path)
    frame, _ = synthetic_frame(50, seed=12)
    assert loaded.version == model.version
    assert np.array_equal(loaded.probabilities(frame), model.probabilities(frame))
    assert loaded.score(frame.head(1)) == model.score(frame.head(1))


def test_loading_something_else_is_a_model_file_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot read a churn model"):
        TrainedChurnModel.load(tmp_path / "absent.joblib")
    (tmp_path / "garbage.joblib").write_bytes(b"\x80\x05not a pickle at all")
    with pytest.raises(ModelFileError, match="garbage.joblib: cannot read a churn model"):
        TrainedChurnModel.load(tmp_path / "garbage.joblib")
    joblib.dump({"weights": [1, 2]}, tmp_path / "other.joblib")
    with pytest.raises(ModelFileError, match="not a tiyan churn model file"):
        TrainedChurnModel.load(tmp_path / "other.joblib")


def test_training_on_too_few_customers_is_refused() -> None:
    with pytest.raises(TooFewToTrain, match="at least 200 rows"):
        train_churn_model(synthetic_dataset(rows=120, seed=1))


def test_validation_data_must_have_both_classes_and_the_same_features() -> None:
    frame, _ = synthetic_frame(40, seed=3)
    all_stayed = ChurnDataset(frame, np.zeros(40, dtype=bool), SYNTHETIC_FEATURES)
    with pytest.raises(InvalidDataset, match="validation data need churners and stayers"):
        train_churn_model(synthetic_dataset(), validation=all_stayed)
    fewer = ChurnDataset(frame, np.arange(40) % 2 == 0, SYNTHETIC_FEATURES[:3])
    with pytest.raises(InvalidDataset, match="declare different features"):
        train_churn_model(synthetic_dataset(), validation=fewer)


def test_scoring_data_must_hold_every_feature(model: TrainedChurnModel) -> None:
    with pytest.raises(InvalidDataset, match=r"scoring data: missing feature columns \['noise'\]"):
        model.score(customers(complaints_30d=[1.0], tenure_months=[3.0], plan=["plus"]))
    with pytest.raises(InvalidDataset, match="no rows to score"):
        model.score(customers(complaints_30d=[], tenure_months=[], plan=[], noise=[]))
