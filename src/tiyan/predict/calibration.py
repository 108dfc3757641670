"""Turning a model's raw scores into calibrated probabilities: Platt scaling or isotonic
regression, fitted on out-of-fold predictions and chosen by cross-validated Brier score."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold

PROBABILITY_FLOOR = 1e-3


class Calibrator(Protocol):
    method: str

    def fit(self, raw: np.ndarray, churned: np.ndarray) -> Calibrator: ...

    def probabilities(self, raw: np.ndarray) -> np.ndarray: ...


class PlattCalibrator:
    """A logistic curve on the log-odds of the raw score (two parameters)."""

    method = "platt"

    def fit(self, raw: np.ndarray, churned: np.ndarray) -> PlattCalibrator:
        self._curve = LogisticRegression(C=1e4, max_iter=1000)
        self._curve.fit(log_odds(raw).reshape(-1, 1), churned)
        return self

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        return _clip(self._curve.predict_proba(log_odds(raw).reshape(-1, 1))[:, 1])


class IsotonicCalibrator:
    """A non-decreasing step function of the raw score."""

    method = "isotonic"

    def fit(self, raw: np.ndarray, churned: np.ndarray) -> IsotonicCalibrator:
        self._steps = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        self._steps.fit(raw, churned.astype(float))
        return self

    def probabilities(self, raw: np.ndarray) -> np.ndarray:
        return _clip(self._steps.predict(raw))


CALIBRATORS: tuple[type[PlattCalibrator] | type[IsotonicCalibrator], ...] = (
    PlattCalibrator,
    IsotonicCalibrator,
)


def choose_calibrator(
    raw: np.ndarray, churned: np.ndarray, *, folds: int, seed: int
) -> tuple[Calibrator, dict[str, float]]:
    """The calibrator with the lowest cross-validated Brier score, refitted on all of ``raw``.

    ``raw`` must be out-of-fold predictions, so the calibrator learns how the model behaves on
    customers it has not seen. Ties go to Platt scaling, the simpler of the two.
    """
    briers = {
        kind.method: _cross_validated_brier(kind, raw, churned, folds, seed) for kind in CALIBRATORS
    }
    best = min(CALIBRATORS, key=lambda kind: briers[kind.method])
    return best().fit(raw, churned), briers


def log_odds(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def _cross_validated_brier(
    kind: type[PlattCalibrator] | type[IsotonicCalibrator],
    raw: np.ndarray,
    churned: np.ndarray,
    folds: int,
    seed: int,
) -> float:
    predicted = np.empty(len(raw))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_rows, held_rows in splitter.split(raw.reshape(-1, 1), churned):
        calibrator = kind().fit(raw[fit_rows], churned[fit_rows])
        predicted[held_rows] = calibrator.probabilities(raw[held_rows])
    return float(brier_score_loss(churned, predicted))


def _clip(probability: np.ndarray) -> np.ndarray:
    return np.clip(probability, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
