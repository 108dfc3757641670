"""The VOC review: themes of dissatisfied feedback ranked by NPS points lost with quotes, new
themes against the previous period, case root causes, SLA and recovery; Excel and PDF exports;
the monthly e-mail to a real SMTP server (aiosmtpd), sent once per month."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.closed_loop_fixtures import Mailbox, smtp
from tests.integration.conftest import sign_in
from tests.integration.test_closed_loop import add_detractor_rule, cases_by_unit, submit, use_smtp
from tests.world import PASSWORD, World
from tiyan.context import Context
from tiyan.services import jobs
from tiyan.services import voc_reports as reports
from tiyan.services.cases import do_set_root_cause
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import tables as t

__all__ = ["smtp"]
WAIT = "等了很久，排队两个小时"
PRICE = "价格太贵了，收费不透明"


def feedback(ctx: Context, world: World) -> None:
    ctx.settings = ctx.settings.model_copy(update={"text_industry": "car_aftersales"})
    for nps, comment in ((2, WAIT), (3, WAIT), (5, WAIT + "！"), (6, PRICE), (10, "很好"),
                         (9, "很好"), (10, "满意"), (8, "还行")):
        submit(ctx, world, "s1", "s1-e1", nps, comment)
    jobs.run_until_idle(ctx)


def period(ctx: Context) -> tuple[dt.datetime, dt.datetime]:
    return ctx.now() - dt.timedelta(days=1), ctx.now() + dt.timedelta(days=1)


def test_themes_are_ranked_by_nps_points_lost_with_quotes_and_new_themes(
        ctx: Context, world: World) -> None:
    add_detractor_rule(ctx, world, kind="case")
    feedback(ctx, world)
    manager = world.actor("mgr.s1@t.test")
    case = cases_by_unit(ctx, world)["s1"].public_id
    do_set_root_cause(ctx, manager, case, "wait_time")
    review = reports.build_review(ctx, world.actor("admin@t.test"), *period(ctx), "south")
    codes = [a.code for a in review.aspects]
    assert codes[0] == "waiting" and "price" in codes
    waiting = review.aspects[0]
    assert waiting.mentions == 3 and waiting.quotes == (WAIT, WAIT + "！")  # lowest first
    assert waiting.points_lost > review.aspects[1].points_lost > 0
    assert waiting.trend == "new"  # nothing the day before
    assert [c.code for c in review.causes] == ["wait_time"]
    assert review.cases_opened >= 4 and review.sla.due == 0
    # a store manager of another region sees none of it
    other = reports.build_review(ctx, world.actor("mgr.n1@t.test"), *period(ctx), None)
    assert other.aspects == [] and other.cases_opened == 1  # only n1-as's own case


def test_page_and_exports_in_both_languages(ctx: Context, world: World,
                                            client: TestClient) -> None:
    feedback(ctx, world)
    sign_in(client, "admin@t.test", PASSWORD)
    day = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    query = f"start={day}&end={day}&unit=south"
    zh = client.get(f"/voc?{query}")
    assert zh.status_code == 200 and "等待时间" in zh.text and "新出现" in zh.text
    assert 'id="impact-chart"' in zh.text
    en = client.get(f"/voc?{query}&lang=en").text
    assert "Waiting time" in en and "NPS points lost" in en
    excel = client.get(f"/voc.xlsx?{query}")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(excel.content))
    rows = list(book.worksheets[1].iter_rows(values_only=True))
    assert rows[1][1] == "waiting" and rows[1][2] == 3
    pdf = client.get(f"/voc.pdf?{query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"NotoSansCJK" in pdf.content  # the CJK font is embedded
    bad = client.get("/voc?start=2026-13-01&end=2026-12-01")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    backwards = client.get("/voc?start=2026-12-01&end=2026-11-01")
    assert backwards.status_code == 422 and "ends before it starts" in backwards.text


def test_exports_name_the_item_by_its_question_and_the_unit_by_its_name(
        ctx: Context, world: World, client: TestClient) -> None:
    """The people's columns speak words in the exporter's language (the question text, the
    unit's name); the codes stay, each in its own row, for machines."""
    from openpyxl import load_workbook

    feedback(ctx, world)
    sign_in(client, "admin@t.test", PASSWORD)
    day = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    query = f"start={day}&end={day}&unit=south&kpi=item:csat"
    for lang, label, unit, codes in (("zh-CN", "满意 均值", "south单位", ("单元代码", "指标代码")),
                                     ("en", "mean Satisfied", "Unit south",
                                      ("Unit code", "KPI code"))):
        excel = client.get(f"/voc.xlsx?{query}&lang={lang}")
        book = load_workbook(io.BytesIO(excel.content))
        summary = {r[0]: r[1] for r in book.worksheets[0].iter_rows(values_only=True)}
        assert summary[unit_word(lang)] == unit
        assert any(str(k).startswith(label) for k in summary), summary
        assert summary[codes[0]] == "south" and summary[codes[1]] == "item:csat"
        head = next(book.worksheets[1].iter_rows(values_only=True))
        assert head[4] == label
        cells = " ".join(str(v) for sheet in book.worksheets
                         for row in sheet.iter_rows(values_only=True) for v in row if v)
        assert "csat 均值" not in cells and "mean csat" not in cells
        pdf = client.get(f"/voc.pdf?{query}&lang={lang}")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def unit_word(lang: str) -> str:
    return "单元" if lang == "zh-CN" else "Unit"


def test_monthly_review_is_mailed_once_as_pdf(ctx: Context, world: World,
                                              smtp: Mailbox) -> None:
    use_smtp(ctx, smtp.port)
    feedback(ctx, world)
    admin = world.actor("admin@t.test")
    reports.do_subscribe(ctx, admin, unit_code="south", locale="en")
    reports.do_subscribe(ctx, world.actor("mgr.s1@t.test"), unit_code=None, locale="zh-CN")
    with ctx.db.read() as conn:  # a second subscriber does not schedule a second mailing
        assert conn.execute(sa.select(sa.func.count()).select_from(t.job).where(
            t.job.c.kind == reports.MONTHLY, t.job.c.status == "queued")).scalar_one() == 1
    due = reports.next_send_time(ctx.now())
    ctx.clock.advance(seconds=(due - ctx.now()).total_seconds() + 1)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    mails = {m["To"]: m for m in smtp.messages}
    assert set(mails) == {"admin@t.test", "mgr.s1@t.test"}
    assert "VOC review" in str(mails["admin@t.test"]["Subject"])
    assert "Unit south" in str(mails["admin@t.test"]["Subject"])  # the unit's name, not code
    month = dt.date.fromisoformat(reports.last_month(ctx.now()) + "-01")
    en_month = f"{month:%b %Y} (Asia/Shanghai)"  # the reader's words for the month, its zone
    assert en_month in str(mails["admin@t.test"]["Subject"])
    assert en_month in mails["admin@t.test"].get_body().get_content()
    zh_month = f"{month.year}年{month.month}月（Asia/Shanghai）"
    assert zh_month in str(mails["mgr.s1@t.test"]["Subject"])
    parts = [p for p in mails["mgr.s1@t.test"].iter_attachments()]
    assert parts[0].get_content_type() == "application/pdf"
    assert parts[0].get_content().startswith(b"%PDF")
    reports.send_monthly(ctx, reports.last_month(ctx.now()))  # a retry sends nothing twice
    assert len(smtp.messages) == 2


def rated(ctx: Context, world: World, nps: int, csat: int, comment: str) -> None:
    do_submit_response(ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="s1", staff_code="s1-e1",
        answers={"nps": nps, "overall": csat, "comment": comment}, submitted_at=ctx.now()))


