"""`tiyan text prepare`: after it, the first `analyze` on the machine builds no cache file."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tiyan.text.cli import app
from tiyan.text.prepare import PrepareReport, prepare_caches

ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrepareReport]:
    """The caches of the hotel analysis, prepared once in a fresh folder (lexicons take seconds)."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIYAN_CACHE_DIR", str(folder))
        yield prepare_caches(["hotel"])


@pytest.fixture
def cache(prepared: PrepareReport, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIYAN_CACHE_DIR", str(prepared.folder))
    return prepared.folder


def _listing(folder: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}


def test_prepare_builds_the_lexicons_and_tables_an_analysis_reads(prepared: PrepareReport) -> None:
    assert prepared.lexicons == ("base", "hotel")
    assert prepared.taxonomies == ("hotel",)
    for prefix in ("jieba-base-", "jieba-hotel-", "jieba-hmm-", "idf-zh-", "idf-en-",
                   "taxonomy-hotel-", "jieba-tags-"):
        assert any(name.startswith(prefix) for name in prepared.built), prefix
    assert set(prepared.built) <= {path.name for path in prepared.folder.iterdir()}


def test_after_prepare_a_fresh_analyze_process_writes_nothing_to_the_cache(
    cache: Path, tmp_path: Path
) -> None:
    before = _listing(cache)
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows([["1", "房间很干净，前台服务热情"], ["2", "The room was dirty"]])
    for industry in (["--industry", "hotel"], []):
        done = subprocess.run(
            [sys.executable, "-m", "tiyan.entry", "text", "analyze", str(source),
             "--output", str(tmp_path / "out.jsonl"), *industry],
            capture_output=True, text=True, cwd=ROOT, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert _listing(cache) == before


def test_prepare_again_writes_nothing(cache: Path) -> None:
    before = _listing(cache)
    again = prepare_caches(["hotel"])
    assert again.built == ()
    assert _listing(cache) == before


def test_the_command_reports_the_folder(cache: Path) -> None:
    result = CliRunner().invoke(app, ["prepare", "--industry", "hotel"])
    assert result.exit_code == 0, result.output
    assert str(cache) in result.output
    assert "0 files written" in result.output


def test_the_command_names_an_unknown_industry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIYAN_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["prepare", "--industry", "bakery"])
    assert result.exit_code == 2
    assert "bakery" in result.output
    assert list(tmp_path.iterdir()) == []
