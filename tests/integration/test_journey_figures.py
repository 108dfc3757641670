"""The journey's step figures counted by respondent, recomputed from the raw answers with pandas
(SQLite and PostgreSQL): a step's n is its respondents, its share is of its answers, its 95%
interval is cluster-robust by respondent (computed here from each answer's residual); the
overall items (NPS, overall satisfaction) are shown apart, not under the step the survey was
sent after."""

from __future__ import annotations

import datetime as dt
import math
import random

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.snapshots import world_with
from tiyan.analytics import dashboard as d
from tiyan.analytics import journey_view as jv
from tiyan.analytics.cube import Filters
from tiyan.domain.surveys import parse_definition
from tiyan.services.jobs import run_until_idle
from tiyan.services.responses import ResponseRequest, do_submit_response
from tiyan.store import surveys
from tiyan.store import tables as t

STEPS = (("reception", None), ("delivery", None), ("handover", "delivery"), ("follow_up", None))
QUESTIONS = (  # key, item code, step (None: the overall items)
    ("wait", "sat_wait", "reception"), ("explain", "sat_explain", "reception"),
    ("clean", "sat_clean", "delivery"), ("keys", "sat_keys", "handover"),
    ("call", "sat_call", "follow_up"), ("overall", "csat", None))
YEAR = Filters(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def csat(key: str, item: str, step: str | None) -> dict[str, object]:
    question: dict[str, object] = {"key": key, "type": "csat", "item_code": item,
                                   "text": {"zh-CN": key, "en": key}}
    return {**question, "touchpoint": step} if step else question


def with_journey_survey(world):  # type: ignore[no-untyped-def]
    ctx = world.ctx
    with ctx.db.write() as conn:
        journey = conn.execute(sa.insert(t.journey).values(
            code="service", name_zh="售后", name_en="Service", created_at=ctx.now())
        ).inserted_primary_key[0]
        ids: dict[str, int] = {}
        for position, (code, parent) in enumerate(STEPS):
            ids[code] = conn.execute(sa.insert(t.touchpoint).values(
                journey_id=journey, parent_id=ids.get(parent or ""), code=code, name_zh=code,
                name_en=code, position=position)).inserted_primary_key[0]
        definition = parse_definition({"title": {"zh-CN": "售后", "en": "Service"}, "questions": [
            {"key": "nps", "type": "nps", "item_code": "nps", "required": True,
             "text": {"zh-CN": "推荐", "en": "Recommend"}},
            *(csat(*q) for q in QUESTIONS)]})
        survey_id, _ = surveys.insert_survey(
            conn, code="service", name="Service", unit_id=world.unit_ids["hq"],
            definition=definition, now=ctx.now(), created_by=None,
            touchpoint_id=ids["follow_up"])
    rng = random.Random(5)
    admin = world.actor("admin@t.test")
    for index in range(48):  # each respondent has a level of their own: answers cluster
        level = rng.choice((2, 3, 4, 5))
        answers: dict[str, object] = {"nps": min(10, max(0, 2 * level + rng.randint(-1, 1)))}
        for key, _, _ in QUESTIONS:
            if rng.random() < 0.85:
                answers[key] = min(5, max(1, level + rng.choice((-1, 0, 0, 0, 1))))
        do_submit_response(ctx, admin, ResponseRequest(
            survey_id=survey_id, unit_code=("n1", "n2", "s1")[index % 3], answers=answers,
            touchpoint_id=ids["follow_up"],
            submitted_at=ctx.now() - dt.timedelta(hours=7 * index + 1)))
    run_until_idle(ctx)
    world.journey_id = journey  # type: ignore[attr-defined]


@pytest.fixture
def served(ctx):  # type: ignore[no-untyped-def]
    return world_with(ctx, with_journey_survey)


def raw_answers(conn) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    r, a, s = t.response, t.answer, t.survey
    rows = conn.execute(sa.select(r.c.id, a.c.question_key, a.c.value_num)
                        .join(a, a.c.response_id == r.c.id).join(s, s.c.id == r.c.survey_id)
                        .where(s.c.code == "service", a.c.value_num.is_not(None))).all()
    return pd.DataFrame(rows, columns=["respondent", "question", "value"])


def clustered(frame: pd.DataFrame) -> tuple[float, float, int, int]:
    """Share of top-box answers (4-5), its cluster-robust standard error from each answer's
    residual summed within the respondent, the respondents and the answers."""
    top = (frame["value"] >= 4).astype(float)
    p = top.mean()
    residual = (top - p).groupby(frame["respondent"]).sum()
    g, n = len(residual), len(frame)
    return 100 * p, 100 * math.sqrt(g / (g - 1) * (residual ** 2).sum()) / n, g, n


def test_steps_count_respondents_with_cluster_robust_intervals(served):
    admin = served.actor("admin@t.test")
    with served.ctx.db.read() as conn:
        view = jv.journey_view(conn, d.dashboard_scope(conn, admin), YEAR, served.journey_id,
                               min_n=5)
        frame = raw_answers(conn)
    assert view is not None
    step_of = {key: step for key, _, step in QUESTIONS}
    frame["step"] = frame["question"].map(step_of)
    frame["top_step"] = frame["step"].replace({"handover": "delivery"})
    steps = {s.code: s for s in view.steps}
    for code, column in (("reception", "step"), ("delivery", "top_step"),
                         ("handover", "step"), ("follow_up", "step")):
        share, se, respondents, answers = clustered(frame[frame[column] == code])
        got = steps[code].score
        assert (got.n, steps[code].answers) == (respondents, answers), code
        assert got.value == pytest.approx(share) and got.standard_error == pytest.approx(se)
        assert (got.low, got.high) == pytest.approx((share - 1.96 * se, share + 1.96 * se))
    # several answers per respondent: wider than an interval that counts answers
    reception = frame[frame["step"] == "reception"]
    p = (reception["value"] >= 4).mean()
    naive = 100 * math.sqrt(p * (1 - p) / len(reception))
    assert steps["reception"].score.standard_error > naive
    # the overall satisfaction item is not under follow-up, where the survey was sent
    assert steps["follow_up"].answers == int((frame["question"] == "call").sum())
    overall = frame[frame["question"] == "overall"]
    nps = frame[frame["question"] == "nps"]["value"]
    assert view.overall_items["csat_top2"].value == pytest.approx(
        100 * (overall["value"] >= 4).mean())
    assert view.overall_items["nps"].value == pytest.approx(
        100 * ((nps >= 9).mean() - (nps <= 6).mean()))
    assert view.overall_items["nps"].n == len(nps)
    every = clustered(frame[frame["step"].notna()])
    assert (view.overall.value, view.overall.n) == (pytest.approx(every[0]), every[2])


def test_the_page_shows_the_overall_items_apart_and_the_method(served, client):
    from tests.integration.conftest import sign_in
    from tests.world import PASSWORD

    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/dashboard/journey?journey=service&from=2026-01-01&to=2026-12-31"
                      "&lang=en").text
    assert 'data-overall="nps"' in page and 'data-overall="csat_top2"' in page
    assert "cluster-robust interval" in page and "<th>Respondents</th>" in page
    export = client.get("/dashboard/journey/export.csv?journey=service&from=2026-01-01"
                        "&to=2026-12-31&lang=en").content.decode("utf-8-sig").splitlines()
    assert export[0].startswith("Step,Respondents,Answers,Step score (top box %),95% CI low,"
                                "95% CI high")
    assert export[-2].startswith('"Overall, not a step: NPS",48,48,')
    zh = client.get("/dashboard/journey?journey=service&from=2026-01-01&to=2026-12-31"
                    "&lang=zh-CN").text
    assert "受访者" in zh and "按受访者聚类的稳健区间" in zh


