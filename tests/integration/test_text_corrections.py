"""People's corrections of the text analysis, through the API and the pages, on SQLite and
PostgreSQL: they change what is stored (and the aggregates), survive re-analysis, are scoped and
audited, go with an erased comment; an adaptation fitted on them is stored, used and rolled back."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from tests.integration.conftest import sign_in
from tests.integration.test_text_insights import COMMENTS, with_comments
from tests.snapshots import world_with
from tests.world import PASSWORD
from tiyan.domain.text_corrections import TextCorrection
from tiyan.services import text_corrections
from tiyan.services.text_analysis import reanalyze
from tiyan.store import tables as t

PRICE = 4  # "价格太贵，收费不透明，态度恶劣" at s1, in the south analyst's scope
GOOD = 5  # "洗车洗得很干净，服务很好" at s1


@pytest.fixture
def texts(ctx):
    return world_with(ctx, with_comments)


def stored(ctx, public_id: str) -> tuple[str, float, dict[str, str]]:
    """(sentiment label, score, {aspect: label}) of the response's comment, from the tables."""
    r, ta, x = t.response, t.text_analysis, t.text_aspect
    with ctx.db.read() as conn:
        row = conn.execute(sa.select(ta.c.id, ta.c.sentiment_label, ta.c.sentiment_score)
                           .join(r, r.c.id == ta.c.response_id)
                           .where(r.c.public_id == public_id)).one()
        aspects = dict(conn.execute(sa.select(x.c.aspect_code, x.c.label)
                                    .where(x.c.analysis_id == row.id)).all())
    return row.sentiment_label, row.sentiment_score, aspects


def correct(client, texts, index: int, email: str, **body):
    return client.post(f"/api/v1/responses/{texts.comment_ids[index]}/text-corrections",
                       json={"question_key": "comment", **body},
                       headers={"Authorization": f"Bearer {texts.tokens[email]}"})


def test_a_sentiment_correction_is_stored_and_survives_reanalysis(ctx, client, texts):
    label, _, _ = stored(ctx, texts.comment_ids[GOOD])
    assert label == "positive"
    reply = correct(client, texts, GOOD, "analyst.south@t.test", label="negative")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body[0]["sentiment_label"] == "negative"
    assert body[0]["corrections"][0]["model_label"] == "positive"
    label, score, _ = stored(ctx, texts.comment_ids[GOOD])
    assert (label, score) == ("negative", -0.5)  # a corrected label carries at least ±0.5
    reanalyze(ctx, restart=True)
    assert stored(ctx, texts.comment_ids[GOOD])[0] == "negative"
    # the text aggregates moved with it: the negative comments of s1 counted from raw rows
    with ctx.db.read() as conn:
        negatives = conn.execute(
            sa.select(sa.func.count()).select_from(t.text_analysis)
            .join(t.response, t.response.c.id == t.text_analysis.c.response_id)
            .where(t.response.c.unit_id == texts.unit_ids["s1"],
                   t.text_analysis.c.sentiment_label == "negative")).scalar_one()
    assert negatives == sum(1 for c in COMMENTS if c[0] == "s1")


def test_aspect_corrections_change_remove_and_add(ctx, client, texts):
    _, _, aspects = stored(ctx, texts.comment_ids[PRICE])
    assert "price" in aspects
    assert correct(client, texts, PRICE, "cx@t.test", aspect="price", label="positive"
                   ).status_code == 404  # s1 is outside the north CX manager's scope
    reply = correct(client, texts, PRICE, "analyst.south@t.test", aspect="price", label=None)
    assert reply.status_code == 200, reply.text
    missing = next(code for code in text_corrections.aspect_names("car_aftersales")
                   if code not in aspects)
    reply = correct(client, texts, PRICE, "analyst.south@t.test", aspect=missing,
                    label="negative", evidence="态度恶劣")
    assert reply.status_code == 200, reply.text
    after = stored(ctx, texts.comment_ids[PRICE])[2]
    assert "price" not in after and after[missing] == "negative"
    reanalyze(ctx, restart=True)
    assert stored(ctx, texts.comment_ids[PRICE])[2] == after
    # taking the removal back brings the models' reading of the price back
    reply = client.delete(f"/api/v1/responses/{texts.comment_ids[PRICE]}/text-corrections",
                          params={"question_key": "comment", "aspect": "price"},
                          headers={"Authorization":
                                   f"Bearer {texts.tokens['analyst.south@t.test']}"})
    assert reply.status_code == 204
    assert stored(ctx, texts.comment_ids[PRICE])[2]["price"] == aspects["price"]
    with ctx.db.read() as conn:
        actions = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.detail)
                               .where(t.audit_log.c.action.like("text.correct%"))
                               .order_by(t.audit_log.c.id)).all()
    assert [a for a, _ in actions] == ["text.correct", "text.correct", "text.correct.withdraw"]
    assert actions[0][1] == {"question": "comment", "aspect": "price", "from": aspects["price"],
                             "to": None}


