"""The responses list under the dashboards' filters, and its exports (wide CSV and Excel, long
CSV, Parquet) under exactly the same filters, scope and masking; on SQLite and PostgreSQL.

Each expectation is worked out from the fixture world (tests/world.py), not from the code."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, RESPONSES, World, comment_for
from tiyan.domain.surveys import parse_definition
from tiyan.services import jobs
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import surveys
from tiyan.store import tables as t

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-cmd", "@SUM(1)"]
CHOICES = {
    "title": {"zh-CN": "到店体验", "en": "Store visit"},
    "questions": [
        {"key": "nps", "type": "nps", "item_code": "nps",
         "text": {"zh-CN": "推荐", "en": "Recommend"}},
        {"key": "why", "type": "single", "text": {"zh-CN": "主要原因", "en": "Main reason"},
         "options": [{"code": "price", "text": {"zh-CN": "价格", "en": "Price"}},
                     {"code": "wait", "text": {"zh-CN": "等待时间", "en": "Waiting time"}}]},
        {"key": "extras", "type": "multi", "text": {"zh-CN": "用过的服务", "en": "Services used"},
         "options": [{"code": "wash", "text": {"zh-CN": "洗车", "en": "Car wash"}},
                     {"code": "cafe", "text": {"zh-CN": "咖啡", "en": "Café"}}]},
        {"key": "again", "type": "yesno", "text": {"zh-CN": "还会再来吗", "en": "Come again?"}},
        {"key": "note", "type": "text", "item_code": "comment",
         "text": {"zh-CN": "还有什么", "en": "Anything else"}},
    ],
}


def rows_of(html: str) -> str:
    """The list's rows (the filter form above lists unit names too)."""
    return html.split('id="response-rows"', 1)[1] if 'id="response-rows"' in html else ""


def shown(html: str) -> set[int]:
    """Which of the world's responses a list page shows, by their comment."""
    rows = rows_of(html)
    return {i for i in range(len(RESPONSES)) if comment_for(i) in rows}


def by_nps(low: int, high: int) -> set[int]:
    return {i for i, (_, _, nps, _) in enumerate(RESPONSES) if low <= nps <= high}


def csv_table(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # UTF-8 with BOM: Excel reads Chinese
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content))
    return [tuple(c.value for c in row) for row in book.worksheets[0].iter_rows()]


def choice_survey(world: World) -> int:
    """A second survey with choices, yes/no and a comment, and one response to it at n2."""
    with world.ctx.db.write() as conn:
        survey_id, _ = surveys.insert_survey(
            conn, code="visit", name="到店", unit_id=world.unit_ids["hq"],
            definition=parse_definition(CHOICES), now=world.ctx.now(), created_by=None)
    do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=survey_id, unit_code="n2", staff_code="n2-e1",
        answers={"nps": 4, "why": "wait", "extras": ["wash", "cafe"], "again": True,
                 "note": "等了一个小时"}, submitted_at=world.ctx.now()))
    return survey_id


