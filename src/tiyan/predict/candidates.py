"""The candidate models the trainer chooses between, built as scikit-learn pipelines.

Every linear candidate encodes each declared feature in its own block, so the columns a
feature becomes can be traced back to it and its contribution to the log-odds is exact.

Declared directions (``FeatureSpec.direction``) are kept: the trees get them as monotonic
constraints; the linear candidates encode a directed number as one straight column (no spline),
and ``broken_directions`` names any whose fitted coefficient goes the other way, so training
never chooses such a candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, SplineTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from tiyan.predict.specs import FeatureSpec

MISSING_CATEGORY = "(missing)"
SPLINE_QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
SPLINE_MINIMUM_DISTINCT = 10
TREES_MINIMUM_KNOWN = 20

THREADS = 1  # per training or scoring call: the web and job workers share the CPU

CandidateKind = Literal["linear", "trees"]
PipelineBuilder = Callable[[pd.DataFrame, Sequence[FeatureSpec], int], Pipeline]


@dataclass(frozen=True)
class Candidate:
    """A named way to build an untrained model from the training frame and a seed."""

    name: str
    kind: CandidateKind  # linear: exact contributions; trees: contributions by replacement
    description: str
    build: PipelineBuilder


def linear_pipeline(frame: pd.DataFrame, features: Sequence[FeatureSpec], seed: int) -> Pipeline:
    """L2 logistic regression on standardised numbers and one-hot categories."""
    return _logistic(frame, features, seed, splines=False)


def spline_pipeline(frame: pd.DataFrame, features: Sequence[FeatureSpec], seed: int) -> Pipeline:
    """L2 logistic regression with a cubic spline per numeric feature (an additive model)."""
    return _logistic(frame, features, seed, splines=True)


def boosting_pipeline(frame: pd.DataFrame, features: Sequence[FeatureSpec], seed: int) -> Pipeline:
    """Histogram gradient-boosted trees; categories are ordinal-coded and split natively.

    Numbers the trees see as they are (missing values included); a number known for fewer
    than ``TREES_MINIMUM_KNOWN`` customers is left out, as the trees cannot split on it. Each
    number's declared direction is a monotonic constraint (``monotonic_cst``).
    """
    numeric_specs = [
        spec
        for spec in features
        if spec.kind == "numeric" and frame[spec.name].notna().sum() >= TREES_MINIMUM_KNOWN
    ]
    numeric = [spec.name for spec in numeric_specs]
    categorical = [spec.name for spec in features if spec.kind == "categorical"]
    blocks: list[tuple[str, object, list[str]]] = []
    if numeric:
        blocks.append(("numeric", "passthrough", numeric))
    if categorical:
        blocks.append(("categorical", _ordinal_steps(), categorical))
    trees = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=150,
        max_leaf_nodes=8,
        l2_regularization=1.0,
        min_samples_leaf=max(5, min(40, len(frame) // 50)),
        early_stopping=False,
        categorical_features=[False] * len(numeric) + [True] * len(categorical),
        monotonic_cst=[spec.direction for spec in numeric_specs] + [0] * len(categorical),
        random_state=seed,
    )
    return make_pipeline(ColumnTransformer(blocks, sparse_threshold=0.0), trees)


DEFAULT_CANDIDATES: tuple[Candidate, ...] = (
    Candidate(
        "logistic_linear",
        "linear",
        "L2 logistic regression, standardised numbers, one-hot categories",
        linear_pipeline,
    ),
    Candidate(
        "logistic_spline",
        "linear",
        "L2 logistic regression, cubic spline per number, one-hot categories",
        spline_pipeline,
    ),
    Candidate(
        "gradient_boosting",
        "trees",
        "histogram gradient-boosted trees (150 rounds of 8 leaves, rate 0.05)",
        boosting_pipeline,
    ),
)


def limited_threads() -> threadpool_limits:
    """A context in which the models use at most ``THREADS`` threads (OpenMP and BLAS)."""
    return threadpool_limits(limits=THREADS)


def broken_directions(
    kind: CandidateKind, pipeline: Pipeline, features: Sequence[FeatureSpec]
) -> tuple[str, ...]:
    """The directed features a fitted linear candidate weighs the other way (the trees are
    constrained and never break one)."""
    if kind != "linear":
        return ()
    encoder: ColumnTransformer = pipeline[0]
    weights = pipeline[-1].coef_[0]
    broken = []
    for position, spec in enumerate(features):
        if spec.direction == 0:
            continue
        columns = encoder.output_indices_[f"f{position}"]
        if float(np.sum(weights[columns])) * spec.direction < 0:
            broken.append(spec.name)
    return tuple(broken)


def block_features(pipeline: Pipeline) -> dict[str, str]:
    """For a linear candidate: the feature each column block of its encoder comes from."""
    encoder: ColumnTransformer = pipeline[0]
    return {name: columns[0] for name, _, columns in encoder.transformers_ if name != "remainder"}


def _logistic(
    frame: pd.DataFrame, features: Sequence[FeatureSpec], seed: int, *, splines: bool
) -> Pipeline:
    blocks: list[tuple[str, object, list[str]]] = []
    for position, spec in enumerate(features):
        column = frame[spec.name]
        if spec.kind == "categorical":
            blocks.append((f"f{position}", _one_hot_steps(), [spec.name]))
            continue
        bend = splines and spec.direction == 0
        blocks.append((f"f{position}", _number_steps(column, bend), [spec.name]))
        if column.isna().any():
            missing = make_pipeline(MissingIndicator(features="all"), StandardScaler())
            blocks.append((f"f{position}_missing", missing, [spec.name]))
    model = LogisticRegression(C=1.0, max_iter=5000, random_state=seed)
    return make_pipeline(ColumnTransformer(blocks, sparse_threshold=0.0), model)


def _number_steps(column: pd.Series, splines: bool) -> Pipeline:
    impute = SimpleImputer(strategy="median", keep_empty_features=True)
    knots = _spline_knots(column) if splines else None
    if knots is None:
        return make_pipeline(impute, StandardScaler())
    return make_pipeline(impute, SplineTransformer(knots=knots, degree=3), StandardScaler())


def _spline_knots(column: pd.Series) -> np.ndarray | None:
    values = column.dropna().to_numpy(dtype=float)
    if len(np.unique(values)) < SPLINE_MINIMUM_DISTINCT:
        return None
    knots = np.unique(np.quantile(values, SPLINE_QUANTILES))
    return knots.reshape(-1, 1) if len(knots) >= 3 else None


def _one_hot_steps() -> Pipeline:
    return make_pipeline(
        SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY, missing_values=None),
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, sparse_output=False),
    )


def _ordinal_steps() -> Pipeline:
    return make_pipeline(
        SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY, missing_values=None),
        OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=250
        ),
    )
