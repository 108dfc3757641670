"""A trained churn-risk model: calibrated probabilities, reasons, evaluation, save and load."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from tiyan.predict.calibration import Calibrator
from tiyan.predict.candidates import limited_threads
from tiyan.predict.dataset import ChurnDataset, prepare_frame
from tiyan.predict.errors import InvalidDataset, ModelFileError
from tiyan.predict.evaluation import Evaluation, evaluate_probabilities
from tiyan.predict.reasons import Explainer, Reason, top_reasons
from tiyan.predict.report import TrainingReport
from tiyan.predict.specs import FeatureSpec

FILE_FORMAT = "tiyan.churn-model/1"
DEFAULT_REASON_COUNT = 3


@dataclass(frozen=True)
class ChurnScore:
    """One customer's calibrated probability of churning and the reasons that raise it above
    the baseline (none when the probability is not above the training base rate)."""

    probability: float
    reasons: list[Reason]


@dataclass(frozen=True, eq=False)
class TrainedChurnModel:
    """The chosen, fitted and calibrated model. ``version`` names it: a hash of the training
    data, the features, the candidate chosen, its settings and the seed."""

    version: str
    features: tuple[FeatureSpec, ...]
    pipeline: Pipeline
    calibrator: Calibrator
    explainer: Explainer
    training_base_rate: float
    report: TrainingReport

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probabilities, one per row of ``frame``."""
        prepared = self._prepare(frame)
        with limited_threads():
            return self.calibrator.probabilities(self.pipeline.predict_proba(prepared)[:, 1])

    def score(
        self, frame: pd.DataFrame, *, reasons: int = DEFAULT_REASON_COUNT
    ) -> list[ChurnScore]:
        """Probability and up to ``reasons`` plain-word reasons for each row of ``frame``.

        A customer whose probability is not above the training base rate is not at risk and
        gets no reasons, whatever a single feature says.
        """
        prepared = self._prepare(frame)
        with limited_threads():
            raw = self.pipeline.predict_proba(prepared)[:, 1]
            contributions = self.explainer.contributions(self.pipeline, prepared)
        probability = self.calibrator.probabilities(raw)
        rows = prepared.to_dict(orient="records")
        baseline = getattr(self.explainer, "baseline", {})
        return [
            ChurnScore(
                float(probability[i]),
                top_reasons(rows[i], contributions[i], self.features, reasons, baseline)
                if probability[i] > self.training_base_rate
                else [],
            )
            for i in range(len(rows))
        ]

    def evaluate(self, dataset: ChurnDataset) -> Evaluation:
        """AUC, Brier score (and the base rate's) and the calibration table on ``dataset``."""
        return evaluate_probabilities(
            self.probabilities(dataset.frame),
            dataset.churned,
            training_base_rate=self.training_base_rate,
        )

    def save(self, path: str | Path | BinaryIO) -> None:
        joblib.dump({"format": FILE_FORMAT, "model": self}, path)

    @classmethod
    def load(cls, path: str | Path | BinaryIO) -> TrainedChurnModel:
        """Load a model written by ``save`` (a path or an open file). Only load files you
        wrote: joblib runs code."""
        name = str(path) if isinstance(path, str | Path) else "the stored model"
        try:
            content = joblib.load(path)
        except (
            OSError,
            EOFError,
            ValueError,
            KeyError,
            AttributeError,
            ImportError,
            pickle.UnpicklingError,
        ) as exc:
            raise ModelFileError(f"{name}: cannot read a churn model ({exc})") from exc
        if not isinstance(content, dict) or content.get("format") != FILE_FORMAT:
            raise ModelFileError(f"{name}: not a tiyan churn model file ({FILE_FORMAT})")
        model = content["model"]
        if not isinstance(model, cls):
            raise ModelFileError(f"{name}: holds {type(model).__name__}, not a churn model")
        return model

    def _prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        if len(frame) == 0:
            raise InvalidDataset("scoring data: no rows to score")
        return prepare_frame(frame, self.features, where="scoring data")
