"""Respondent pages on SQLite and PostgreSQL: resume, idempotent submit, logic, bad links."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tiyan.context import Context
from tiyan.domain.surveys import parse_definition
from tiyan.security import new_public_id
from tiyan.services.links import AnonymousTarget, anonymous_url, invitation_url
from tiyan.services.org import do_create_unit
from tiyan.store import tables as t
from tiyan.store.surveys import insert_survey

LOGIC_SURVEY = {
    "title": {"zh-CN": "门店体验", "en": "Store visit"},
    "questions": [
        {"key": "nps", "type": "nps", "text": {"zh-CN": "推荐?", "en": "Recommend us?"},
         "required": True,
         "skip_to": [{"if": [{"question": "nps", "op": ">=", "value": 9}], "page": 3}]},
        {"key": "why", "type": "text", "text": {"zh-CN": "哪里不好?", "en": "What went wrong?"},
         "required": True, "show_if": {"question": "nps", "op": "<=", "value": 6}},
        {"key": "fix", "type": "multi", "page": 2, "allow_other": True,
         "text": {"zh-CN": "您打了 {answer:nps} 分, 改进什么?",
                  "en": "You gave {answer:nps}. Fix?"},
         "options": [{"code": "speed", "text": {"zh-CN": "速度", "en": "Speed"}},
                     {"code": "price", "text": {"zh-CN": "价格", "en": "Price"}}]},
        {"key": "again", "type": "yesno", "page": 3, "text": {"zh-CN": "再来?", "en": "Again?"}},
    ],
}


@pytest.fixture
def setup(ctx: Context) -> dict[str, int]:
    hq = do_create_unit(ctx, None, code="hq", name_zh="总部", name_en="HQ", kind="company",
                        parent_code=None)
    store = do_create_unit(ctx, None, code="sh01", name_zh="上海一店", name_en="Shanghai 1",
                           kind="store", parent_code="hq")
    with ctx.db.write() as conn:
        survey_id, _ = insert_survey(conn, code="visit", name="Visit", unit_id=hq,
                                     definition=parse_definition(LOGIC_SURVEY), now=ctx.now(),
                                     created_by=None)
    return {"hq": hq, "store": store, "survey": survey_id}


def link(ctx: Context, setup: dict[str, int]) -> str:
    url = anonymous_url(ctx, AnonymousTarget(setup["survey"], setup["store"]))
    return "/s/" + url.rsplit("/", 1)[1]


def fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def post(client: TestClient, path: str, page_html: str, answers: dict[str, object],
         **extra: str):  # type: ignore[no-untyped-def]
    data = {**fields(page_html), **extra}
    data.pop("seen", None)
    body = {**data, **{f"a.{k}": v for k, v in answers.items()}}
    return client.post(path, data=body, follow_redirects=True)


def responses(ctx: Context) -> list[sa.RowMapping]:
    with ctx.db.read() as conn:
        return list(conn.execute(sa.select(t.response)).mappings())


def answers_of(ctx: Context, response_id: int) -> dict[str, object]:
    with ctx.db.read() as conn:
        rows = conn.execute(sa.select(t.answer).where(t.answer.c.response_id == response_id))
        return {r.question_key: r.value_num if r.value_num is not None else r.value_text
                for r in rows}


def test_a_respondent_resumes_where_they_left_and_submits_once(ctx, setup, client):
    path = link(ctx, setup)
    first = client.get(path, headers={"accept-language": "en-US,en;q=0.9"})
    assert first.status_code == 200 and "Recommend us?" in first.text
    assert responses(ctx) == []
    second = post(client, path, first.text, {"nps": "4", "why": "太慢了 🐢 too slow"})
    assert "You gave 4. Fix?" in second.text  # piped, and page 2 is next
    # The tab closes; a new visit with the same cookie resumes on page 2.
    resumed = client.get(path, headers={"accept-language": "en"})
    assert "You gave 4. Fix?" in resumed.text and "33% done" in resumed.text
    third = post(client, path, resumed.text, {"fix": ["speed", "other"]},
                 **{"a.fix.other": "停车难"})
    assert "Again?" in third.text
    done = post(client, path, third.text, {"again": "yes"})
    assert done.status_code == 200 and "Thank you" in done.text
    replay = post(client, path, third.text, {"again": "no"})  # double click / replayed POST
    assert replay.status_code == 200 and "Thank you" in replay.text
    stored = responses(ctx)
    assert len(stored) == 1
    row = stored[0]
    assert (row["unit_id"], row["channel"], row["language"]) == (setup["store"], "link", "en")
    assert answers_of(ctx, row["id"]) == {"nps": 4.0, "why": "太慢了 🐢 too slow",
                                          "fix": "停车难", "again": 1.0}


def test_skip_logic_and_hidden_answers_are_dropped_without_javascript(ctx, setup, client):
    path = link(ctx, setup)
    first = client.get(path)
    # A promoter skips page 2; a "why" answer posted while hidden is dropped.
    page3 = post(client, path, first.text, {"nps": "10", "why": "should vanish"})
    assert "再来?" in page3.text
    post(client, path, page3.text, {"again": "no"})
    row = responses(ctx)[0]
    assert answers_of(ctx, row["id"]) == {"nps": 10.0, "again": 0.0}


def test_a_question_revealed_by_an_answer_is_shown_before_moving_on(ctx, setup, client):
    path = link(ctx, setup)
    first = client.get(path)
    assert 'id="q-why" data-key="why" hidden' in first.text
    data = {**fields(first.text), "a.nps": "3"}  # no JavaScript: "why" was never seen
    again = client.post(path, data=data)
    assert again.status_code == 422
    assert 'id="q-why" data-key="why" hidden' not in again.text
    assert "请回答此题" in again.text and 'value="3" checked' in again.text


def test_bad_answers_are_shown_next_to_the_question_with_the_answers_kept(ctx, setup, client):
    path = link(ctx, setup)
    first = client.get(path)
    huge = "好" * 100_001
    reply = post(client, path, first.text, {"nps": "2", "why": huge, "nosuch": "1"})
    assert reply.status_code == 422
    assert "请不要超过 5000 个字符" in reply.text and "nosuch" in reply.text
    assert 'value="2" checked' in reply.text
    wrong = post(client, path, first.text, {"nps": "eleven"})
    assert "请选择 0 到 10 之间的整数" in wrong.text
    assert responses(ctx) == []


def test_the_qr_link_attributes_the_unit_and_the_channel(ctx, setup, client):
    path = link(ctx, setup) + "?c=qr&lang=en"
    first = client.get(path)
    assert "Recommend us?" in first.text
    page3 = post(client, path, first.text, {"nps": "9"})
    post(client, path, page3.text, {"again": "yes"})
    row = responses(ctx)[0]
    assert (row["unit_id"], row["channel"]) == (setup["store"], "qr")


@pytest.mark.parametrize("mangle", [lambda s: s[:-3] + "abc", lambda s: "nonsense",
                                    lambda s: s + "x"])
def test_tampered_links_get_a_clear_page(ctx, setup, client, mangle):
    path = link(ctx, setup)
    token = path.rsplit("/", 1)[1]
    for method in ("get", "post"):
        reply = getattr(client, method)("/s/" + mangle(token))
        assert reply.status_code == 404 and "链接无效" in reply.text
        reply = getattr(client, method)("/i/" + mangle(token))
        assert reply.status_code == 404 and "链接无效" in reply.text


def test_a_closed_survey_says_so(ctx, setup, client):
    with ctx.db.write() as conn:
        conn.execute(t.survey.update().values(status="closed"))
    reply = client.get(link(ctx, setup), params={"lang": "en"})
    assert reply.status_code == 410 and "This survey is closed" in reply.text


def invitation(ctx: Context, setup: dict[str, int], days: int = 14) -> tuple[int, str]:
    now = ctx.now()
    expires = now + dt.timedelta(days=days)
    public_id = new_public_id()
    with ctx.db.write() as conn:
        invitation_id = conn.execute(t.invitation.insert().values(
            public_id=public_id, survey_id=setup["survey"], unit_id=setup["store"],
            channel="email", status="sent", data={"vip": True}, created_at=now,
            expires_at=expires)).inserted_primary_key[0]
    return int(invitation_id), "/i/" + invitation_url(ctx, public_id, expires).rsplit("/", 1)[1]


def invitation_status(ctx: Context, invitation_id: int) -> str:
    with ctx.db.read() as conn:
        return str(conn.execute(sa.select(t.invitation.c.status)
                                .where(t.invitation.c.id == invitation_id)).scalar_one())


def test_an_invitation_is_single_use_and_tracks_its_status(ctx, setup, client):
    invitation_id, path = invitation(ctx, setup)
    first = client.get(path)
    assert first.status_code == 200 and invitation_status(ctx, invitation_id) == "opened"
    page2 = post(client, path, first.text, {"nps": "5", "why": "慢"})
    assert invitation_status(ctx, invitation_id) == "started"
    again = client.get(path)  # resumes through the token itself (no cookie needed)
    assert "您打了 5 分" in again.text
    page3 = post(client, path, page2.text, {"fix": "price"})
    done = post(client, path, page3.text, {"again": "no"})
    assert "感谢" in done.text and invitation_status(ctx, invitation_id) == "completed"
    assert post(client, path, page3.text, {"again": "yes"}).status_code == 200
    used = client.get(path)
    assert used.status_code == 409 and "已经作答" in used.text
    stored = responses(ctx)
    assert len(stored) == 1 and stored[0]["invitation_id"] == invitation_id
    assert stored[0]["channel"] == "email"


def test_an_expired_invitation_gets_a_clear_page(ctx, setup, client):
    _, path = invitation(ctx, setup, days=1)
    ctx.clock.advance(days=2)
    reply = client.get(path, params={"lang": "en"})
    assert reply.status_code == 410 and "expired" in reply.text
    assert client.post(path, data={"page": "1", "a.nps": "3"}).status_code == 410
    assert responses(ctx) == []


def count_queries(ctx: Context, call) -> int:  # type: ignore[no-untyped-def]
    """Statements that read or write rows; not the transaction's own BEGIN and savepoints (a
    request's writes are savepoints of its one transaction, see tiyan.web.transactions)."""
    seen: list[str] = []

    def hook(*args: object) -> None:
        statement = str(args[2])
        if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT")):
            seen.append(statement)

    sa.event.listen(ctx.db.engine, "before_cursor_execute", hook)
    try:
        call()
    finally:
        sa.event.remove(ctx.db.engine, "before_cursor_execute", hook)
    return len(seen)


