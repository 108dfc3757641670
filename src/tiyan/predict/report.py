"""What training found out: each candidate's cross-validated and dev ROC AUC, the choice, the
calibration method and the dev-split figures of the final model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiyan.predict.evaluation import Evaluation


@dataclass(frozen=True)
class CandidateResult:
    """A candidate's ROC AUC on each cross-validation fold and on the dev split (if any)."""

    name: str
    description: str
    fold_roc_auc: tuple[float, ...]
    dev_roc_auc: float | None
    broken_directions: tuple[str, ...] = ()  # directed features it weighs the other way

    @property
    def eligible(self) -> bool:
        """A candidate that goes against a declared direction is never chosen."""
        return not self.broken_directions

    @property
    def cv_roc_auc(self) -> float:
        return float(np.mean(self.fold_roc_auc))

    @property
    def selection_score(self) -> float:
        """Mean ROC AUC over the folds, the dev split counting as one more fold."""
        scores = list(self.fold_roc_auc)
        if self.dev_roc_auc is not None:
            scores.append(self.dev_roc_auc)
        return float(np.mean(scores))


@dataclass(frozen=True)
class TrainingReport:
    rows: int
    churners: int
    folds: int
    seed: int
    candidates: tuple[CandidateResult, ...]
    chosen: str
    calibration: str
    calibration_cv_brier: dict[str, float]
    dev: Evaluation | None
