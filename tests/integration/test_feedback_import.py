"""Importing feedback files into the fixture world, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.world import World
from tiyan.context import Context
from tiyan.errors import Forbidden, InvalidInput, NotFound
from tiyan.services.feedback_import import (
    ImportReport,
    ImportRequest,
    do_import_feedback,
    preview,
)
from tiyan.services.jobs import run_until_idle
from tiyan.store import feedback as store
from tiyan.store import tables as t

HEADER = "评价ID,评价内容,评价时间,门店编码,评分\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def records(ctx: Context) -> list[dict[str, object]]:
    """Stored feedback records with their text and rating, in id order."""
    R, A = t.response, t.answer
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(R.c.id, R.c.source, R.c.external_id, R.c.unit_id,
                                      R.c.channel, R.c.meta)
                            .where(R.c.source != "survey").order_by(R.c.id)).mappings().all()
        answers = conn.execute(sa.select(A).where(A.c.response_id.in_([r["id"] for r in rows]))
                               ).mappings().all()
    out = []
    for row in rows:
        mine = {a["question_key"]: a for a in answers if a["response_id"] == row["id"]}
        out.append({**row, "text": mine["comment"]["value_text"],
                    "rating": mine["rating"]["value_num"] if "rating" in mine else None})
    return out


def run(ctx: Context, world: World, path: Path, email: str | None = "admin@t.test",
        source: str = "review", unit_code: str | None = None,
        encoding: str | None = None) -> ImportReport:
    actor = world.actor(email) if email else None
    return do_import_feedback(ctx, actor, ImportRequest(path=path, source=source,
                                                        unit_code=unit_code, encoding=encoding))


def test_a_gbk_file_with_chinese_headers_is_stored_in_the_long_shape(
        ctx: Context, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "点评.csv", HEADER + "dp-1,环境很好，服务周到,2026-11-20 10:00,n1,5\n"
                                               "dp-2,等了一个小时 太慢,2026/11/19 18:30,n2,2\n",
                 "gbk")
    run_until_idle(ctx)  # the world's own jobs
    report = run(ctx, world, path)
    assert report.encoding == "gb18030"
    assert (report.rows_total, report.rows_stored, report.rows_rejected) == (2, 2, 0)
    stored = records(ctx)
    assert [(r["external_id"], r["text"], r["rating"], r["channel"]) for r in stored] == [
        ("dp-1", "环境很好，服务周到", 5.0, "import"), ("dp-2", "等了一个小时 太慢", 2.0, "import")]
    assert stored[0]["unit_id"] == world.unit_ids["n1"]
    with ctx.db.read() as conn:
        batch = store.batch_by_public_id(conn, report.import_id)
        kinds = sorted(conn.execute(sa.select(t.job.c.kind).where(t.job.c.status == "queued"))
                       .scalars())
    assert batch is not None and batch["status"] == "done" and batch["rows_stored"] == 2
    assert batch["file_format"] == "csv" and len(batch["content_sha256"]) == 64
    assert {"text.analyze", "webhook.emit"} <= set(kinds)
    run_until_idle(ctx)
    with ctx.db.read() as conn:
        analysed = conn.execute(sa.select(sa.func.count()).select_from(t.text_analysis)
                                ).scalar_one()
    assert analysed == 2 + 7  # and the world's seven survey comments


def test_broken_quoting_rejects_those_rows_with_their_lines_and_keeps_the_rest(
        ctx: Context, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", HEADER
                 + 'a1,"好 "的,2026-11-20 10:00,n1,5\n'           # line 2: text after the quote
                 + "a2,正常,2026-11-20 10:00,n1,4\n"                # line 3: fine
                 + "a3,多一列,2026-11-20 10:00,n1,4,x\n"            # line 4: extra field
                 + 'a4,"没有结束,2026-11-20 10:00,n1,3\n'           # line 5: quote left open
                 + "a5,吞掉的行,2026-11-20 10:00,n1,3\n")
    report = run(ctx, world, path)
    lines = [(p.line, p.reason.split(":")[0]) for p in report.problems]
    assert lines[0] == (2, "broken CSV quoting")
    assert lines[1][0] == 4 and "fields where the header has 5" in report.problems[1].reason
    assert lines[2] == (5, "broken CSV quoting")
    assert [r["external_id"] for r in records(ctx)] == ["a2"]
    assert (report.rows_stored, report.rows_rejected) == (1, 3)


def test_a_file_without_a_required_column_writes_nothing(
        ctx: Context, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "评价内容,门店编码\n好,n1\n")
    with pytest.raises(InvalidInput) as err:
        run(ctx, world, path)
    assert "no time column" in err.value.message and err.value.where == "column time"
    with ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.import_batch)).scalar() == 0


def test_row_problems_name_line_column_and_reason(ctx: Context, world: World,
                                                  tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", HEADER + "b1,,2026-11-20 10:00,n1,5\n"
                                             "b2,好,下周,n1,5\n"
                                             "b3,好,2026-11-20 10:00,nowhere,5\n"
                                             "b4,好,2026-11-20 10:00,n1,十\n")
    report = run(ctx, world, path)
    got = [(p.line, p.column, p.reason) for p in report.problems]
    assert [g[:2] for g in got] == [(2, "评价内容"), (3, "评价时间"), (4, "门店编码"), (5, "评分")]
    assert got[0][2] == "the text is empty" and got[1][2].startswith("unparseable time")
    assert got[2][2] == "unknown unit code 'nowhere'"
    assert got[3][2] == "the rating is not a number"
    with ctx.db.read() as conn:
        batch = store.batch_by_public_id(conn, report.import_id)
    assert batch is not None and batch["rows_rejected"] == 4
    assert batch["rejections"][0] == {"line": 2, "column": "评价内容",
                                      "reason": "the text is empty", "value": None,
                                      "key": "import_rows.text_empty", "params": {}}


def test_a_100_kb_text_with_emoji_and_mixed_scripts_is_stored_whole(
        ctx: Context, world: World, tmp_path: Path) -> None:
    long_text = ("服务很好😀 great ドライブ " * 3000)[:50_000]
    assert len(long_text.encode("utf-8")) > 100_000
    too_long = "x" * 100_001
    path = write(tmp_path, "f.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "j1", "content": long_text, "time": "2026-11-20T10:00:00+08:00", "store": "n1"},
        {"id": "j2", "content": too_long, "time": "2026-11-20T10:00:00+08:00", "store": "n1"},
        ["not", "an", "object"],
    ]) + "\n{broken json\n")
    report = run(ctx, world, path, source="social")
    assert [r["text"] for r in records(ctx)] == [long_text]
    assert [(p.line, p.column) for p in report.problems] == [
        (2, "content"), (3, None), (4, None)]
    assert "100,001 characters" in report.problems[0].reason
    assert report.problems[1].reason == "expected a JSON object, got list"


def test_importing_the_same_file_again_creates_no_duplicates(
        ctx: Context, world: World, tmp_path: Path) -> None:
    with_ids = write(tmp_path, "a.csv", HEADER + "c1,好,2026-11-20 10:00,n1,5\n"
                                                 "c1,同一个ID再来一次,2026-11-20 10:00,n1,5\n"
                                                 "c2,差,2026-11-20 10:00,n2,1\n")
    without_ids = write(tmp_path, "b.csv", "内容,时间,门店\n太慢,2026-11-20 10:00,n1\n"
                                           "太慢,2026-11-20 10:00,n1\n太贵,2026-11-21,s1\n")
    first = run(ctx, world, with_ids)
    assert (first.rows_stored, first.rows_duplicate) == (2, 1)
    again = run(ctx, world, with_ids)
    assert (again.rows_stored, again.rows_duplicate) == (0, 3)
    hashed = run(ctx, world, without_ids, source="hotline")
    assert (hashed.rows_stored, hashed.rows_duplicate) == (2, 1)
    assert run(ctx, world, without_ids, source="hotline").rows_stored == 0
    # the same texts as another source are other records
    assert run(ctx, world, without_ids, source="complaint").rows_stored == 2
    assert len(records(ctx)) == 6


def test_two_dealers_reviews_with_the_same_id_are_both_kept(
        ctx: Context, world: World, tmp_path: Path) -> None:
    """Each dealer's platform numbers its own reviews: the same id at two units is two records,
    and within one unit it is still one."""
    north = write(tmp_path, "n1.csv", HEADER + "r-100,n1的评价,2026-11-20 10:00,n1,5\n")
    south = write(tmp_path, "s1.csv", HEADER + "r-100,s1的评价,2026-11-20 10:00,s1,1\n")
    assert run(ctx, world, north, email="mgr.n1@t.test").rows_stored == 1
    other = run(ctx, world, south, email="mgr.s1@t.test")
    assert (other.rows_stored, other.rows_duplicate) == (1, 0)
    both = write(tmp_path, "both.csv", HEADER + "r-100,again,2026-11-20 10:00,n1,5\n"
                                                 "r-100,again,2026-11-20 10:00,s1,1\n"
                                                 "r-100,again,2026-11-20 10:00,n2,3\n")
    again = run(ctx, world, both)
    assert (again.rows_stored, again.rows_duplicate) == (1, 2)
    assert [(r["external_id"], r["unit_id"], r["text"]) for r in records(ctx)] == [
        ("r-100", world.unit_ids["n1"], "n1的评价"), ("r-100", world.unit_ids["s1"], "s1的评价"),
        ("r-100", world.unit_ids["n2"], "again")]


def test_a_crash_mid_file_leaves_whole_chunks_and_a_rerun_completes_the_rest(
        ctx: Context, world: World, tmp_path: Path) -> None:
    rows = "".join(f"d{i},第{i}条,2026-11-20 10:00,n1,4\n" for i in range(7))
    path = write(tmp_path, "f.csv", HEADER + rows)
    actor = world.actor("admin@t.test")
    partial = do_import_feedback(ctx, actor, ImportRequest(path=path, source="review",
                                                           chunk_rows=3), stop_after_chunks=2)
    assert [r["external_id"] for r in records(ctx)] == [f"d{i}" for i in range(6)]
    with ctx.db.read() as conn:
        batch = store.batch_by_public_id(conn, partial.import_id)
    assert batch is not None and (batch["status"], batch["rows_stored"]) == ("running", 6)
    rest = do_import_feedback(ctx, actor, ImportRequest(path=path, source="review", chunk_rows=3))
    assert (rest.rows_stored, rest.rows_duplicate) == (1, 6)
    assert len(records(ctx)) == 7


def test_a_unit_manager_imports_only_into_their_subtree(
        ctx: Context, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", HEADER + "e1,好,2026-11-20 10:00,n1-as,5\n"
                                             "e2,好,2026-11-20 10:00,s1,5\n")
    report = run(ctx, world, path, email="mgr.n1@t.test")
    assert [(p.line, p.reason) for p in report.problems] == [
        (3, "unit 's1' is outside your scope")]
    assert [r["unit_id"] for r in records(ctx)] == [world.unit_ids["n1-as"]]
    with pytest.raises(Forbidden):
        run(ctx, world, path, email="mgr.n1@t.test", unit_code="s1")
    with pytest.raises(Forbidden):
        run(ctx, world, path, email="viewer@t.test")
    with ctx.db.read() as conn:
        assert store.access_batch(conn, world.actor("mgr.n1@t.test"), report.import_id)
        with pytest.raises(NotFound):
            store.access_batch(conn, world.actor("mgr.s1@t.test"), report.import_id)
        assert store.access_batch(conn, world.actor("admin@t.test"), report.import_id)


def test_the_unit_option_fills_empty_cells_and_narrows_the_scope(
        ctx: Context, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "内容,时间,门店\n好,2026-11-20,\n好,2026-11-21,n2\n")
    report = run(ctx, world, path, unit_code="n1", source="complaint")
    assert [r["unit_id"] for r in records(ctx)] == [world.unit_ids["n1"]]
    assert report.problems[0].reason == "unit 'n2' is outside your scope"


def test_excel_files_are_read_with_their_dates_and_numbers(
        ctx: Context, world: World, tmp_path: Path) -> None:
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工单号", "投诉内容", "投诉时间", "门店", "客户"])
    phone = f"1380013{world.unit_ids['n2']:04d}"  # the n2 customer's identity
    sheet.append([1001, "车没修好", dt.datetime(2026, 11, 20, 10, 0), "n2", phone])
    sheet.append([None, None, None, None, None])
    sheet.append([1002, "", dt.datetime(2026, 11, 20, 11, 0), "n2", None])
    path = tmp_path / "tickets.xlsx"
    book.save(path)
    report = run(ctx, world, path, source="complaint")
    assert [(p.line, p.column) for p in report.problems] == [(4, "投诉内容")]
    stored = records(ctx)
    assert [(r["external_id"], r["source"], r["text"]) for r in stored] == [
        ("1001", "complaint", "车没修好")]
    R = t.response
    with ctx.db.read() as conn:
        customer = conn.execute(sa.select(R.c.customer_id, R.c.submitted_at)
                                .where(R.c.id == stored[0]["id"])).one()
    assert customer.customer_id is not None  # the phone number names the n2 customer
    assert customer.submitted_at == dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_a_utf8_bom_file_and_a_preview(ctx: Context, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "\ufeffReview,Date,Store,Stars\n"
                                    '"Great, fast 👍",2026-11-20,n1,5\nSlow,2026-11-20,n2,2\n')
    shown = preview(path)
    assert shown["encoding"] == "utf-8-sig" and shown["columns"] == ["Review", "Date", "Store",
                                                                       "Stars"]
    assert shown["mapping"] == {"text": "Review", "time": "Date", "unit": "Store",
                                "rating": "Stars"}
    assert shown["rows"][0] == {"line": 2, "problem": None, "values": {
        "Review": "Great, fast 👍", "Date": "2026-11-20", "Store": "n1", "Stars": "5"}}
    assert run(ctx, world, path).rows_stored == 2


def test_undecodable_bytes_in_a_row_are_rejected_with_the_encoding(
        ctx: Context, world: World, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(HEADER.encode() + "f1,好,2026-11-20,n1,5\n".encode()
                     + b"f2,\xff\xfe bad,2026-11-20,n1,5\n")
    report = run(ctx, world, path, encoding="utf-8")
    assert [(p.line, p.column) for p in report.problems] == [(3, "评价内容")]
    assert "not valid utf-8" in report.problems[0].reason
    assert len(records(ctx)) == 1
    with pytest.raises(InvalidInput, match="unknown encoding"):
        run(ctx, world, path, encoding="klingon")
    with pytest.raises(InvalidInput, match="use .csv, .xlsx or .jsonl"):
        run(ctx, world, write(tmp_path, "f.pdf", "x"))
    with pytest.raises(InvalidInput, match="unknown source"):
        run(ctx, world, path, source="survey")