def test_pages_stay_small_and_use_few_queries(ctx, setup, client):
    from pathlib import Path

    path = link(ctx, setup)
    first = client.get(path)  # warms the signing key and the definition cache
    static = Path(__file__).parents[2] / "src" / "tiyan" / "web" / "static"
    weight = len(first.content) + sum(len((static / p).read_bytes())
                                      for p in ("css/respond.css", "js/respond.js"))
    assert weight <= 30 * 1024
    assert "htmx" not in first.text and "echarts" not in first.text
    assert count_queries(ctx, lambda: client.get(path)) <= 2
    saving = count_queries(ctx, lambda: post(client, path, first.text, {"nps": "3", "why": "x"}))
    assert saving <= 5  # read the session, save the page, read it again for the next page


def test_the_title_and_intro_are_piped_for_each_respondent(ctx, setup, client):
    """`{customer:first_name|您}` in the introduction greets an invited customer by name and
    an anonymous respondent with the fallback; no placeholder reaches anyone."""
    from tiyan.store import customers

    definition = {**LOGIC_SURVEY, "intro": {"zh-CN": "您好 {customer:first_name|您}，感谢到店",
                                            "en": "Hello {customer:first_name|there}"}}
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.survey_version).where(
            t.survey_version.c.survey_id == setup["survey"]).values(definition=definition))
        customer_id = customers.insert_customer(
            conn, unit_id=setup["store"], now=ctx.now(), name="小明", attributes={},
            identities={"phone": "+8613800138000"})
    anonymous = client.get(link(ctx, setup))
    assert "您好 您，感谢到店" in anonymous.text and "{customer" not in anonymous.text
    invitation_id, path = invitation(ctx, setup)
    with ctx.db.write() as conn:
        conn.execute(sa.update(t.invitation).where(t.invitation.c.id == invitation_id)
                     .values(customer_id=customer_id))
    invited = client.get(path)
    assert "您好 小明，感谢到店" in invited.text
    assert "Hello 小明" in client.get(path, params={"lang": "en"}).text


