"""Rejected rows of an import are said in the reader's language (issue 16): each row problem is
stored with its key and values, shown on the import page in zh-CN or en and answered by the API
with `message` in the caller's language and `key`, the line and column named in words; rows
stored before problems had keys keep their text. CSV and Excel, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.store import tables as t

ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){2,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
HEADER = ["内容", "时间", "门店", "评分"]
ROWS = [
    ["服务很好", "2026-11-20 10:00", "n1", "5"],
    ["", "2026-11-20 10:00", "n1", "4"],            # line 3: the text is empty
    ["太慢了", "2026-11-20 10:00", "n1", "很好"],      # line 4: the rating is not a number
    ["排队久", "明天上午", "n1", "3"],                  # line 5: unparseable time
    ["还行", "2026-11-20 10:00", "zz9", "9"],         # line 6: unknown unit, rating 1-5
]
# (line, column, key) of each problem, in the file's order
EXPECTED = [(3, "内容", "import_rows.text_empty"),
            (4, "评分", "import_rows.rating_not_number"),
            (5, "时间", "import_rows.unparseable_time"),
            (6, "门店", "import_rows.unknown_unit"),
            (6, "评分", "import_rows.rating_out_of_range")]
MAPPING = '{"text": "内容", "time": "时间", "unit": "门店", "rating": "评分"}'


def csv_file() -> tuple[str, bytes, str]:
    lines = [",".join(HEADER)] + [",".join(row) for row in ROWS] + ['"引号没关,2026-11-20,n1,3']
    return "反馈.csv", ("\n".join(lines) + "\n").encode("utf-8"), "text/csv"


def xlsx_file() -> tuple[str, bytes, str]:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return ("反馈.xlsx", data.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def headers(world: World, language: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens['admin@t.test']}",
            "Accept-Language": language}


def assert_chinese(text: str) -> None:
    assert CHINESE.search(text), text
    assert not ENGLISH.search(text), text


def problem_cells(page: str) -> list[list[str]]:
    table = page.split('id="problems"')[1].split("</table>")[0]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


@pytest.mark.parametrize("file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_rejected_rows_are_said_in_the_readers_language_in_the_api_and_on_the_page(
        client: TestClient, world: World, file) -> None:  # type: ignore[no-untyped-def]
    name, data, kind = file()
    reply = client.post("/api/v1/feedback/imports", headers=headers(world, "zh-CN"),
                        files={"file": (name, data, kind)},
                        data={"source": "review", "mapping": MAPPING})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    problems = body["problems"]
    rowed = [p for p in problems if p["column"] is not None]
    assert [(p["line"], p["column"], p["key"]) for p in rowed] == EXPECTED
    for p in problems:
        assert_chinese(p["message"])
        assert f"第 {p['line']} 行" in p["message"]
    assert rowed[0]["message"] == "第 3 行“内容”列：内容为空"
    assert rowed[1]["message"] == "第 4 行“评分”列：评分不是数字"
    assert rowed[4]["message"] == "第 6 行“评分”列：评分超出 1–5 的范围"
    assert rowed[3]["message"] == "第 6 行“门店”列：未知的单位代码 'zz9'"
    assert rowed[2]["message"].startswith("第 5 行“时间”列：无法解析时间：无法识别的时间格式")
    assert rowed[1]["reason"] == "the rating is not a number"  # English kept for programs
    if name.endswith(".csv"):
        assert [(p["line"], p["key"]) for p in problems if p["column"] is None] == \
            [(7, "import_rows.csv_open_quote")]

    english = client.get(f"/api/v1/feedback/imports/{body['id']}",
                         headers=headers(world, "en")).json()["problems"]
    assert [p["key"] for p in english] == [p["key"] for p in problems]
    assert english[0]["message"] == "line 3, column 内容: the text is empty"
    assert english[1]["message"] == "line 4, column 评分: the rating is not a number"
    assert english[4]["message"] == "line 6, column 评分: the rating is outside 1–5"
    for p in english:  # English words; only the file's own column names are Chinese
        assert not CHINESE.search(p["message"].replace(p["column"] or "", "")), p

    sign_in(client, "admin@t.test", PASSWORD)
    chinese_page = client.get(f"/feedback/imports/{body['id']}?lang=zh-CN")
    assert chinese_page.status_code == 200
    cells = problem_cells(chinese_page.text)
    assert [(c[0], c[1]) for c in cells][:5] == [(str(line), column)
                                                for line, column, _ in EXPECTED]
    assert [c[2] for c in cells][:5] == [
        "内容为空", "评分不是数字", cells[2][2], "未知的单位代码 'zz9'", "评分超出 1–5 的范围"]
    for cell in cells:
        assert_chinese(cell[2])
    english_page = client.get(f"/feedback/imports/{body['id']}?lang=en")
    reasons = [c[2] for c in problem_cells(english_page.text)]
    assert reasons[:2] == ["the text is empty", "the rating is not a number"]
    assert reasons[2].startswith("unparseable time: not a time this importer understands")
    assert "<script" not in english_page.text.split('id="problems"')[1].split("</table>")[0]


def test_a_row_stored_before_problems_had_keys_keeps_its_text(
        client: TestClient, world: World, ctx: Context) -> None:
    name, data, kind = csv_file()
    body = client.post("/api/v1/feedback/imports", headers=headers(world, "en"),
                       files={"file": (name, data, kind)},
                       data={"source": "review", "mapping": MAPPING}).json()
    with ctx.db.write() as conn:
        stored = conn.execute(sa.select(t.import_batch.c.rejections).where(
            t.import_batch.c.public_id == body["id"])).scalar_one()
        older = [{k: v for k, v in p.items() if k not in ("key", "params")} for p in stored]
        older[0]["reason"] = "<b>the text is empty</b>"
        conn.execute(t.import_batch.update().where(t.import_batch.c.public_id == body["id"])
                     .values(rejections=older))
    problems = client.get(f"/api/v1/feedback/imports/{body['id']}",
                          headers=headers(world, "zh-CN")).json()["problems"]
    assert problems[0]["key"] is None
    assert problems[0]["message"] == "第 3 行“内容”列：<b>the text is empty</b>"
    assert problems[1]["message"] == "第 4 行“评分”列：the rating is not a number"
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get(f"/feedback/imports/{body['id']}?lang=zh-CN").text
    assert "&lt;b&gt;the text is empty&lt;/b&gt;" in page and "<b>the text" not in page


def test_the_transactions_api_says_rejected_records_in_the_callers_language(
        client: TestClient, world: World) -> None:
    records = {"transactions": [
        {"customer": "nobody-here", "time": "2026-11-20 10:00", "amount": "12.5"},
        {"customer": "nobody-here", "time": "2026-11-20 10:00", "amount": "-3",
         "currency": "R1"}]}
    for language in ("zh-CN", "en"):
        reply = client.post("/api/v1/transactions", headers=headers(world, language),
                            json=records)
        assert reply.status_code == 200, reply.text
        problems = reply.json()["problems"]
        keys = [(p["line"], p["column"], p["key"]) for p in problems]
        assert (1, "customer", "import_rows.unknown_customer") in keys
        assert (2, "amount", "import_rows.amount_negative") in keys
        assert (2, "currency", "import_rows.bad_currency") in keys
        for p in problems:
            if language == "zh-CN":
                assert_chinese(p["message"].replace("refund", ""))
                assert p["message"].startswith(f"第 {p['line']} 行“{p['column']}”列：")
            else:
                assert p["message"] == f"line {p['line']}, column {p['column']}: {p['reason']}"