def test_the_list_narrows_by_each_filter_and_keeps_them_in_its_links(
        world: World, client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    assert shown(client.get("/responses").text) == set(range(len(RESPONSES)))
    assert shown(client.get("/responses?score=detractor").text) == by_nps(0, 6)
    assert shown(client.get("/responses?score=promoter").text) == by_nps(9, 10)
    csat_low = {i for i, r in enumerate(RESPONSES) if r[3] <= 2}
    assert shown(client.get("/responses?score=dissatisfied").text) == csat_low
    assert shown(client.get("/responses?unit=north").text) == {0, 1, 2, 3, 4}
    assert shown(client.get("/responses?staff=n2-e1").text) == {3, 4}
    assert shown(client.get("/responses?answer=nps:10").text) == {0, 5}
    assert shown(client.get("/responses?q=-n2").text) == {3, 4}
    assert shown(client.get("/responses?q=COMMENT-6").text) == {6}  # any case
    assert shown(client.get("/responses?q=%25").text) == set()  # a % is a character
    assert shown(client.get("/responses?channel=sms").text) == set()
    assert shown(client.get("/responses?survey=test&from=2026-11-01&to=2026-11-30").text) \
        == set(range(len(RESPONSES)))
    assert shown(client.get("/responses?from=2026-10-01&to=2026-10-31").text) == set()
    page = client.get("/responses?unit=north&score=detractor&lang=en")
    assert '<strong>2</strong> responses' in page.text  # 2 and 4: the north detractors
    for export in ("responses.xlsx", "responses.csv", "responses-answers.csv",
                   "responses.parquet"):
        link = re.search(rf'href="(/{re.escape(export)}[^"]*)"', page.text)
        assert link is not None and "unit=north" in link.group(1) \
            and "score=detractor" in link.group(1)


def test_comment_filters_read_the_analysis_of_each_comment(world: World,
                                                           client: TestClient) -> None:
    silent = do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="n2", staff_code="n2-e1",
        answers={"nps": 7, "overall": 4}, submitted_at=world.ctx.now()))
    jobs.run_until_idle(world.ctx)
    sign_in(client, "admin@t.test", PASSWORD)
    assert shown(client.get("/responses?comment=yes").text) == set(range(len(RESPONSES)))
    without = client.get("/responses?comment=no").text
    assert shown(without) == set() and silent.public_id in without
    with world.ctx.db.read() as conn:
        labels = dict(conn.execute(sa.select(t.response.c.public_id,
                                             t.text_analysis.c.sentiment_label)
                                   .join(t.text_analysis,
                                         t.text_analysis.c.response_id == t.response.c.id)).all())
    for label in ("negative", "neutral", "positive"):
        page = client.get(f"/responses?sentiment={label}").text
        expected = {i for i in range(len(RESPONSES))
                    if labels.get(world.response_ids[i]) == label}
        assert shown(page) == expected, label


@pytest.mark.parametrize("bad", ["score=best", "sentiment=angry", "comment=maybe",
                                 "survey=nope", "unit=nowhere", "q=" + "x" * 101,
                                 "aspect_label=negative"])
def test_a_bad_filter_is_refused_with_its_name(world: World, client: TestClient,
                                               bad: str) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    for path in ("/responses", "/responses.csv", "/responses.xlsx"):
        reply = client.get(f"{path}?{bad}&lang=en")
        assert reply.status_code in (400, 404, 422), (path, bad)


def test_a_store_manager_never_gets_another_stores_rows(world: World,
                                                       client: TestClient) -> None:
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    own = {0, 1, 2}  # n1's subtree: n1-as
    assert shown(client.get("/responses").text) == own
    assert client.get("/responses?unit=s1").status_code in (400, 404)
    assert client.get("/responses?staff=s1-e1").status_code in (400, 404)
    wide = csv_table(client.get("/responses.csv").content)
    assert {r[0] for r in wide[1:]} == {world.response_ids[i] for i in own}
    long = csv_table(client.get("/responses-answers.csv").content)
    assert {r[0] for r in long[1:]} == {world.response_ids[i] for i in own}
    book = sheet_rows(client.get("/responses.xlsx").content)
    assert {r[0] for r in book[1:]} == {world.response_ids[i] for i in own}
    for i in set(range(len(RESPONSES))) - own:
        assert client.get(f"/responses/{world.response_ids[i]}").status_code == 404


