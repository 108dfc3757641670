"""`tiyan feedback import` as users script it: progress, a report, a CSV of every problem."""

import csv
from pathlib import Path

from tests.demo_db import run_tiyan


def test_feedback_import_reports_counts_and_writes_every_problem(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_tiyan("db", "upgrade", "--db", url).returncode == 0
    for code, parent in (("hq", None), ("s1", "hq")):
        args = ["units", "create", "--code", code, "--name-zh", code, "--name-en", code,
                "--kind", "store" if parent else "group", "--db", url]
        assert run_tiyan(*args, *(["--parent", parent] if parent else [])).returncode == 0
    source = tmp_path / "hotline.csv"
    source.write_bytes(("来电编号,来电内容,来电时间,网点,备注\n"
                        "h1,空调不制冷,2026-11-20 09:12,s1,加急\n"
                        "h2,师傅态度好,2026-11-20 10:40,atlantis,\n"
                        'h3,"引号没关,2026-11-20 11:00,s1,\n').encode("gbk"))
    problems = tmp_path / "problems.csv"
    first = run_tiyan("feedback", "import", str(source), "--source", "hotline",
                      "--map", "text=来电内容", "--report", str(problems), "--db", url)
    assert first.returncode == 0, first.stderr
    assert "1 stored" in first.stdout and "2 rejected" in first.stdout, first.stdout
    assert "gb18030" in first.stdout and "unknown unit code 'atlantis'" in first.stdout
    with problems.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["column"]) for r in rows] == [("3", "网点"), ("4", "")]
    assert rows[1]["reason"].startswith("broken CSV quoting")
    again = run_tiyan("feedback", "import", str(source), "--source", "hotline", "--db", url)
    assert again.returncode == 0 and "0 stored, 1 already there" in again.stdout, again.stdout


def test_feedback_import_names_a_missing_column_and_a_wrong_source(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_tiyan("db", "upgrade", "--db", url).returncode == 0
    source = tmp_path / "x.csv"
    source.write_text("内容,门店\n好,s1\n", encoding="utf-8")
    missing = run_tiyan("feedback", "import", str(source), "--source", "review", "--db", url)
    assert missing.returncode == 1 and "no time column" in missing.stderr
    assert "Traceback" not in missing.stderr
    wrong = run_tiyan("feedback", "import", str(source), "--source", "survey", "--db", url)
    assert wrong.returncode == 1 and "unknown source 'survey'" in wrong.stderr
