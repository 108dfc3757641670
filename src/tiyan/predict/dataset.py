"""The training table of the churn-risk model: one row per customer, declared features and a
binary target (churned or not)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiyan.predict.errors import InvalidDataset, InvalidFeatureSpec, TooFewToTrain
from tiyan.predict.specs import FeatureSpec, is_missing

MINIMUM_ROWS = 200
MINIMUM_PER_CLASS = 50


@dataclass(frozen=True, eq=False)
class ChurnDataset:
    """Features (``frame``), the target (``churned``, True = the customer left) and the specs.

    The frame is reduced to the declared features in declared order; numeric columns become
    floats (missing values are allowed), categorical ones strings.
    """

    frame: pd.DataFrame
    churned: np.ndarray
    features: tuple[FeatureSpec, ...]

    def __post_init__(self) -> None:
        features = tuple(self.features)
        check_feature_specs(features)
        frame = prepare_frame(self.frame, features, where="training data")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "frame", frame)
        object.__setattr__(self, "churned", _as_target(self.churned, len(frame)))

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def n_churners(self) -> int:
        return int(self.churned.sum())

    @property
    def n_stayers(self) -> int:
        return self.n_rows - self.n_churners

    @property
    def base_rate(self) -> float:
        """Share of customers who churned."""
        return self.n_churners / self.n_rows if self.n_rows else float("nan")

    def require_trainable(
        self, minimum_rows: int = MINIMUM_ROWS, minimum_per_class: int = MINIMUM_PER_CLASS
    ) -> None:
        """Raise ``TooFewToTrain`` unless there are enough rows and customers of each class."""
        smallest_class = min(self.n_churners, self.n_stayers)
        if self.n_rows < minimum_rows or smallest_class < minimum_per_class:
            raise TooFewToTrain(
                rows=self.n_rows,
                churners=self.n_churners,
                stayers=self.n_stayers,
                minimum_rows=minimum_rows,
                minimum_per_class=minimum_per_class,
            )


def check_feature_specs(features: Sequence[FeatureSpec]) -> None:
    """Reject an empty or duplicated declaration and templates that cannot be filled."""
    if not features:
        raise InvalidFeatureSpec("no features declared")
    names = [spec.name for spec in features]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InvalidFeatureSpec(f"features declared more than once: {duplicated}")
    sample_row = {spec.name: (1.0 if spec.kind == "numeric" else "x") for spec in features}
    for spec in features:
        spec.check_templates(sample_row)


def prepare_frame(
    frame: pd.DataFrame, features: Sequence[FeatureSpec], *, where: str
) -> pd.DataFrame:
    """The declared feature columns of ``frame``, typed; extra columns are left out."""
    missing = [spec.name for spec in features if spec.name not in frame.columns]
    if missing:
        raise InvalidDataset(f"{where}: missing feature columns {missing}")
    columns = {spec.name: _typed_column(frame[spec.name], spec, where) for spec in features}
    return pd.DataFrame(columns, index=frame.index)


def _typed_column(column: pd.Series, spec: FeatureSpec, where: str) -> pd.Series:
    if spec.kind == "categorical":
        words = column.map(lambda value: None if is_missing(value) else str(value))
        return words.astype(object).where(words.notna(), None)
    numbers = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & numbers.isna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidDataset(
            f"{where}: row {position}, column {spec.name!r}: {column.iloc[position]!r} is not "
            "a number"
        )
    return numbers.astype(float)


def _as_target(values: Iterable[object], n_rows: int) -> np.ndarray:
    target = list(values)
    if len(target) != n_rows:
        raise InvalidDataset(f"target has {len(target)} values but the frame has {n_rows} rows")
    for position, value in enumerate(target):
        if value not in (0, 1) or isinstance(value, str):
            raise InvalidDataset(
                f"target: row {position}: {value!r} is not churned/stayed (True/False or 1/0)"
            )
    return np.asarray(target, dtype=bool)