def test_the_wide_export_has_one_row_per_response_with_questions_in_words(
        world: World, client: TestClient) -> None:
    choice_survey(world)
    jobs.run_until_idle(world.ctx)
    sign_in(client, "cx@t.test", PASSWORD)  # north: responses 0-4 and the new one at n2
    zh = csv_table(client.get("/responses.csv?lang=zh-CN").content)
    head, rows = zh[0], zh[1:]
    assert head[:3] == ["回复编号", "提交时间（Asia/Shanghai）", "问卷"]
    assert {"推荐", "满意", "哪里不好", "评论", "主要原因", "用过的服务", "还会再来吗",
            "还有什么"} <= set(head)
    assert len(rows) == 6 and len({r[0] for r in rows}) == 6
    col = {name: i for i, name in enumerate(head)}
    visit = next(r for r in rows if r[col["主要原因"]])
    assert (visit[col["主要原因"]], visit[col["用过的服务"]], visit[col["还会再来吗"]]) \
        == ("等待时间", "洗车、咖啡", "是")
    assert visit[col["单位"]] == "n2单位" and visit[col["NPS 分组"]] == "贬损者（NPS 0–6）"
    assert visit[col["渠道"]] and visit[col["全部评论"]] == "等了一个小时" and visit[col["情感"]]
    first = next(r for r in rows if r[0] == world.response_ids[0])
    assert first[col["推荐"]] == "10" and first[col["满意"]] == "5"
    local = (world.ctx.now() - dt.timedelta(hours=1)).astimezone(dt.timezone(
        dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert first[1].startswith(local)
    en = csv_table(client.get("/responses.csv?lang=en&survey=visit").content)
    assert en[0][1] == "Submitted (Asia/Shanghai)" and len(en) == 2
    col = {name: i for i, name in enumerate(en[0])}
    assert (en[1][col["Main reason"]], en[1][col["Services used"]],
            en[1][col["Come again?"]]) == ("Waiting time", "Car wash, Café", "Yes")
    assert "Satisfied" not in col  # only the questions of the selected responses' surveys


def test_the_excel_export_matches_the_filtered_count_and_writes_formulas_as_text(
        world: World, client: TestClient) -> None:
    admin = world.actor("admin@t.test")
    for text in HOSTILE:
        do_submit_response(world.ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code="s1", staff_code="s1-e1",
            answers={"nps": 1, "overall": 1, "comment": text}, submitted_at=world.ctx.now()))
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/responses?score=detractor&lang=en")
    count = int(re.search(r"<strong>([\d,]+)</strong> responses", page.text).group(1))
    assert count == len(by_nps(0, 6)) + len(HOSTILE)
    reply = client.get("/responses.xlsx?score=detractor&lang=en")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith(
        "application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(reply.content))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    hostile = [c for c in cells if c.value in HOSTILE]
    assert len(hostile) == 2 * len(HOSTILE)  # the question column and the comment column
    assert all(c.data_type == "s" and c.quotePrefix for c in hostile)
    rows = [tuple(c.value for c in row) for row in book.worksheets[0].iter_rows()]
    assert len(rows) - 1 == count and rows[0][1] == "Submitted (Asia/Shanghai)"
    assert isinstance(rows[1][1], dt.datetime)  # a time a spreadsheet can sort
    text = csv_table(client.get("/responses.csv?score=detractor").content)
    assert {"'" + h for h in HOSTILE} <= {cell for row in text for cell in row}
    assert not set(HOSTILE) & {cell for row in text for cell in row}


def test_exports_are_audited_with_their_filters_and_row_count(world: World,
                                                              client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    for export, fmt, shape in (("responses.csv", "csv", "wide"),
                               ("responses.xlsx", "xlsx", "wide"),
                               ("responses-answers.csv", "csv", "long"),
                               ("responses.parquet", "parquet", "long")):
        reply = client.get(f"/{export}?unit=north&score=promoter&q=comment")
        assert reply.status_code == 200
        with world.ctx.db.read() as conn:
            entry = conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.id.desc())
                                 .limit(1)).mappings().one()
        detail = entry["detail"]
        assert detail["kind"] == "responses" and detail["format"] == fmt
        assert entry["entity_id"] == shape
        assert detail["rows"] == 2  # 0 and 1: NPS 10 and 9 in the north
        assert detail["filters"] == {"from": "2025-12-01", "to": "2026-11-30", "unit": "north",
                                     "score": "promoter", "q": "…"}


def test_personal_data_stays_masked_in_the_list_the_exports_and_the_search(
        world: World, client: TestClient) -> None:
    do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="s1", staff_code="s1-e1",
        answers={"nps": 2, "overall": 1, "comment": "请回电 13912345678 找王先生"},
        submitted_at=world.ctx.now()))
    jobs.run_until_idle(world.ctx)
    sign_in(client, "analyst.south@t.test", PASSWORD)  # export, but no personal data
    page = client.get("/responses")
    assert "13912345678" not in page.text and "请回电" in rows_of(page.text)
    assert "请回电" not in rows_of(client.get("/responses?q=13912345678").text)
    for export in ("responses.csv", "responses.xlsx", "responses-answers.csv"):
        content = client.get(f"/{export}").content
        body = content if export.endswith("csv") else repr(sheet_rows(content)).encode()
        assert "请回电".encode() in body and b"13912345678" not in body, export
    sign_in(client, "admin@t.test", PASSWORD)
    assert "13912345678" in rows_of(client.get("/responses?q=13912345678").text)