@pytest.mark.parametrize(("body", "where"), [
    ({"label": "great"}, "label"),
    ({"aspect": "no-such-aspect", "label": "positive"}, "aspect"),
    ({"aspect": "price", "label": "negative", "evidence": "not in the comment"}, "evidence"),
    ({"label": None}, "label"),
])
def test_a_wrong_correction_says_what_is_wrong(ctx, client, texts, body, where):
    reply = correct(client, texts, PRICE, "admin@t.test", **body)
    assert reply.status_code == 422, reply.text
    assert where in reply.text


@pytest.mark.parametrize("email", ["mgr.s1@t.test", "viewer@t.test"])
def test_roles_without_the_right_may_not_correct(ctx, client, texts, email):
    reply = correct(client, texts, PRICE, email, label="positive")
    assert reply.status_code in (403, 404)
    assert stored(ctx, texts.comment_ids[PRICE])[0] == "negative"


def test_a_question_without_analysed_text_is_not_found(ctx, client, texts):
    reply = client.post(f"/api/v1/responses/{texts.comment_ids[PRICE]}/text-corrections",
                        json={"question_key": "nps", "label": "positive"},
                        headers={"Authorization": f"Bearer {texts.tokens['admin@t.test']}"})
    assert reply.status_code == 404


def test_removing_a_comment_removes_its_corrections(ctx, client, texts):
    from tiyan.store.erasure import remove_comments

    assert correct(client, texts, GOOD, "admin@t.test", label="neutral").status_code == 200
    with ctx.db.write() as conn:
        response_id = conn.execute(sa.select(t.response.c.id).where(
            t.response.c.public_id == texts.comment_ids[GOOD])).scalar_one()
        remove_comments(conn, [response_id], ctx.now())
    with ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.text_correction)
                            ).scalar_one() == 0


def test_an_adaptation_is_fitted_used_and_rolled_back(ctx, client, texts):
    admin = texts.actor("admin@t.test")
    for index in range(len(COMMENTS)):
        text_corrections.do_correct_text(ctx, admin, texts.comment_ids[index],
                                         TextCorrection("comment", None, "negative"))
    report = text_corrections.do_adapt(ctx, admin)
    assert report.corrections == len(COMMENTS)
    assert report.summary["sentiment"]["zh"]["examples"] == len(COMMENTS)
    with ctx.db.read() as conn:
        versions = set(conn.execute(sa.select(t.text_analysis.c.model_version)).scalars())
        assert all(v.endswith(f"+a{report.adaptation_id}") for v in versions)
        assert text_corrections.active_adaptation(conn)[0] == report.adaptation_id
    headers = {"Authorization": f"Bearer {texts.tokens['admin@t.test']}"}
    listed = client.get("/api/v1/text/adaptations", headers=headers).json()
    assert listed["active_id"] == report.adaptation_id and listed["corrections"] == len(COMMENTS)
    assert text_corrections.do_rollback(ctx, admin) is None
    with ctx.db.read() as conn:
        versions = set(conn.execute(sa.select(t.text_analysis.c.model_version)).scalars())
    assert not any("+a" in v for v in versions)
    # corrections still hold without the adaptation
    assert stored(ctx, texts.comment_ids[GOOD])[0] == "negative"
    cx = {"Authorization": f"Bearer {texts.tokens['cx@t.test']}"}
    assert client.post("/api/v1/text/adaptations", headers=cx).status_code == 403


