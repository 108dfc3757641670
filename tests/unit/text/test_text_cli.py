"""`tiyan text analyze` end to end: csv, jsonl and xlsx input, malformed rows, the contract."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from tiyan.text.cli import app

ROOT = Path(__file__).parents[3]
LABELS = {"positive", "neutral", "negative"}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _records(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _assert_contract(record: dict) -> None:
    assert record["language"] in {"zh", "en", "other"}
    assert record["sentiment"]["label"] in LABELS
    assert -1.0 <= record["sentiment"]["score"] <= 1.0
    assert isinstance(record["keywords"], list)
    for aspect in record["aspects"]:
        assert aspect["label"] in LABELS
        assert aspect["evidence"] in record["redacted"]


def test_csv_rows_become_json_lines_and_empty_rows_get_an_error(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(
            [["a1", "菜很好吃，送餐很快"], ["a2", ""], ["a3", "   "], ["a4", "太难吃了"]]
        )
    code, _ = _run(
        "analyze", str(source), "--output", str(tmp_path / "out.jsonl"), "--industry", "restaurant"
    )
    assert code == 0
    records = _records(tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == ["a1", "a2", "a3", "a4"]
    assert "error" in records[1] and "empty" in records[1]["error"]
    assert "error" in records[2]
    for record in (records[0], records[3]):
        _assert_contract(record)
    assert records[0]["sentiment"]["label"] == "positive"
    assert records[3]["sentiment"]["label"] == "negative"


def test_jsonl_with_broken_lines_and_non_text_values(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"key": 1, "comment": "房间很干净"}, ensure_ascii=False),
        "{not json",
        json.dumps({"key": 3, "comment": 42}),
        json.dumps({"key": 4, "comment": None}),
        json.dumps(["a", "list"]),
        json.dumps({"key": 6}),
        json.dumps({"key": 7, "comment": "The room was dirty."}),
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _ = _run(
        "analyze",
        str(source),
        "--output",
        str(out),
        "--text-column",
        "comment",
        "--id-column",
        "key",
        "--industry",
        "hotel",
    )
    assert code == 0
    records = _records(out)
    assert len(records) == 7
    assert [("error" in r) for r in records] == [False, True, True, True, True, True, False]
    assert records[0]["id"] == 1
    assert records[2]["id"] == 3 and "not text" in records[2]["error"]
    assert records[6]["language"] == "en"
    _assert_contract(records[0])


def test_xlsx_input_with_numbers_and_blank_cells(tmp_path: Path) -> None:
    source = tmp_path / "in.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "text"])
    sheet.append([1, "油耗太高了"])
    sheet.append([2, 12345])
    sheet.append([3, None])
    sheet.append([4, "外观很漂亮，空间也大"])
    book.save(source)
    out = tmp_path / "out.jsonl"
    code, _ = _run("analyze", str(source), "--output", str(out), "--industry", "car_product")
    assert code == 0
    records = _records(out)
    assert [r["id"] for r in records] == [1, 2, 3, 4]
    assert "error" in records[1] and "error" in records[2]
    assert {a["name"] for a in records[0]["aspects"]} >= {"油耗"}
    _assert_contract(records[3])


def test_personal_data_never_reaches_the_output(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,服务很差，打我电话13912345678\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert (
        _run("analyze", str(source), "--output", str(out), "--industry", "car_aftersales")[0] == 0
    )
    assert "13912345678" not in out.read_text(encoding="utf-8")


def test_missing_text_column_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,comment\n1,很好\n", encoding="utf-8")
    code, output = _run("analyze", str(source), "--output", str(tmp_path / "out.jsonl"))
    assert code == 2
    assert 'no text column "text"' in output


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("in.txt", [], "unsupported format"),
        ("in.csv", ["--industry", "airline"], "unknown industry"),
    ],
)
def test_bad_file_or_industry_exits_with_status_2(
    tmp_path: Path, name: str, args: list[str], message: str
) -> None:
    source = tmp_path / name
    source.write_text("id,text\n1,很好\n", encoding="utf-8")
    code, output = _run("analyze", str(source), "--output", str(tmp_path / "out.jsonl"), *args)
    assert code == 2
    assert message in output


def test_the_module_runs_as_a_whole_process(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    rows = "\n".join(f"{i},{'好吃' if i % 2 else '难吃'}" for i in range(1200))
    source.write_text("id,text\n" + rows + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "tiyan.text.cli", "analyze", str(source), "--output", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    records = _records(out)
    assert len(records) == 1200
    assert records[1]["sentiment"]["label"] == "positive"
    assert records[0]["sentiment"]["label"] == "negative"


def test_bad_bytes_nul_characters_and_lone_surrogates_do_not_stop_the_file(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    invalid_utf8 = b"\xff\xfe"
    source.write_bytes(
        "id,text\n1,服务很好\n2,味道".encode() + invalid_utf8 + "不错\n3,a\x00b很差\n".encode()
    )
    out = tmp_path / "out.jsonl"
    assert _run("analyze", str(source), "--output", str(out), "--industry", "restaurant")[0] == 0
    assert [r["id"] for r in _records(out)] == ["1", "2", "3"]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"id": 1, "text": "\\ud800 房间很脏"}\n', encoding="utf-8")
    assert _run("analyze", str(jsonl), "--output", str(out), "--industry", "hotel")[0] == 0
    (record,) = _records(out)
    assert record["sentiment"]["label"] == "negative"


def test_every_kind_of_bad_row_gets_its_own_result_in_a_whole_process(tmp_path: Path) -> None:
    """Empty, emoji-only, mixed-language, 100 KB and non-text comments, side by side in one
    file read by the `tiyan` console path as a whole process: each row gets an error or an
    analysis, the good rows around them are unaffected, and nothing stops the file."""
    long_comment = "房间很干净，服务也很好，但是早餐太贵了。" * 5200  # ≈ 100 KB of UTF-8
    assert len(long_comment.encode()) > 100_000
    rows: list[object] = [
        "服务很好，下次还来",
        "",
        "   \n\t",
        "😀😀👍🎉",
        "！！！。。。",
        "服务很好 but the price is too high",
        "The room was clean, 但是早餐太贵了",
        long_comment,
        12345,
        None,
        ["a", "list"],
        {"a": "mapping"},
        True,
        "房间太脏了，再也不来了",
    ]
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(rows)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "tiyan.entry", "text", "analyze", str(source)]
    command += ["--output", str(out), "--industry", "hotel"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    records = {r["id"]: r for r in _records(out)}
    assert sorted(records) == list(range(len(rows)))
    errors = {i for i, r in records.items() if "error" in r}
    assert errors == {1, 2, 8, 9, 10, 11, 12}
    assert "empty" in records[1]["error"] and "empty" in records[2]["error"]
    for i in (8, 10, 11, 12):
        assert "not text" in records[i]["error"]
    for i in set(records) - errors:
        _assert_contract(records[i])
    # no letter of any script: no language, nothing to read
    for i in (3, 4):
        assert records[i]["language"] == "other"
        assert records[i]["sentiment"] == {"label": "neutral", "score": 0.0}
        assert records[i]["aspects"] == [] and records[i]["keywords"] == []
    # mixed comments: the majority language, and each aspect read in its own language's clause
    aspects = {a["aspect"]: a for a in records[5]["aspects"]}
    assert aspects["service"]["label"] == "positive"
    assert aspects["service"]["evidence"] == "服务很好"
    assert aspects["price"]["label"] == "negative"
    aspects = {a["aspect"]: a for a in records[6]["aspects"]}
    # the English term read by the English model over its own clause: "The room was clean" is
    # +0.12 there, inside the neutral band (docs/models/text.md, section 2)
    assert aspects["room"]["evidence"] == "The room was clean" and aspects["room"]["score"] > 0
    assert aspects["dining"]["label"] == "negative" and "早餐" in aspects["dining"]["evidence"]
    # 100 KB: analysed whole, its clauses read one by one
    assert records[7]["language"] == "zh"
    assert {a["label"] for a in records[7]["aspects"]} >= {"positive", "negative"}
    assert records[0]["sentiment"]["label"] == "positive"
    assert records[13]["sentiment"]["label"] == "negative"
