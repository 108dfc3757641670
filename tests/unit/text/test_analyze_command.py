"""`analyze_from_argv`: a plain `analyze` line runs without typer; anything else goes to typer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tiyan.text.analyze_command import analyze_from_argv

ROOT = Path(__file__).parents[3]


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "in.csv"
    source.write_text("id,comment\n1,味道很好，送餐很快\n2,\n", encoding="utf-8")
    return source


def test_a_plain_analyze_line_writes_the_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    argv = ["analyze", str(_source(tmp_path)), f"--output={out}", "--text-column", "comment"]
    assert analyze_from_argv([*argv, "--industry", "restaurant"]) == 0
    first, second = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert first["id"] == "1" and first["sentiment"]["label"] == "positive"
    assert second == {"id": "2", "error": second["error"]} and second["error"]


def test_the_garbage_collector_is_as_it_was_after_an_analysis(tmp_path: Path) -> None:
    import gc

    out = tmp_path / "out.jsonl"
    argv = ["analyze", str(_source(tmp_path)), f"--output={out}", "--text-column", "comment"]
    assert gc.isenabled()
    assert analyze_from_argv(argv) == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert analyze_from_argv(argv) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.parametrize(
    "tail",
    [["--help"], ["-h"], ["--colour"], [], ["--output"]],
)
def test_help_unknown_options_and_bad_lines_are_left_to_typer(
    tmp_path: Path, tail: list[str]
) -> None:
    out = tmp_path / "out.jsonl"
    argv = ["analyze", str(_source(tmp_path))] + (["-o", str(out), *tail] if tail else [])
    assert analyze_from_argv(argv) is None
    assert not out.exists()


def test_other_commands_are_left_to_typer() -> None:
    assert analyze_from_argv(["train", "--data", "x"]) is None
    assert analyze_from_argv([]) is None


def test_bad_input_and_unknown_industry_exit_with_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "out.jsonl")
    assert analyze_from_argv(["analyze", str(tmp_path / "missing.csv"), "-o", out]) == 2
    source = str(_source(tmp_path))
    assert analyze_from_argv(["analyze", source, "-o", out, "--industry", "airline"]) == 2
    assert "unknown industry" in capsys.readouterr().err


def test_the_analyze_path_imports_neither_scikit_learn_nor_rich_nor_pydantic(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    code = (
        "import sys\n"
        "from tiyan.text.analyze_command import analyze_from_argv\n"
        f"assert analyze_from_argv(['analyze', {str(_source(tmp_path))!r}, '-o', {str(out)!r},"
        " '--industry', 'hotel', '--text-column', 'comment']) == 0\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'rich', 'pydantic', 'typer')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_module_takes_the_tiyan_command_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    source = str(_source(tmp_path))
    command = [sys.executable, "-m", "tiyan.text.analyze_command", "text", "analyze", source]
    result = subprocess.run(
        [*command, "-o", str(out), "--text-column", "comment"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    usage = subprocess.run(
        [sys.executable, "-m", "tiyan.text.analyze_command", "train"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert usage.returncode == 1 and "usage" in usage.stderr


def test_the_console_script_runs_analyze_without_typer_and_the_rest_with_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    source = str(_source(tmp_path))
    # -X importtime names every module the process imports (on stderr): the analysis itself
    # leaves with os._exit, so nothing can run after it in that process to look
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tiyan.entry", "text", "analyze", source,
         "-o", str(out), "--text-column", "comment", "--industry", "restaurant"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "tiyan.text.pipeline" in imported
    assert "typer" not in imported and "tiyan.cli" not in imported
    assert "2 rows analysed" in result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    usage = subprocess.run(
        [sys.executable, "-m", "tiyan.entry", "text", "analyze", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert usage.returncode == 0 and "--industry" in usage.stdout
