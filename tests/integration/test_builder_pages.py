"""The builder and journey pages without JavaScript: plain form posts, as a browser sends them."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.store import tables as t


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def editor_fields(page: str) -> dict[str, str]:
    """The editor form's current values, as a browser would post them (checked boxes only)."""
    form = page.split('id="editor"')[1].split("</form>")[0]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1) if value else ("on" if "checkbox" in tag else "")
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form,
                                 re.S):
        fields[name] = body
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body) or \
            re.search(r'<option value="([^"]*)"', body)
        fields[name] = chosen.group(1) if chosen else ""
    import html

    return {k: html.unescape(v) for k, v in fields.items()}


def test_a_cx_manager_builds_a_survey_with_display_logic_and_publishes_twice(
        world: World, client: TestClient) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    listing = client.get("/surveys")
    assert listing.status_code == 200 and "Test" in listing.text
    created = client.post("/surveys", data={
        "csrf_token": csrf(listing.text), "template": "plain_nps", "name": "北区推荐",
        "code": "north-nps", "unit_code": "north", "touchpoint": ""}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/surveys/north-nps"

    page = client.get("/surveys/north-nps").text
    fields = editor_fields(page)
    assert fields["count"] == "2" and fields["q0.type"] == "nps"
    added = client.post("/surveys/north-nps/edit",
                        data={**fields, "action": "add", "new_type": "text"})
    fields = editor_fields(added.text)
    assert fields["count"] == "3" and fields["q2.key"] == "q3"
    fields.update({"q2.key": "what_wrong", "q2.text.zh-CN": "哪里做得不好？",
                   "q2.text.en": "What went wrong?", "q2.c0.source": "nps", "q2.c0.op": "<=",
                   "q2.c0.value": "6"})
    published = client.post("/surveys/north-nps/edit", data={**fields, "action": "publish"},
                            follow_redirects=False)
    assert published.headers["location"] == "/surveys/north-nps?published=1"
    with world.ctx.db.read() as conn:
        definition = conn.execute(sa.select(t.survey_version.c.definition).where(
            t.survey_version.c.version == 1).join(t.survey).where(
            t.survey.c.code == "north-nps")).scalar_one()
    assert definition["questions"][2]["show_if"] == [{"question": "nps", "op": "<=",
                                                      "value": 6}]

    page = client.get("/surveys/north-nps").text
    fields = editor_fields(page)
    assert fields["q2.c0.value"] == "6" and fields["q2.conds"] == "2"
    moved = client.post("/surveys/north-nps/edit", data={**fields, "action": "up:1"})
    assert editor_fields(moved.text)["q0.key"] == "reason"
    fields["q1.text.en"] = "Why that score?"
    again = client.post("/surveys/north-nps/edit", data={**fields, "action": "publish"},
                        follow_redirects=False)
    assert again.headers["location"] == "/surveys/north-nps?published=2"
    page = client.get("/surveys/north-nps?published=2").text
    assert "Published version 2" in page or "已发布版本 v2" in page
    assert '<span class="chg mod">✎ reason</span>' in page  # v2 changed the reason text


def test_a_validation_error_is_shown_at_the_question_and_nothing_is_saved(
        world: World, client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    fields = editor_fields(client.get("/surveys/test").text)
    fields.update({"q2.c0.source": "comment"})  # a later question
    reply = client.post("/surveys/test/edit", data={**fields, "action": "save"})
    assert reply.status_code == 422
    assert 'class="question card has-error" id="q-2"' in reply.text
    assert "不是前面的问题" in reply.text and "show_if" in reply.text
    assert editor_fields(reply.text)["q2.c0.source"] == "comment"  # the user's input is kept
    with world.ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.survey_version)
                            ).scalar_one() == 1

    json_reply = client.post("/surveys/test/json", data={"csrf_token": fields["csrf_token"],
                                                         "definition": "{not json"})
    assert json_reply.status_code == 422 and "不是有效的 JSON" in json_reply.text


def test_htmx_edits_swap_in_place_and_success_redirects(world: World,
                                                        client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    fields = editor_fields(client.get("/surveys/test").text)
    headers = {"HX-Request": "true", "X-CSRF-Token": fields["csrf_token"]}
    bad = dict(fields, **{"q0.type": "single"})
    reply = client.post("/surveys/test/edit", data={**bad, "action": "save"}, headers=headers)
    assert reply.status_code == 200 and "选择题至少需要两个选项" in reply.text
    ok = client.post("/surveys/test/edit", data={**fields, "action": "save"}, headers=headers)
    assert ok.status_code == 204 and ok.headers["HX-Redirect"] == "/surveys/test?saved=1"


def test_the_builder_is_read_only_without_the_permission_and_forms_need_csrf(
        world: World, client: TestClient) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/surveys/test")
    assert page.status_code == 200 and 'name="action" value="save"' not in page.text
    fields = editor_fields(page.text)
    assert client.post("/surveys/test/edit", data={**fields, "action": "save"}).status_code \
        == 403
    assert client.post("/surveys/test/publish", data={}).status_code == 403
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    assert client.get("/surveys").status_code == 403


def test_the_journey_editor_adds_reorders_and_listens(world: World,
                                                      client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    token = csrf(client.get("/journeys").text)
    client.post("/journeys", data={"csrf_token": token, "code": "stay", "name_zh": "入住",
                                   "name_en": "Stay", "description": ""})
    for code in ("booking", "check_in", "check_out"):
        reply = client.post("/journeys/stay/touchpoints", data={
            "csrf_token": token, "code": code, "name_zh": code, "name_en": code, "parent": "",
            "position": ""}, follow_redirects=False)
        assert reply.status_code == 303
    client.post("/journeys/stay/touchpoints/check_out/move",
                data={"csrf_token": token, "direction": "earlier"})
    client.post("/journeys/stay/listeners", data={
        "csrf_token": token, "touchpoint": "check_out", "survey": "test", "channel.qr": "on",
        "channel.sms": "on"})
    page = client.get("/journeys/stay").text
    assert re.findall(r'<li class="step" data-code="([a-z_]+)"', page) == \
        ["booking", "check_out", "check_in"]
    assert 'data-survey="test"' in page
    client.post("/journeys/stay/touchpoints/rename", data={
        "csrf_token": token, "touchpoint": "check_in", "name_zh": "入住登记", "name_en": ""})
    assert ">入住登记</h3>" in client.get("/journeys/stay").text
    refused = client.post("/journeys/stay/touchpoints/check_out/delete",
                          data={"csrf_token": token})
    assert refused.status_code == 409 and "touchpoint_listener" in refused.text
    bad = client.post("/journeys/stay/touchpoints", data={
        "csrf_token": token, "code": "Bad Code", "name_zh": "x", "name_en": "x"})
    assert bad.status_code == 422


def test_a_form_without_the_sessions_csrf_token_changes_nothing(world: World,
                                                               client: TestClient) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    fields = editor_fields(client.get("/surveys/test").text)
    for token in ("", "forged"):
        reply = client.post("/surveys/test/edit",
                            data={**fields, "csrf_token": token, "action": "save"})
        assert reply.status_code == 403 and "表单已过期" in reply.text
        assert client.post("/journeys", data={"csrf_token": token, "code": "x",
                                              "name_zh": "x", "name_en": "x"}).status_code == 403
    with world.ctx.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.survey_version)
                            ).scalar_one() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(t.journey)).scalar_one() == 0
