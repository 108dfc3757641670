"""Why a customer is at risk: each feature's signed contribution to the model's log-odds, and
the features that raise the risk most, said in plain words (zh-CN and English).

A contribution is measured against the baseline, a typical customer of the training data:
positive means this customer's value of the feature raises the churn risk above the baseline's.
Units are log-odds of the model before calibration (calibration is monotonic, so the order of
reasons is the same). Only positive contributions become reasons, and each sentence compares
the customer with the baseline ("fewer visits than usual"), never a bare value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from tiyan.predict.calibration import log_odds
from tiyan.predict.specs import FeatureSpec

MINIMUM_CONTRIBUTION = 0.05


@dataclass(frozen=True)
class Reason:
    """One feature that raises a customer's churn risk, with its contribution in log-odds."""

    feature: str
    contribution: float
    text_zh: str
    text_en: str


class Explainer(Protocol):
    @property
    def baseline(self) -> Mapping[str, object]:
        """The typical training value each feature's contribution is measured against."""
        ...

    def contributions(self, pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
        """An (n customers × n features) array of contributions, columns in feature order."""
        ...


class LinearExplainer:
    """Exact for a logistic regression: coefficient × (encoded value − training mean), summed
    over the columns each feature is encoded into. Contributions add up to the log-odds minus
    the log-odds of the average encoded customer."""

    def __init__(
        self,
        pipeline: Pipeline,
        training_frame: pd.DataFrame,
        block_features: Mapping[str, str],
        feature_names: Sequence[str],
    ) -> None:
        encoder: ColumnTransformer = pipeline[0]
        self._centre = np.asarray(encoder.transform(training_frame)).mean(axis=0)
        self.baseline = {
            name: _mean_or_mode(training_frame[name]) for name in feature_names
        }
        position = {name: index for index, name in enumerate(feature_names)}
        self._blocks = [
            (encoder.output_indices_[block], position[feature])
            for block, feature in block_features.items()
        ]
        self._n_features = len(feature_names)

    def contributions(self, pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
        encoded = np.asarray(pipeline[0].transform(frame)) - self._centre
        weights = pipeline[-1].coef_[0]
        result = np.zeros((len(frame), self._n_features))
        for columns, feature in self._blocks:
            result[:, feature] += encoded[:, columns] @ weights[columns]
        return result


class ReplacementExplainer:
    """Model-agnostic: set one feature at a time to its typical training value (median or most
    frequent) and measure how much the log-odds fall."""

    def __init__(self, training_frame: pd.DataFrame, features: Sequence[FeatureSpec]) -> None:
        self._typical = {
            spec.name: _typical_value(training_frame[spec.name], spec) for spec in features
        }
        self.baseline = dict(self._typical)

    def contributions(self, pipeline: Pipeline, frame: pd.DataFrame) -> np.ndarray:
        actual = log_odds(pipeline.predict_proba(frame)[:, 1])
        result = np.zeros((len(frame), len(self._typical)))
        for position, (name, typical) in enumerate(self._typical.items()):
            replaced = frame.copy()
            replaced[name] = pd.Series(
                [typical] * len(frame), index=frame.index, dtype=frame[name].dtype
            )
            result[:, position] = actual - log_odds(pipeline.predict_proba(replaced)[:, 1])
        return result


def top_reasons(
    row: Mapping[str, object],
    contributions: np.ndarray,
    features: Sequence[FeatureSpec],
    limit: int,
    baseline: Mapping[str, object] | None = None,
) -> list[Reason]:
    """The ``limit`` features that raise this customer's risk most above the baseline (each by
    at least ``MINIMUM_CONTRIBUTION`` log-odds) and can be put in words."""
    reasons: list[Reason] = []
    for position in np.argsort(-contributions, kind="stable"):
        if len(reasons) == limit or contributions[position] < MINIMUM_CONTRIBUTION:
            break
        spec = features[position]
        words = spec.describe(row, (baseline or {}).get(spec.name))
        if words is not None:
            reasons.append(Reason(spec.name, float(contributions[position]), *words))
    return reasons


def _mean_or_mode(column: pd.Series) -> object:
    if pd.api.types.is_numeric_dtype(column):
        return float(column.mean()) if column.notna().any() else float("nan")
    counts = column.dropna().value_counts()
    return counts.index[0] if len(counts) else None


def _typical_value(column: pd.Series, spec: FeatureSpec) -> object:
    if spec.kind == "numeric":
        return float(column.median()) if column.notna().any() else float("nan")
    counts = column.dropna().value_counts()
    return counts.index[0] if len(counts) else None
