"""Feature declarations, their plain words, and the checks on a churn training table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.predict.predict_factories import (
    SYNTHETIC_FEATURES,
    synthetic_dataset,
    synthetic_frame,
)
from tiyan.predict import (
    CUSTOMER_FEATURES,
    ChurnDataset,
    FeatureSpec,
    InvalidDataset,
    InvalidFeatureSpec,
    TooFewToTrain,
)


def test_numeric_feature_says_its_value_with_english_plural() -> None:
    spec = SYNTHETIC_FEATURES[0]
    assert spec.describe({"complaints_30d": 2.0}) == ("30天内投诉2次", "2 complaints in 30 days")
    assert spec.describe({"complaints_30d": 1.0}) == ("30天内投诉1次", "1 complaint in 30 days")


def test_categorical_feature_uses_its_value_words() -> None:
    spec = SYNTHETIC_FEATURES[2]
    assert spec.describe({"plan": "basic"}) == ("套餐：基础版", "on the basic plan")


def test_template_may_name_another_feature_of_the_same_customer() -> None:
    drop = next(spec for spec in CUSTOMER_FEATURES if spec.name == "visit_rate_drop")
    row = {"visit_rate_drop": 1.0, "visits_per_month_before": 1.0, "visits_per_month_recent": 0.0}
    zh, en = drop.describe(row) or ("", "")
    assert en == "visits fell from 1.0 to 0.0 a month in the last 4 months"
    assert zh == "近4个月每月到店次数从1.0次降为0.0次"


def test_missing_value_has_words_only_when_declared() -> None:
    latest_nps = CUSTOMER_FEATURES[0]
    assert latest_nps.describe({"latest_nps": float("nan")}) == (
        "从未回答推荐意愿(NPS)问题",
        "has never answered the NPS question",
    )
    assert SYNTHETIC_FEATURES[0].describe({"complaints_30d": float("nan")}) is None


def test_template_naming_an_undeclared_field_is_rejected() -> None:
    broken = FeatureSpec("visits", "numeric", "{value}", "from {visits_before} to {value}")
    with pytest.raises(InvalidFeatureSpec, match="feature 'visits': text_en template"):
        ChurnDataset(pd.DataFrame({"visits": [1.0]}), np.array([True]), (broken,))


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(InvalidFeatureSpec, match="kind 'text' is not one of"):
        FeatureSpec("comment", "text", "{value}", "{value}")  # type: ignore[arg-type]


def test_feature_declared_twice_is_rejected() -> None:
    frame, churned = synthetic_frame(10, seed=1)
    with pytest.raises(InvalidFeatureSpec, match=r"declared more than once: \['noise'\]"):
        ChurnDataset(frame, churned, (*SYNTHETIC_FEATURES, SYNTHETIC_FEATURES[3]))


def test_missing_feature_column_is_named() -> None:
    frame, churned = synthetic_frame(10, seed=1)
    with pytest.raises(InvalidDataset, match=r"missing feature columns \['plan'\]"):
        ChurnDataset(frame.drop(columns="plan"), churned, SYNTHETIC_FEATURES)


def test_non_number_in_numeric_column_is_located() -> None:
    frame, churned = synthetic_frame(10, seed=1)
    frame["noise"] = frame["noise"].astype(object)
    frame.loc[3, "noise"] = "十"
    with pytest.raises(InvalidDataset, match="row 3, column 'noise': '十' is not a number"):
        ChurnDataset(frame, churned, SYNTHETIC_FEATURES)


def test_target_must_be_binary_and_as_long_as_the_frame() -> None:
    frame, churned = synthetic_frame(10, seed=1)
    with pytest.raises(InvalidDataset, match="target has 9 values but the frame has 10 rows"):
        ChurnDataset(frame, churned[:9], SYNTHETIC_FEATURES)
    with pytest.raises(InvalidDataset, match="target: row 0: 'Yes' is not churned/stayed"):
        ChurnDataset(frame, ["Yes"] * 10, SYNTHETIC_FEATURES)  # type: ignore[arg-type]


def test_extra_columns_are_left_out_and_missing_categories_kept_as_none() -> None:
    frame, churned = synthetic_frame(10, seed=1)
    frame["customer_id"] = range(10)
    frame.loc[0, "plan"] = None
    dataset = ChurnDataset(frame, churned, SYNTHETIC_FEATURES)
    assert list(dataset.frame.columns) == [spec.name for spec in SYNTHETIC_FEATURES]
    assert dataset.frame.loc[0, "plan"] is None


def test_counts_and_base_rate() -> None:
    dataset = synthetic_dataset(rows=200, seed=1)
    assert (dataset.n_rows, dataset.n_churners, dataset.n_stayers) == (200, 50, 150)
    assert dataset.base_rate == 0.25


def test_too_few_churners_to_train_says_counts_and_minimum() -> None:
    dataset = synthetic_dataset(rows=150, seed=1)
    with pytest.raises(TooFewToTrain) as raised:
        dataset.require_trainable()
    assert raised.value.rows == 150
    assert raised.value.code == "too_few_to_train"
    assert "at least 200 rows and 50 customers in each class" in raised.value.message
    assert f"({dataset.n_churners} churned, {dataset.n_stayers} stayed)" in raised.value.message


def test_enough_rows_but_too_few_churners() -> None:
    frame, _ = synthetic_frame(300, seed=1)
    churned = np.zeros(300, dtype=bool)
    churned[:49] = True
    with pytest.raises(TooFewToTrain, match=r"300 rows \(49 churned, 251 stayed\)"):
        ChurnDataset(frame, churned, SYNTHETIC_FEATURES).require_trainable()
