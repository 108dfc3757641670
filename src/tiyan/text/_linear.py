"""Linear models over hashed features, stored as numpy arrays (no scikit-learn at inference)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tiyan.text._features import Features, FeatureSpec, combine, salted


class ModelFileError(RuntimeError):
    """A shipped model file is missing or does not hold what it should."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"model file {path}: {problem}; rebuild it with `tiyan text train`")
        self.path = path


@dataclass(frozen=True)
class LinearModel:
    """Scores = features · weights + bias, one row of weights per output.

    `groups` maps a group name (a domain such as "restaurant") to a salt: a text of that group also
    gets a salted copy of its features, whose weights only that group trained ("feature
    augmentation"); texts of other groups use the shared weights only.
    """

    spec: FeatureSpec
    weights: np.ndarray
    bias: np.ndarray
    groups: dict[str, int]
    normalise_rows: bool = True

    def decision(self, features: Features, group: str | None = None) -> np.ndarray:
        """Raw scores, shape (n_docs, n_outputs)."""
        features = self._with_group(features, group)
        values = np.ones(len(features.docs), dtype=np.float32)
        if self.normalise_rows:
            counts = features.counts()
            values = (1.0 / np.sqrt(np.maximum(counts, 1)))[features.docs].astype(np.float32)
        scores = np.empty((features.n_docs, self.weights.shape[0]), dtype=np.float64)
        for row, weights in enumerate(self.weights):
            contributions = weights[features.buckets].astype(np.float32) * values
            scores[:, row] = np.bincount(features.docs, contributions, minlength=features.n_docs)
        return scores + self.bias

    def _with_group(self, features: Features, group: str | None) -> Features:
        salt = self.groups.get(group or "")
        if salt is None:
            return features
        return combine([features, salted(features, salt, self.spec.bits)], self.spec.bits)


def save_linear(path: Path, model: LinearModel, **extra: np.ndarray) -> None:
    """Write `model` (weights as float16) and any extra arrays to an uncompressed .npz file."""
    names = np.array(sorted(model.groups), dtype=np.str_)
    salts = np.array([model.groups[name] for name in sorted(model.groups)], dtype=np.int64)
    arrays: dict[str, np.ndarray] = {
        "spec": model.spec.as_array(),
        "weights": model.weights.astype(np.float16),
        "bias": model.bias.astype(np.float64),
        "group_names": names,
        "group_salts": salts,
        "normalise_rows": np.array(model.normalise_rows),
    }
    # numpy's stubs type **kwargs of savez as its `allow_pickle` flag
    np.savez(path, **arrays, **extra)  # type: ignore[arg-type]


def load_linear(path: Path) -> tuple[LinearModel, dict[str, np.ndarray]]:
    """Read a model written by `save_linear`, and its extra arrays."""
    if not path.is_file():
        raise ModelFileError(path, "not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        model = LinearModel(
            spec=FeatureSpec.from_array(arrays.pop("spec")),
            weights=arrays.pop("weights"),
            bias=arrays.pop("bias"),
            groups=_groups(arrays.pop("group_names"), arrays.pop("group_salts")),
            normalise_rows=bool(arrays.pop("normalise_rows")),
        )
    except (KeyError, ValueError, OSError) as exc:
        raise ModelFileError(path, f"unreadable ({exc})") from exc
    return model, arrays


def _groups(names: Sequence[str], salts: np.ndarray) -> dict[str, int]:
    return {str(name): int(salt) for name, salt in zip(names, salts, strict=True)}


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def sigmoid(scores: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(scores, -40, 40)))
