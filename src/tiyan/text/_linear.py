"""Linear models over hashed features, stored as numpy arrays (no scikit-learn at inference)."""

from __future__ import annotations

import io
import mmap
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    # written beside and moved into place: a process that has the old file mapped
    # (`load_linear`) keeps reading the old file, never a half-written one
    part = path.with_name(path.name + ".part")
    with part.open("wb") as sink:
        # numpy's stubs type **kwargs of savez as its `allow_pickle` flag
        np.savez(sink, **arrays, **extra)  # type: ignore[arg-type]
    os.replace(part, path)


def load_linear(path: Path) -> tuple[LinearModel, dict[str, np.ndarray]]:
    """Read a model written by `save_linear`, and its extra arrays."""
    if not path.is_file():
        raise ModelFileError(path, "not found")
    try:
        arrays = _mapped_arrays(path)
        model = LinearModel(
            spec=FeatureSpec.from_array(arrays.pop("spec")),
            weights=arrays.pop("weights"),
            bias=arrays.pop("bias"),
            groups=_groups(arrays.pop("group_names"), arrays.pop("group_salts")),
            normalise_rows=bool(arrays.pop("normalise_rows")),
        )
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(path, f"unreadable ({exc})") from exc
    return model, arrays


def _mapped_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz file, read-only views of the file mapped into memory where the
    file stores them uncompressed (as `save_linear` does): the models' weights are not copied
    at start-up, and a process reads only the pages of the weights its texts use."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    if any(member.compress_type != zipfile.ZIP_STORED for member in members):
        with np.load(path, allow_pickle=False) as data:  # a compressed file: read it whole
            return {name: data[name] for name in data.files}
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    arrays: dict[str, Any] = {}
    for member in members:
        local = mapped[member.header_offset : member.header_offset + _LOCAL_HEADER]
        if len(local) < _LOCAL_HEADER or local[:4] != b"PK\x03\x04":
            raise ValueError(f"member {member.filename}: no local header")
        name_size = int.from_bytes(local[26:28], "little")
        extra_size = int.from_bytes(local[28:30], "little")
        start = member.header_offset + _LOCAL_HEADER + name_size + extra_size
        header = io.BytesIO(mapped[start : start + min(member.file_size, _NPY_HEADER_MAX)])
        npy = np.lib.format
        major, _ = npy.read_magic(header)
        read_header = npy.read_array_header_1_0 if major == 1 else npy.read_array_header_2_0
        shape, fortran_order, dtype = read_header(header)
        if dtype.hasobject:
            raise ValueError(f"member {member.filename}: object arrays are not allowed")
        count = int(np.prod(shape, dtype=np.int64))
        offset = start + header.tell()
        if offset + count * dtype.itemsize > start + member.file_size:
            raise ValueError(f"member {member.filename}: shorter than its header says")
        flat = np.frombuffer(mapped, dtype=dtype, count=count, offset=offset)
        arrays[member.filename.removesuffix(".npy")] = flat.reshape(
            shape, order="F" if fortran_order else "C"
        )
    return arrays


_LOCAL_HEADER = 30  # bytes of a zip member's local file header before its name
_NPY_HEADER_MAX = 1 << 16  # an .npy header is at most this long (format 2.0 allows 4 GiB, unused)


def _groups(names: Sequence[str] | np.ndarray, salts: np.ndarray) -> dict[str, int]:
    return {str(name): int(salt) for name, salt in zip(names, salts, strict=True)}


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def sigmoid(scores: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(scores, -40, 40)))


def class_probabilities(raw: np.ndarray) -> np.ndarray:
    """Class probabilities of a model's decision values: one column (binary) becomes
    (P(negative), P(positive)), several are a softmax."""
    if raw.shape[1] == 1:
        positive = sigmoid(raw[:, 0])
        return np.column_stack([1.0 - positive, positive])
    return softmax(raw)