def test_a_repeat_view_is_kept_until_a_new_response_changes_the_figures(served):
    """The answer-reading part of the view is kept per process under a stamp of the data: a
    repeat view gives the same figures, and a new response is counted at once."""
    admin = served.actor("admin@t.test")

    def view() -> jv.Journey:
        with served.ctx.db.read() as conn:
            got = jv.journey_view(conn, d.dashboard_scope(conn, admin), YEAR,
                                  served.journey_id, min_n=5)
        assert got is not None
        return got

    first = view()
    assert view() == first
    with served.ctx.db.read() as conn:
        survey_id = conn.execute(sa.select(t.survey.c.id).where(t.survey.c.code == "service")
                                 ).scalar_one()
        follow_up = conn.execute(sa.select(t.touchpoint.c.id).where(
            t.touchpoint.c.code == "follow_up")).scalar_one()
    do_submit_response(served.ctx, admin, ResponseRequest(
        survey_id=survey_id, unit_code="n1", touchpoint_id=follow_up,
        answers={"nps": 10, "wait": 5, "explain": 5, "call": 1, "overall": 5},
        submitted_at=served.ctx.now() - dt.timedelta(hours=2)))
    run_until_idle(served.ctx)
    after = view()
    with served.ctx.db.read() as conn:
        frame = raw_answers(conn)
    frame["step"] = frame["question"].map({key: step for key, _, step in QUESTIONS})
    steps = {s.code: s for s in after.steps}
    for code in ("reception", "follow_up"):
        share, se, respondents, answers = clustered(frame[frame["step"] == code])
        assert (steps[code].score.n, steps[code].answers) == (respondents, answers), code
        assert steps[code].score.value == pytest.approx(share)
        assert steps[code].score.standard_error == pytest.approx(se)
    assert steps["reception"].score.n == {s.code: s for s in first.steps}["reception"].score.n + 1
    nps = frame[frame["question"] == "nps"]["value"]
    assert after.overall_items["nps"].n == len(nps) == first.overall_items["nps"].n + 1
