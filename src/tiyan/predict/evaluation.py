"""How good the probabilities are: ROC AUC, Brier score against the base rate's, and the
reliability (calibration) table by decile of predicted risk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from tiyan.predict.errors import InvalidDataset

CALIBRATION_BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of customers ordered by predicted risk."""

    mean_predicted: float
    observed_rate: float
    n: int


@dataclass(frozen=True)
class Evaluation:
    """Figures of one set of predictions. ``brier_base_rate`` is the Brier score of predicting
    the training base rate for everyone: a useful model scores lower."""

    n: int
    n_churners: int
    roc_auc: float
    brier: float
    brier_base_rate: float
    base_rate: float
    calibration: tuple[CalibrationBin, ...]


def evaluate_probabilities(
    probability: np.ndarray, churned: np.ndarray, *, training_base_rate: float
) -> Evaluation:
    """Evaluate predicted churn probabilities against what happened."""
    churned = np.asarray(churned, dtype=bool)
    if churned.all() or not churned.any():
        raise InvalidDataset(
            f"evaluation data need churners and stayers; got {int(churned.sum())} churned "
            f"of {len(churned)}"
        )
    constant = np.full(len(churned), training_base_rate)
    return Evaluation(
        n=len(churned),
        n_churners=int(churned.sum()),
        roc_auc=float(roc_auc_score(churned, probability)),
        brier=float(brier_score_loss(churned, probability)),
        brier_base_rate=float(brier_score_loss(churned, constant)),
        base_rate=float(churned.mean()),
        calibration=calibration_table(probability, churned),
    )


def calibration_table(
    probability: np.ndarray, churned: np.ndarray, bins: int = CALIBRATION_BINS
) -> tuple[CalibrationBin, ...]:
    """Customers sorted by predicted risk, cut into ``bins`` groups of (nearly) equal size."""
    order = np.argsort(probability, kind="stable")
    groups = np.array_split(order, min(bins, len(order)))
    return tuple(
        CalibrationBin(
            mean_predicted=float(probability[group].mean()),
            observed_rate=float(np.asarray(churned)[group].mean()),
            n=len(group),
        )
        for group in groups
    )