def test_days_are_the_units_own_and_the_kpi_is_selectable(ctx: Context, world: World,
                                                          client: TestClient) -> None:
    # themes of two responses: shown only with a minimum n of 1 (the next test keeps 5)
    ctx.settings = ctx.settings.model_copy(update={"text_industry": "car_aftersales",
                                                   "min_n": 1})
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "s1")
                     .values(timezone="America/Los_Angeles"))
    # 2026-11-22 02:00 UTC: the 22nd in Shanghai (the default), still the 21st in Los Angeles
    ctx.clock.advance(hours=40)  # type: ignore[attr-defined]
    # waiting hurts CSAT (1, 2) but not NPS (9, 10); price hurts NPS (0, 1) but not CSAT (5)
    for nps, csat, comment in ((9, 1, WAIT), (10, 2, WAIT + "！"), (0, 5, PRICE),
                               (1, 5, PRICE + "。"), (8, 4, "很好"), (8, 4, "满意")):
        rated(ctx, world, nps, csat, comment)
    jobs.run_until_idle(ctx)
    admin = world.actor("admin@t.test")
    day = dt.date(2026, 11, 21)
    assert reports.review_timezone(ctx, "s1") == "America/Los_Angeles"
    assert reports.review_timezone(ctx, None) == "Asia/Shanghai"
    zone = "America/Los_Angeles"
    local = reports.build_review(ctx, admin, *reports.date_period(day, day, zone), "s1", "nps")
    assert local.responses == 6 and local.timezone == "America/Los_Angeles"
    shanghai = reports.build_review(ctx, admin, *reports.date_period(day, day), None)
    assert shanghai.responses == 0  # the 21st in Shanghai ended before they came

    by_nps = reports.build_review(ctx, admin, *reports.date_period(day, day, zone), "s1")
    by_csat = reports.build_review(ctx, admin, *reports.date_period(day, day, zone), "s1",
                                   "csat")
    assert by_nps.aspects[0].code == "price" and by_csat.aspects[0].code == "waiting"
    waiting = by_csat.aspects[0]
    # CSAT of the waiting responses 1.5, of the others (5, 5, 4, 4) 4.5; share 2/6
    assert waiting.kpi_with == 1.5 and waiting.points_lost == pytest.approx(1.0)
    assert by_csat.score == pytest.approx(21 / 6)
    item = reports.build_review(ctx, admin, *reports.date_period(day, day, zone), "s1",
                                "item:csat")
    assert item.aspects[0].points_lost == pytest.approx(1.0)

    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/voc?start=2026-11-21&end=2026-11-21&unit=s1&kpi=csat&lang=en")
    assert page.status_code == 200 and "America/Los_Angeles" in page.text
    assert "CSAT points lost" in page.text and 'value="csat" selected' in page.text
    rows = page.text.split('id="aspect-rows"')[1]
    assert rows.index("Waiting time") < rows.index("Price")
    default = client.get("/voc?unit=s1").text  # last month there: October in Los Angeles
    assert 'value="2026-10-01"' in default and 'value="2026-10-31"' in default
    bad = client.get("/voc?unit=s1&kpi=ces")
    assert bad.status_code == 422 and "not a KPI" in bad.text
    excel = client.get("/voc.xlsx?start=2026-11-21&end=2026-11-21&unit=s1&kpi=csat")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(excel.content))
    rows_x = list(book.worksheets[1].iter_rows(values_only=True))
    assert rows_x[0][4] == "CSAT" and rows_x[1][1] == "waiting"


