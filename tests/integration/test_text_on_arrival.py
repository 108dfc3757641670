"""Every comment is analysed in the background after it arrives, and `reanalyze` redoes them all."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.world import build_world
from tiyan.services import jobs
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.services.text_analysis import model_version, reanalyze
from tiyan.store import tables as t
from tiyan.store import text_analysis as store


def _set_industry(ctx, unit_code: str, industry: str) -> None:
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == unit_code)
                     .values(attributes={"industry": industry}))


def _submit(world, unit: str, comment: str, nps: int = 3) -> int:
    stored = do_submit_response(world.ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code=unit, answers={"nps": nps, "comment": comment}))
    with world.ctx.db.read() as conn:
        return int(conn.execute(sa.select(t.response.c.id)
                                .where(t.response.c.public_id == stored.public_id)).scalar_one())


def _analysis(ctx, response_id: int):
    with ctx.db.read() as conn:
        row = conn.execute(sa.select(t.text_analysis)
                           .where(t.text_analysis.c.response_id == response_id)).one()
        aspects = conn.execute(sa.select(t.text_aspect)
                               .where(t.text_aspect.c.response_id == response_id)).all()
    return row, aspects


def _counts(ctx) -> tuple[int, int]:
    with ctx.db.read() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(t.text_analysis)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(t.text_aspect)).scalar_one())


def test_a_chinese_comment_is_analysed_after_submission_with_its_phone_number_masked(ctx):
    world = build_world(ctx)
    _set_industry(ctx, "north", "car_aftersales")
    comment = "服务顾问态度很差，等了三个小时才修好，有事打我电话13812345678"
    response_id = _submit(world, "n1-as", comment)
    with ctx.db.read() as conn:  # nothing is analysed while the respondent waits
        assert conn.execute(sa.select(t.text_analysis.c.id).where(
            t.text_analysis.c.response_id == response_id)).first() is None
    jobs.run_until_idle(ctx)
    row, aspects = _analysis(ctx, response_id)
    assert row.question_key == "comment" and row.language == "zh"
    assert row.sentiment_label == "negative" and -1 <= row.sentiment_score < 0
    assert "13812345678" not in row.redacted_text and "[手机号]" in row.redacted_text
    assert row.model_version == model_version("car_aftersales")
    by_code = {a.aspect_code: a for a in aspects}
    assert by_code["advisor_attitude"].label == "negative"
    assert "服务顾问态度很差" in by_code["advisor_attitude"].evidence


def test_an_english_comment_gets_english_sentiment_and_the_unit_industry_taxonomy(ctx):
    world = build_world(ctx)
    _set_industry(ctx, "south", "hotel")
    bad = _submit(world, "s1", "The staff were rude and the room was dirty.")
    good = _submit(world, "s1", "The front desk staff were lovely and the room was spotless!", 10)
    jobs.run_until_idle(ctx)
    bad_row, bad_aspects = _analysis(ctx, bad)
    good_row, _ = _analysis(ctx, good)
    assert (bad_row.language, bad_row.sentiment_label) == ("en", "negative")
    assert (good_row.language, good_row.sentiment_label) == ("en", "positive")
    assert {"room", "cleanliness"} <= {a.aspect_code for a in bad_aspects}
    assert bad_row.model_version.endswith(":hotel")


def test_a_unit_without_an_industry_uses_the_configured_default(ctx):
    world = build_world(ctx)
    response_id = _submit(world, "n2", "前台接待很热情，就是价格有点贵")
    jobs.run_until_idle(ctx)
    row, aspects = _analysis(ctx, response_id)
    assert row.model_version.endswith(":none") and aspects == []
    ctx.settings.text_industry = "retail"
    reanalyze(ctx)
    row, aspects = _analysis(ctx, response_id)
    assert row.model_version.endswith(":retail") and "price" in {a.aspect_code for a in aspects}


def test_reanalysis_resumes_after_an_interruption_and_replaces_results(ctx):
    world = build_world(ctx)
    _set_industry(ctx, "hq", "car_aftersales")
    for i in range(6):
        _submit(world, "n1", f"第{i}次来，服务顾问很耐心，但是等待时间太长了")
    jobs.run_until_idle(ctx)
    before = _counts(ctx)
    with ctx.db.read() as conn:
        with_text = store.count_responses_with_text(conn)
    assert before[0] == with_text == 13 and before[1] > 0  # 7 world comments + 6 new ones

    first = reanalyze(ctx, batch_size=4, stop_after_batches=2)  # interrupted after 8
    assert first.responses == 8
    with ctx.db.read() as conn:
        saved = store.checkpoint(conn)
    assert saved is not None and saved["since"] is None

    rest = reanalyze(ctx, batch_size=4)
    assert rest.resumed_after == saved["after_id"] and rest.responses == 5
    assert rest.texts == 5 and rest.texts_per_second > 0
    with ctx.db.read() as conn:
        assert store.checkpoint(conn) is None  # finished: the next run starts from the top
    assert _counts(ctx) == before
    assert reanalyze(ctx, batch_size=100).responses == 13
    assert _counts(ctx) == before


def test_reanalysis_since_a_date_leaves_older_texts_alone(ctx):
    world = build_world(ctx)  # its responses were submitted 1 to 7 hours before now
    ctx.clock.advance(days=2)
    recent = _submit(world, "n1", "洗车很干净")
    jobs.run_until_idle(ctx)
    with ctx.db.read() as conn:
        old_stamp = conn.execute(sa.select(sa.func.min(t.text_analysis.c.analyzed_at))).scalar()
    ctx.clock.advance(hours=1)
    report = reanalyze(ctx, since=ctx.now() - dt.timedelta(days=1))
    assert report.responses == 1
    with ctx.db.read() as conn:
        stamps = dict(conn.execute(sa.select(t.text_analysis.c.response_id,
                                             t.text_analysis.c.analyzed_at)).all())
    assert stamps[recent] == ctx.now()
    assert sorted(v for k, v in stamps.items() if k != recent)[0] == old_stamp


def test_the_reanalyze_command_reports_throughput_and_names_a_bad_date(ctx):
    from tests.demo_db import run_tiyan

    build_world(ctx)
    jobs.run_until_idle(ctx)
    before = _counts(ctx)
    done = run_tiyan("text", "reanalyze", "--db", ctx.db.url, "--batch-size", "3")
    assert done.returncode == 0, done.stderr
    assert "re-analysed 7 texts of 7 records" in done.stdout and "texts/s" in done.stdout
    assert _counts(ctx) == before
    bad = run_tiyan("text", "reanalyze", "--db", ctx.db.url, "--since", "last tuesday")
    assert bad.returncode == 1 and "--since" in bad.stderr


def test_the_api_shows_a_response_with_its_text_analysis_once_it_is_done(ctx, client):
    world = build_world(ctx)
    _set_industry(ctx, "hq", "car_aftersales")
    stored = do_submit_response(ctx, world.actor("admin@t.test"), ResponseRequest(
        survey_id=world.survey_id, unit_code="n2",
        answers={"nps": 2, "comment": "服务顾问态度很差，联系我13812345678"}))
    headers = {"Authorization": f"Bearer {world.tokens['analyst.south@t.test']}"}
    headers_north = {"Authorization": f"Bearer {world.tokens['cx@t.test']}"}
    url = f"/api/v1/responses/{stored.public_id}"
    assert client.get(url, headers=headers_north).json()["text_analysis"] == []  # not yet
    jobs.run_until_idle(ctx)
    [found] = client.get(url, headers=headers_north).json()["text_analysis"]
    assert found["question_key"] == "comment" and found["sentiment_label"] == "negative"
    assert "13812345678" not in found["redacted_text"]
    assert "advisor_attitude" in {a["aspect"] for a in found["aspects"]}
    listed = client.get("/api/v1/responses?unit=n2&limit=1", headers=headers_north).json()
    assert listed["items"][0]["text_analysis"] == [found]
    assert client.get(url, headers=headers).status_code == 404  # scope still applies