def test_hostile_strings_are_escaped_in_the_list_and_its_filters(world: World,
                                                                 client: TestClient) -> None:
    script = '<script>alert("x")</script>'
    with world.ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "n2")
                     .values(name_zh=script, name_en=script))
        conn.execute(sa.update(t.staff).where(t.staff.c.code == "n2-e1").values(name=script))
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/responses?lang=en&q=" + '"><script>x</script>')
    assert script not in page.text and "<script>x</script>" not in page.text
    page = client.get("/responses?lang=en")
    assert script not in page.text and "&lt;script&gt;" in rows_of(page.text)


def test_the_next_page_carries_the_filters(world: World, client: TestClient) -> None:
    admin = world.actor("admin@t.test")
    for n in range(55):
        do_submit_response(world.ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code="s1", staff_code="s1-e1",
            answers={"nps": 9, "overall": 4, "comment": f"page-{n}"},
            submitted_at=world.ctx.now() - dt.timedelta(minutes=n)))
    sign_in(client, "admin@t.test", PASSWORD)
    first = client.get("/responses?unit=s1&score=promoter")
    assert rows_of(first.text).count('class="row-link"') == 50
    more = re.search(r'hx-get="([^"]+)"', first.text)
    assert more is not None
    url = more.group(1).replace("&amp;", "&")
    assert "unit=s1" in url and "score=promoter" in url and "after=" in url
    rest = client.get(url, headers={"HX-Request": "true"})
    assert rest.text.count('class="row-link"') == 6  # 55 + response 5 (NPS 10), 50 shown
    assert "page-54" in rest.text and 'id="more-row"' not in rest.text


def test_the_response_page_shows_questions_and_options_in_words(world: World,
                                                                client: TestClient) -> None:
    choice_survey(world)
    sign_in(client, "admin@t.test", PASSWORD)
    listed = client.get("/responses?survey=visit&lang=zh-CN").text
    public_id = re.search(r'href="/responses/([A-Za-z0-9_-]+)"', rows_of(listed)).group(1)
    page = client.get(f"/responses/{public_id}?lang=zh-CN").text
    answers = page.split('id="response-answers"')[1].split("</table>")[0]
    for words in ("推荐", "主要原因", "等待时间", "用过的服务", "洗车、咖啡", "还会再来吗", "是"):
        assert f">{words}<" in answers, words
    assert ">wait<" not in answers and ">why<" not in answers and "n2单位" in page
    english = client.get(f"/responses/{public_id}?lang=en").text
    assert ">Waiting time<" in english and ">Car wash, Café<" in english


def test_responses_flagged_as_ballot_stuffing_are_left_out_as_the_dashboards_leave_them_out(
        world: World, client: TestClient) -> None:
    with world.ctx.db.write() as conn:
        conn.execute(sa.update(t.response).where(t.response.c.public_id
                                                 == world.response_ids[3])
                     .values(status="flagged", flag_reasons="burst"))
    sign_in(client, "admin@t.test", PASSWORD)
    assert shown(client.get("/responses").text) == set(range(len(RESPONSES))) - {3}
    wide = csv_table(client.get("/responses.csv").content)
    assert world.response_ids[3] not in {r[0] for r in wide[1:]} and len(wide) == len(RESPONSES)