def test_the_pages_correct_and_show_the_correction(ctx, client, texts):
    sign_in(client, "analyst.south@t.test", PASSWORD)
    page = client.get(f"/responses/{texts.comment_ids[GOOD]}?lang=en")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    reply = client.post(f"/responses/{texts.comment_ids[GOOD]}/corrections",
                        data={"csrf_token": token, "question_key": "comment",
                              "label": "neutral", "action": "save"}, follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"].endswith("#text-comment")
    page = client.get(f"/responses/{texts.comment_ids[GOOD]}?lang=en")
    assert "Corrected" in page.text and "The analysis said: Positive" in page.text
    # a wrong value is shown on the page, not stored
    reply = client.post(f"/responses/{texts.comment_ids[GOOD]}/corrections",
                        data={"csrf_token": token, "question_key": "comment",
                              "label": "absent", "action": "save"})
    assert reply.status_code == 422 and "only an aspect" in reply.text
    # without the CSRF token nothing happens
    reply = client.post(f"/responses/{texts.comment_ids[GOOD]}/corrections",
                        data={"question_key": "comment", "label": "positive"})
    assert reply.status_code == 403
    assert stored(ctx, texts.comment_ids[GOOD])[0] == "neutral"
    # a "back" address of another site is not followed
    reply = client.post(f"/responses/{texts.comment_ids[GOOD]}/corrections",
                        data={"csrf_token": token, "question_key": "comment", "label": "positive",
                              "back": "//evil.example/dashboard/text"}, follow_redirects=False)
    assert reply.headers["location"].startswith(f"/responses/{texts.comment_ids[GOOD]}")


def test_the_administrators_button_adapts_in_the_background(ctx, client, texts):
    from tiyan.services.jobs import run_until_idle

    admin = texts.actor("admin@t.test")
    text_corrections.do_correct_text(ctx, admin, texts.comment_ids[GOOD],
                                     TextCorrection("comment", None, "negative"))
    sign_in(client, "admin@t.test", PASSWORD)
    page = client.get("/text/adaptation?lang=en")
    assert "Adapt to 1 corrections" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    reply = client.post("/text/adaptation", data={"csrf_token": token, "action": "adapt"})
    assert reply.status_code == 200 and 'id="adapt-queued"' in reply.text
    run_until_idle(ctx)
    page = client.get("/text/adaptation?lang=en")
    with ctx.db.read() as conn:
        active = text_corrections.active_adaptation(conn)[0]
    assert active is not None and f"Adaptation {active} is in use." in page.text
    client.post("/text/adaptation", data={"csrf_token": token, "action": "rollback"})
    run_until_idle(ctx)
    with ctx.db.read() as conn:
        assert text_corrections.active_adaptation(conn)[0] is None
    sign_in(client, "cx@t.test", PASSWORD)
    assert client.get("/text/adaptation").status_code == 403


def test_the_page_says_when_an_adaptation_kept_the_shipped_readings(ctx, client, texts):
    """A layer whose cross-validation showed no clear gain changes nothing: the history says so,
    in the viewer's language, instead of only counting the corrections."""
    from tiyan.text.adaptation import Adaptation, ResidualLayer

    nothing = ResidualLayer(np.zeros(0, dtype=np.int64), np.zeros(0), 0.0, None, 40)
    adaptation = Adaptation({"zh": nothing})
    with ctx.db.write() as conn:
        conn.execute(t.text_adaptation.insert().values(
            created_at=ctx.now(), corrections=40, model=adaptation.to_bytes(),
            summary=adaptation.summary()))
    sign_in(client, "admin@t.test", PASSWORD)
    for lang, words in (("en", "the shipped readings are kept"), ("zh-CN", "沿用原模型的判断")):
        page = client.get(f"/text/adaptation?lang={lang}").text
        assert words in page and 'data-kept="sentiment"' in page
        assert 'data-kept="aspects"' not in page
