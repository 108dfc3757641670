"""Model files: read as views of the mapped file, the same arrays as numpy's own reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiyan.text._features import FeatureSpec
from tiyan.text._linear import LinearModel, ModelFileError, load_linear, save_linear
from tiyan.text.sentiment import MODELS


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.npz")), ids=lambda p: p.name)
def test_shipped_files_map_to_the_arrays_numpy_reads(path: Path) -> None:
    model, extra = load_linear(path)
    with np.load(path, allow_pickle=False) as stored:
        assert np.array_equal(model.weights, stored["weights"])
        assert model.weights.dtype == stored["weights"].dtype
        assert np.array_equal(model.bias, stored["bias"])
        for name, value in extra.items():
            assert np.array_equal(value, stored[name])
    assert not model.weights.flags.writeable  # a view of the file, never written through


def _model() -> LinearModel:
    weights = np.arange(2 * 16, dtype=np.float32).reshape(2, 16) / 7
    spec = FeatureSpec(bits=4, char_ngrams=(1, 2))
    return LinearModel(spec, weights, np.array([0.5, -0.5]), {"hotel": 3})


def test_a_saved_model_reads_back_and_a_resave_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    save_linear(path, _model(), classes=np.array(["a", "b"]))
    first, extra = load_linear(path)  # maps the first file
    again = LinearModel(first.spec, first.weights * 2, first.bias, first.groups)
    save_linear(path, again, classes=np.array(["a", "b"]))
    # the mapped arrays still read the first file: the new one was moved into place beside it
    assert np.array_equal(first.weights, _model().weights.astype(np.float16))
    second, _ = load_linear(path)
    assert np.array_equal(second.weights, (first.weights * 2).astype(np.float16))
    assert second.groups == {"hotel": 3} and list(extra["classes"]) == ["a", "b"]
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_compressed_files_are_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    save_linear(path, _model())
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    model, _ = load_linear(path)
    assert np.array_equal(model.weights, arrays["weights"])


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04" + b"\x00" * 40])
def test_a_broken_file_is_a_model_file_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="unreadable"):
        load_linear(path)


def test_a_truncated_file_is_a_model_file_error(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    save_linear(path, _model())
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ModelFileError):
        load_linear(path)