def test_api_review_files_and_subscription(ctx: Context, world: World,
                                           client: TestClient) -> None:
    feedback(ctx, world)
    admin = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    day = ctx.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    query = {"start": str(day), "end": str(day), "unit": "south"}
    review = client.get("/api/v1/voc", headers=admin, params=query)
    assert review.status_code == 200, review.text
    body = review.json()
    assert (body["unit"], body["kpi"], body["timezone"]) == ("south", "nps", "Asia/Shanghai")
    assert body["aspects"][0]["code"] == "waiting" and body["aspects"][0]["mentions"] == 3
    assert body["aspects"][0]["quotes"][0] == WAIT and "waiting" in body["new_themes"]
    assert body["responses"] == 10 and set(body["sla"]) == {"due", "on_time", "rate"}
    csat = client.get("/api/v1/voc", headers=admin, params={**query, "kpi": "csat"}).json()
    assert csat["kpi"] == "csat" and csat["score"] is not None
    excel = client.get("/api/v1/voc.xlsx", headers=admin, params={**query, "locale": "en"})
    assert excel.status_code == 200 and excel.content.startswith(b"PK")
    assert "voc-" in excel.headers["content-disposition"]
    pdf = client.get("/api/v1/voc.pdf", headers=admin, params=query)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for params, where in (({**query, "kpi": "ces"}, "kpi"), ({**query, "start": "2026-13-01"},
                                                            "start"),
                          ({"start": "2026-12-01", "end": "2026-11-01"}, "end"),
                          ({**query, "locale": "fr"}, "query.locale")):
        bad = client.get("/api/v1/voc", headers=admin, params=params) if where != \
            "query.locale" else client.get("/api/v1/voc.xlsx", headers=admin, params=params)
        assert bad.status_code == 422 and bad.json()["error"]["where"] == where, params
    # scope: a store manager of the north cannot read the south
    north = {"Authorization": f"Bearer {world.tokens['mgr.n1@t.test']}"}
    assert client.get("/api/v1/voc", headers=north, params=query).status_code == 404

    assert client.get("/api/v1/voc/subscription", headers=admin).json() == {
        "subscribed": False, "email": None, "unit": None, "locale": None, "kpi": None,
        "last_sent": None}
    made = client.put("/api/v1/voc/subscription", headers=admin,
                      json={"unit": "south", "locale": "en", "kpi": "csat"}).json()
    assert made["subscribed"] and (made["unit"], made["kpi"]) == ("south", "csat")
    assert client.put("/api/v1/voc/subscription", headers=north,
                      json={"unit": "south"}).json()["error"]["where"] == "unit"
    assert client.put("/api/v1/voc/subscription", headers=admin,
                      json={"kpi": "item:"}).json()["error"]["where"] == "kpi"
    assert client.delete("/api/v1/voc/subscription", headers=admin).json()["subscribed"] is False
    assert client.get("/api/v1/voc/subscription", headers=admin).json()["subscribed"] is False


