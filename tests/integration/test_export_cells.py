"""Every CSV and Excel export writes text that starts like a formula (`=`, `+`, `-`, `@`, tab,
CR) as text: the responses CSV, the dashboard tables (CSV and Excel), the VOC Excel and the
import problem report. Each is downloaded, parsed, and no cell may be a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests.integration.conftest import sign_in
from tests.integration.test_closed_loop import submit
from tests.integration.test_webhooks import bearer
from tests.world import PASSWORD, World
from tiyan.services import jobs
from tiyan.store import tables as t

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-cmd", "@SUM(1)", "\t=1", "\r=1"]
QUOTED = {"'" + h for h in HOSTILE}
PERIOD = "from=2026-01-01&to=2026-12-31"


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def excel_cells(content: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_no_formula(content: bytes) -> list[Any]:
    cells = excel_cells(content)
    assert cells and [c.coordinate for c in cells if c.data_type == "f"] == []
    return cells


def test_the_responses_csv_writes_hostile_comments_as_text(client: TestClient,
                                                           world: World) -> None:
    for n, text in enumerate(HOSTILE):
        submit(world.ctx, world, "n2", "n2-e1", n, text)
    reply = client.get("/api/v1/exports/responses.csv", headers=bearer(world))
    assert reply.status_code == 200
    head, *rows = csv_rows(reply.content)
    column = {name: i for i, name in enumerate(head)}
    texts = {r[column["value_text"]] for r in rows if r[column["question_key"]] == "comment"}
    assert texts >= QUOTED and not set(HOSTILE) & texts
    numbers = [r[column["value_num"]] for r in rows if r[column["question_key"]] == "nps"]
    assert numbers and all(float(n) >= 0 for n in numbers)  # numbers are not quoted


def test_dashboard_tables_write_hostile_unit_and_staff_names_as_text(
        client: TestClient, world: World) -> None:
    jobs.run_until_idle(world.ctx)
    units = ["north", "south", "n1", "n2", "s1", "n1-as"]
    with world.ctx.db.write() as conn:
        for code, name in zip(units, HOSTILE, strict=True):
            conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == code)
                         .values(name_en=name, name_zh=name))
        for code, name in zip(("n1-e1", "n1-e2", "n2-e1", "s1-e1"), HOSTILE, strict=False):
            conn.execute(sa.update(t.staff).where(t.staff.c.code == code).values(name=name))
    sign_in(client, "admin@t.test", PASSWORD)
    league = csv_rows(client.get(f"/dashboard/units/export.csv?{PERIOD}&lang=en").content)
    names = {row[1].removesuffix(" (own)") for row in league[1:]}
    assert names and names <= QUOTED
    for table in ("units", "staff", "overview", "drivers", "competitors"):
        reply = client.get(f"/dashboard/{table}/export.xlsx?{PERIOD}&lang=en")
        assert reply.status_code == 200, (table, reply.text[:200])
        cells = assert_no_formula(reply.content)
        shown = [c for c in cells if isinstance(c.value, str) and c.value.startswith(
            ("=", "+", "-", "@", "\t", "\n"))]
        assert all(c.data_type == "s" and c.quotePrefix for c in shown), table
    staff = assert_no_formula(client.get(f"/dashboard/staff/export.xlsx?{PERIOD}").content)
    assert {c.value for c in staff} >= set(HOSTILE[:4])


def test_the_voc_excel_writes_hostile_quotes_as_text(client: TestClient, world: World) -> None:
    ctx = world.ctx
    ctx.settings = ctx.settings.model_copy(update={"text_industry": "car_aftersales"})
    for nps, text in zip((0, 1, 2, 3, 4, 5), HOSTILE, strict=True):
        submit(ctx, world, "s1", "s1-e1", nps, f"{text}等了很久，排队两个小时")
    jobs.run_until_idle(ctx)
    sign_in(client, "admin@t.test", PASSWORD)
    day = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    for path in (f"/voc.xlsx?start={day}&end={day}&unit=south",
                 f"/voc.xlsx?start={day}&end={day}&unit=south&lang=en"):
        cells = assert_no_formula(client.get(path).content)
        quotes = [c for c in cells if isinstance(c.value, str) and "排队两个小时" in c.value]
        assert quotes and all(c.data_type == "s" and c.quotePrefix for c in quotes)
        assert any(c.value.startswith(tuple(HOSTILE)) for c in quotes)


def test_the_import_problem_report_writes_hostile_values_as_text(tmp_path: Path) -> None:
    from tiyan.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    for code, parent in (("hq", None), ("s1", "hq")):
        args = ["units", "create", "--code", code, "--name-zh", code, "--name-en", code,
                "--kind", "store" if parent else "group", "--db", url]
        under = ["--parent", parent] if parent else []
        assert runner.invoke(app, [*args, *under]).exit_code == 0
    source = tmp_path / "reviews.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "内容", "时间", "网点"])
        for n, value in enumerate(HOSTILE):
            writer.writerow([f"r{n}", "好", "2026-11-20 09:12", value])
    report = tmp_path / "problems.csv"
    done = runner.invoke(app, ["feedback", "import", str(source), "--source", "review",
                               "--map", "text=内容", "--report", str(report), "--db", url])
    assert done.exit_code == 0, done.output
    with report.open(encoding="utf-8-sig", newline="") as handle:
        values = [row["value"] for row in csv.DictReader(handle)]
    assert set(values) == {"'" + h.strip() for h in HOSTILE}  # the importer trims cells