def test_the_back_button_returns_to_a_page_of_the_same_response(ctx, setup, client):
    path = link(ctx, setup)
    first = client.get(path, headers={"accept-language": "en"})
    assert first.headers["cache-control"] == "no-store"  # back asks the server again
    sid = fields(first.text)["sid"]
    second = post(client, path, first.text, {"nps": "4", "why": "slow"})
    assert str(second.url).endswith("?p=2") and "You gave 4. Fix?" in second.text
    # The browser goes back to page 1: the same session, the answers kept.
    back = client.get(path + "?p=1", headers={"accept-language": "en"})
    assert fields(back.text)["sid"] == sid and fields(back.text)["page"] == "1"
    assert 'value="4" checked' in back.text and ">slow</textarea>" in back.text
    # A page not reached yet (or not on the path) shows the saved page instead.
    ahead = client.get(path + "?p=3", headers={"accept-language": "en"})
    assert fields(ahead.text)["page"] == "2"
    # Changing page 1 and going on continues the same response.
    again = post(client, path, back.text, {"nps": "10"})
    assert "Again?" in again.text and str(again.url).endswith("?p=3")
    done = post(client, path, again.text, {"again": "yes"})
    assert "Thank you" in done.text
    assert client.get(path + "?p=1").headers["cache-control"] == "no-store"
    with ctx.db.read() as conn:
        sessions = conn.execute(sa.select(t.survey_session.c.public_id)).scalars().all()
    assert sessions == [sid]
    stored = responses(ctx)
    assert len(stored) == 1 and answers_of(ctx, stored[0]["id"]) == {"nps": 10.0, "again": 1.0}