def test_previous_period_is_the_calendar_month_before_and_small_n_is_not_a_kpi(
        ctx: Context, world: World, client: TestClient) -> None:
    """November's review compares with October (1-31 October in Shanghai, not the 30 days
    before 1 November), recomputed from the raw answers with pandas; a KPI over fewer scored
    responses than the minimum n (5 in the tests) is not shown, its n is."""
    import pandas as pd

    admin = world.actor("admin@t.test")
    zone = dt.timezone(dt.timedelta(hours=8))
    october = [(dt.datetime(2026, 10, 1, 9, tzinfo=zone), 0),  # only a calendar month has it
               (dt.datetime(2026, 10, 15, 9, tzinfo=zone), 2),
               (dt.datetime(2026, 10, 31, 23, tzinfo=zone), 10)]
    november = [(dt.datetime(2026, 11, day, 9, tzinfo=zone), score)
                for day, score in ((2, 10), (3, 9), (4, 7), (5, 3), (6, 10), (9, 9), (12, 0))]
    for at, score in (*october, *november):
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=world.survey_id, unit_code="s1", staff_code="s1-e1",
            answers={"nps": score}, submitted_at=at.astimezone(dt.UTC)))
    first, last = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    review = reports.build_review(ctx, admin, *reports.date_period(first, last), "s1")
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.response.c.submitted_at, t.answer.c.value_num)
                            .join(t.answer, t.answer.c.response_id == t.response.c.id)
                            .join(t.org_unit, t.org_unit.c.id == t.response.c.unit_id)
                            .where(t.answer.c.item_code == "nps",
                                   t.org_unit.c.code == "s1")).all()
    frame = pd.DataFrame(rows, columns=["at", "score"])
    frame["day"] = pd.to_datetime(frame["at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.date

    def nps(start: dt.date, end: dt.date) -> tuple[float, int]:
        x = frame[(frame["day"] >= start) & (frame["day"] <= end)]["score"]
        return 100 * ((x >= 9).mean() - (x <= 6).mean()), len(x)

    value, n = nps(first, last)
    assert review.before_days() == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert (review.responses, review.score) == (n, pytest.approx(value))
    assert (review.responses_before, review.score_before) == (nps(
        dt.date(2026, 10, 1), dt.date(2026, 10, 31))[1], None)  # 3 answers: no NPS of -33
    assert review.responses_before == 3 and review.min_n == 5
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/voc?start=2026-11-01&end=2026-11-30&unit=s1&lang=en").text
    before = page.split('id="voc-before">')[1].split("</div>")[0]
    assert before == ("Previous period Oct 1, 2026 – Oct 31, 2026: too few responses "
                      "(n = 3, at least 5 needed)")
    zh = client.get("/voc?start=2026-11-01&end=2026-11-30&unit=s1&lang=zh-CN").text
    assert zh.split('id="voc-before">')[1].split("</div>")[0] == \
        "上期 2026年10月1日 至 2026年10月31日: 回复太少（n = 3，至少需要 5）"
