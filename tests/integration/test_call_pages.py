"""The agent's /calls pages: worklist, call page with the survey form, outcomes, reveal."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.store import tables as t


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def test_an_agent_completes_a_call_on_the_web_page(client: TestClient, world: World) -> None:
    call_id = client.post("/api/v1/calls", headers=bearer(world, "agent@t.test"), json={
        "survey": "test", "customer_id": world.customer_ids["s1"]}).json()["id"]
    sign_in(client, "agent@t.test", PASSWORD)
    worklist = client.get("/calls?lang=en")
    assert worklist.status_code == 200
    assert "138****" in worklist.text and "客户s1" in worklist.text
    page = client.get(f"/calls/{call_id}")
    assert page.status_code == 200 and 'name="a.nps"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    token = csrf.group(1)

    missing = client.post(f"/calls/{call_id}/response",
                          data={"csrf_token": token, "a.overall": "4"})
    assert missing.status_code == 422 and 'id="e-nps"' in missing.text
    said = missing.text.split('role="alert">')[1].split("</p>")[0]
    assert said == "some answers need attention; see the marked questions"  # no "(answers.nps)"
    assert 'value="4" checked' in missing.text  # the answers already given stay on the page

    revealed = client.post(f"/calls/{call_id}/phone", data={"csrf_token": token})
    assert re.search(r'href="tel:\+861380013\d{4}"', revealed.text)

    done = client.post(f"/calls/{call_id}/response", data={
        "csrf_token": token, "a.nps": "4", "a.why": "太慢了", "a.overall": "2",
        "lang": "en"}, follow_redirects=True)
    assert done.status_code == 200
    assert 'id="response-channel">phone<' in done.text
    assert 'id="response-agent">agent<' in done.text
    with world.ctx.db.read() as conn:
        row = conn.execute(sa.select(t.response.c.channel, t.response.c.agent_user_id)
                           .where(t.response.c.channel == "phone")).one()
    assert row.agent_user_id == world.actor("agent@t.test").user_id

    attempt = client.post(f"/calls/{call_id}/attempts",
                          data={"csrf_token": token, "outcome": "busy"})
    assert attempt.status_code == 409 and "closed" in attempt.text
    forged = client.post(f"/calls/{call_id}/attempts", data={"csrf_token": "x",
                                                             "outcome": "busy"})
    assert forged.status_code == 403


PIPED = {
    "title": {"zh-CN": "{customer:first_name|您}的回访",
              "en": "Follow-up for {customer:first_name|you}"},
    "intro": {"zh-CN": "您好 {customer:first_name|您}，占用您一分钟。",
              "en": "Hello {customer:first_name|there}, one minute of your time."},
    "questions": [
        {"key": "nps", "type": "nps", "required": True,
         "text": {"zh-CN": "{customer:first_name|您}，您有多大可能推荐我们？",
                  "en": "{customer:first_name|You}: how likely are you to recommend us?"}},
    ],
}


def test_the_agent_reads_the_title_intro_and_questions_with_the_customer_piped_in(
        client: TestClient, world: World) -> None:
    """The agent reads out what the respondent page would show: '您好 {customer:first_name|您}'
    greets the customer by name on the call page too (it showed the title unpiped and no
    introduction, and piped only {customer:name})."""
    from tiyan.domain.surveys import parse_definition
    from tiyan.store.surveys import insert_survey

    with world.ctx.db.write() as conn:
        root = conn.execute(sa.select(t.org_unit.c.id).where(
            t.org_unit.c.parent_id.is_(None)).order_by(t.org_unit.c.id)).scalars().first()
        insert_survey(conn, code="piped", name="Piped", unit_id=root,
                      definition=parse_definition(PIPED), now=world.ctx.now(), created_by=None)
    planned = client.post("/api/v1/calls", headers=bearer(world, "agent@t.test"), json={
        "survey": "piped", "customer_id": world.customer_ids["s1"]})
    assert planned.status_code == 201, planned.text
    sign_in(client, "agent@t.test", PASSWORD)
    page = client.get(f"/calls/{planned.json()['id']}?lang=zh-CN")
    assert page.status_code == 200
    assert '<p class="muted small" id="call-survey-title">客户s1的回访</p>' in page.text
    assert '<p class="intro" id="call-survey-intro">您好 客户s1，占用您一分钟。</p>' in page.text
    assert "客户s1，您有多大可能推荐我们？" in page.text
    assert "{customer:" not in page.text
