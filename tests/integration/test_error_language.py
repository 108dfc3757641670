"""Errors in the reader's language (issue 16): bad input posted to the API and to forms comes
back in Chinese for a zh-CN reader and in English for an en reader, with the same code, key and
where; the JSON error keeps its shape and adds the message's key."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World
from tiyan.store.users import set_locale, user_by_email

# Three or more Latin words in a row: an English sentence (or most of one); a list of codes
# ("negative, neutral, positive") and a command in backticks are not.
ENGLISH = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def bearer(world: World, email: str, language: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {world.tokens[email]}"}
    if language:
        headers["Accept-Language"] = language
    return headers


def csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def alerts(page: str) -> list[str]:
    """The text of each error a page shows (role="alert")."""
    found = re.findall(r'role="alert"[^>]*>(.*?)</(?:p|div)>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", x)).strip() for x in found]


def assert_chinese(text: str) -> None:
    assert CHINESE.search(text), text
    assert not ENGLISH.search(re.sub(r"`[^`]*`", "", text)), text


# (method, path, body, code, key, where, words of the English message)
API_CASES = [
    ("post", "/api/v1/responses", {"survey_id": "SURVEY", "unit_code": "s1",
                                   "answers": {"nps": 42}},
     "invalid_input", "responses.not_whole_number", "answers.nps",
     "42 is not a whole number from 0 to 10"),
    ("post", "/api/v1/responses", {"survey_id": "many", "unit_code": "s1", "answers": {}},
     "invalid_input", "validation.int", "body.survey_id", "survey_id must be a whole number"),
    ("post", "/api/v1/responses", {"unit_code": "s1", "answers": {}},
     "invalid_input", "validation.missing", "body.survey_id", "survey_id is missing"),
    ("post", "/api/v1/responses", {"survey_id": "SURVEY", "unit_code": "s1", "answers": {},
                                   "colour": "red"},
     "invalid_input", "validation.extra", "body.colour", "colour is not a known field"),
    ("post", "/api/v1/webhooks", {"url": "http://10.0.0.1/in", "unit_code": "hq",
                                  "events": ["response.submitted"]},
     "invalid_input", "outbound.refused", "url", "it points at a private network address"),
    ("post", "/api/v1/alert-rules", {"name": "r", "unit_code": "hq",
                                     "condition": {"sentiment": "furious"},
                                     "action": {"kind": "case"}},
     "invalid_input", "alerts.not_sentiment", "condition.sentiment", "is not a sentiment"),
    ("get", "/api/v1/responses?submitted_from=yesterday", None,
     "invalid_input", "response_filters.not_date_yyyy_mm", "submitted_from",
     "is not a date (YYYY-MM-DD) or ISO 8601 time"),
    ("get", "/api/v1/plans/nowhere", None, "not_found", "plans.action_plan_does_not", "plan",
     "does not exist or is not yours to see"),
    ("get", "/api/v1/no-such-thing", None, "not_found", "http.not_found", None,
     "there is no such page or endpoint"),
]


def _send(client: TestClient, world: World, case: tuple, headers: dict[str, str]):  # type: ignore[no-untyped-def, type-arg]
    method, path, body = case[:3]
    if body is not None and body.get("survey_id") == "SURVEY":
        body = {**body, "survey_id": world.survey_id}
    return client.request(method.upper(), path, headers=headers, json=body)


@pytest.mark.parametrize("case", API_CASES, ids=[c[4] for c in API_CASES])
def test_api_errors_come_in_the_callers_language_with_code_key_and_where(
        client: TestClient, world: World, case: tuple) -> None:  # type: ignore[type-arg]
    code, key, where, english = case[3:]
    replies = {lang: _send(client, world, case, bearer(world, "admin@t.test", lang))
               for lang in ("zh-CN", "en")}
    for lang, reply in replies.items():
        error = reply.json()["error"]
        assert (error["code"], error["key"], error.get("where")) == (code, key, where), error
        if lang == "en":
            assert english in error["message"], error
        else:
            assert_chinese(error["message"])
    assert replies["zh-CN"].status_code == replies["en"].status_code >= 400


def test_a_token_without_accept_language_gets_its_users_language(
        client: TestClient, world: World) -> None:
    body = {"survey_id": world.survey_id, "unit_code": "s1", "answers": {"nps": 42}}
    first = client.post("/api/v1/responses", headers=bearer(world, "admin@t.test"), json=body)
    assert_chinese(first.json()["error"]["message"])  # no language anywhere: the default
    with world.ctx.db.write() as conn:
        set_locale(conn, user_by_email(conn, "admin@t.test")["id"], "en")
    english = client.post("/api/v1/responses", headers=bearer(world, "admin@t.test"), json=body)
    assert english.json()["error"]["message"] == "42 is not a whole number from 0 to 10"
    asked = client.post("/api/v1/responses", json=body,
                        headers=bearer(world, "admin@t.test", "zh-CN,zh;q=0.9"))
    assert_chinese(asked.json()["error"]["message"])  # a program's Accept-Language comes first


def test_without_a_token_the_refusal_follows_accept_language(client: TestClient) -> None:
    zh = client.get("/api/v1/responses", headers={"Accept-Language": "zh-CN"}).json()["error"]
    en = client.get("/api/v1/responses", headers={"Accept-Language": "en-GB"}).json()["error"]
    assert zh["code"] == en["code"] == "not_authenticated"
    assert_chinese(zh["message"])
    assert en["message"].startswith("send 'Authorization: Bearer <token>'")


def _forms(client: TestClient, token: str, lang: str) -> dict[str, str]:
    """Bad input posted to four forms and one missing page, in `lang`."""
    q = f"?lang={lang}"
    return {
        "journey": client.post(f"/journeys{q}", data={
            "csrf_token": token, "code": "Bad Code", "name_zh": "旅程", "name_en": "J"}).text,
        "plan": client.post(f"/plans{q}", data={
            "csrf_token": token, "title": "计划", "kpi": "nps", "start_date": "soon",
            "units": ["n1"]}).text,
        "webhook": client.post(f"/admin/webhooks{q}", data={
            "csrf_token": token, "url": "http://10.0.0.1/in", "unit_code": "hq",
            "events": ["response.submitted"]}).text,
        "target": client.post(f"/dashboard/targets{q}", data={
            "csrf_token": token, "kpi": "nps", "unit": "n1", "period_start": "2026-01-01",
            "period_end": "2026-03-31", "target": "lots"}).text,
        "missing": client.get(f"/plans/nowhere{q}").text,
    }


def test_form_errors_and_the_error_page_speak_the_pages_language(
        client: TestClient, world: World) -> None:
    sign_in(client, "admin@t.test", PASSWORD)
    token = csrf(client.get("/").text)
    chinese, english = _forms(client, token, "zh-CN"), _forms(client, token, "en")
    expected = {
        "journey": ("不是有效代码", 'is not a valid code'),
        "plan": ("不是日期", "is not a date (YYYY-MM-DD)"),
        "webhook": ("它指向内网地址", "it points at a private network address"),
        "target": ("不是数字", 'target: "lots" is not a number'),
        "missing": ("不存在或您无权查看", "does not exist or is not yours to see"),
    }
    for form, (zh_words, en_words) in expected.items():
        zh_alerts, en_alerts = alerts(chinese[form]), alerts(english[form])
        assert zh_alerts and en_alerts, form
        assert any(zh_words in text for text in zh_alerts), (form, zh_alerts)
        for text in zh_alerts:
            assert_chinese(text)
        assert any(en_words in text for text in en_alerts), (form, en_alerts)
