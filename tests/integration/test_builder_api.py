"""The survey builder and journey editor through the REST API (FastAPI app, token auth)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.integration.test_survey_builder import WHAT_WENT_WRONG
from tests.world import World


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def test_create_edit_publish_and_read_versions(world: World, client: TestClient) -> None:
    cx = bearer(world, "cx@t.test")
    created = client.post("/api/v1/surveys", headers=cx, json={
        "code": "north-nps", "name": "北区 NPS", "unit_code": "north", "template": "plain_nps"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["current_version"], body["draft_version"]) == ("draft", None, 1)
    assert client.post("/api/v1/surveys/north-nps/publish", headers=cx).json() == {"version": 1}

    definition: dict[str, Any] = client.get("/api/v1/surveys/north-nps",
                                            headers=cx).json()["definition"]
    definition["questions"].insert(1, {**WHAT_WENT_WRONG})
    saved = client.put("/api/v1/surveys/north-nps/draft", headers=cx,
                       json={"definition": definition})
    assert saved.json() == {"draft_version": 2}
    assert client.post("/api/v1/surveys/north-nps/publish", headers=cx).json() == {"version": 2}

    versions = client.get("/api/v1/surveys/north-nps/versions", headers=cx).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert all(v["published_at"] and v["author"] == "cx@t.test" for v in versions)
    v1 = client.get("/api/v1/surveys/north-nps/versions/1", headers=cx).json()
    assert [q["key"] for q in v1["definition"]["questions"]] == ["nps", "reason"]
    assert client.get("/api/v1/surveys/north-nps/versions/9", headers=cx).status_code == 404

    listed = {s["code"]: s for s in client.get("/api/v1/surveys", headers=cx).json()}
    assert listed["north-nps"]["current_version"] == 2 and set(listed) == {"test", "north-nps"}


def test_a_validation_error_is_a_422_naming_the_question_and_rule(
        world: World, client: TestClient) -> None:
    admin = bearer(world, "admin@t.test")
    definition = client.get("/api/v1/surveys/test", headers=admin).json()["definition"]
    definition["questions"].append({**WHAT_WENT_WRONG,
                                    "show_if": {"question": "ghost", "op": "<=", "value": 6}})
    reply = client.put("/api/v1/surveys/test/draft", headers=admin,
                       json={"definition": definition})
    assert reply.status_code == 422
    assert reply.json()["error"]["where"] == 'question "what_wrong".show_if'
    assert "ghost" in reply.json()["error"]["message"]
    unknown = client.put("/api/v1/surveys/test/draft", headers=admin,
                         json={"definition": definition, "extra": 1})
    assert unknown.status_code == 422


def test_scope_through_the_api(world: World, client: TestClient) -> None:
    store_manager = bearer(world, "mgr.n1@t.test")
    assert client.get("/api/v1/surveys/test", headers=store_manager).status_code == 200
    reply = client.put("/api/v1/surveys/test/status", headers=store_manager,
                       json={"status": "closed"})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "forbidden"
    admin = bearer(world, "admin@t.test")
    client.post("/api/v1/surveys", headers=admin, json={
        "code": "south-nps", "name": "South", "unit_code": "south", "template": "plain_nps"})
    cx = bearer(world, "cx@t.test")
    assert client.get("/api/v1/surveys/south-nps", headers=cx).status_code == 404
    assert client.post("/api/v1/surveys/south-nps/publish", headers=cx).status_code == 404
    assert client.get("/api/v1/surveys").status_code == 401


def test_close_reopen_attach_and_templates(world: World, client: TestClient) -> None:
    admin = bearer(world, "admin@t.test")
    assert client.put("/api/v1/surveys/test/status", headers=admin,
                      json={"status": "closed"}).status_code == 204
    assert client.get("/api/v1/surveys/test", headers=admin).json()["status"] == "closed"
    client.put("/api/v1/surveys/test/status", headers=admin, json={"status": "active"})
    client.post("/api/v1/journeys", headers=admin,
                json={"code": "stay", "name_zh": "入住", "name_en": "Stay"})
    client.post("/api/v1/journeys/stay/touchpoints", headers=admin,
                json={"code": "check_out", "name_zh": "退房", "name_en": "Check-out"})
    reply = client.put("/api/v1/surveys/test/touchpoint", headers=admin,
                       json={"touchpoint": {"journey": "stay", "touchpoint": "check_out"}})
    assert reply.status_code == 204
    assert client.get("/api/v1/surveys/test", headers=admin).json()["touchpoint"] == \
        {"journey": "stay", "touchpoint": "check_out"}
    templates = {t["code"] for t in client.get("/api/v1/survey-templates", headers=admin).json()}
    assert {"after_sales_phone", "hotel_stay", "plain_nps"} <= templates


def test_journey_editor_through_the_api(world: World, client: TestClient) -> None:
    admin = bearer(world, "admin@t.test")
    assert client.post("/api/v1/journeys", headers=admin, json={
        "code": "sales", "name_zh": "销售", "name_en": "Sales"}).status_code == 201
    for code in ("lead", "consultation", "test_drive"):
        client.post("/api/v1/journeys/sales/touchpoints", headers=admin,
                    json={"code": code, "name_zh": code, "name_en": code})
    client.post("/api/v1/journeys/sales/touchpoints", headers=admin, json={
        "code": "departure", "name_zh": "送别", "name_en": "Departure", "parent": "consultation"})
    moved = client.patch("/api/v1/journeys/sales/touchpoints/test_drive", headers=admin,
                         json={"position": 1})
    assert [tp["code"] for tp in moved.json()["touchpoints"]] == \
        ["test_drive", "lead", "consultation"]
    listen = client.put("/api/v1/journeys/sales/touchpoints/lead/listeners/test", headers=admin,
                        json={"channels": ["sms", "link"]})
    assert listen.status_code == 204
    journey = client.get("/api/v1/journeys/sales", headers=admin).json()
    lead = next(tp for tp in journey["touchpoints"] if tp["code"] == "lead")
    assert lead["listeners"][0]["channels"] == ["link", "sms"]
    consultation = next(tp for tp in journey["touchpoints"] if tp["code"] == "consultation")
    assert [s["code"] for s in consultation["sub_touchpoints"]] == ["departure"]
    assert client.delete("/api/v1/journeys/sales/touchpoints/lead",
                         headers=admin).status_code == 409
    assert client.delete("/api/v1/journeys/sales/touchpoints/test_drive",
                         headers=admin).status_code == 204
    listed = client.get("/api/v1/journeys", headers=bearer(world, "viewer@t.test")).json()
    assert listed == [{"code": "sales", "name_zh": "销售", "name_en": "Sales",
                       "description": None, "touchpoints": 2}]
    forbidden = client.post("/api/v1/journeys", headers=bearer(world, "mgr.n1@t.test"),
                            json={"code": "x", "name_zh": "x", "name_en": "x"})
    assert forbidden.status_code == 403


def test_the_openapi_description_lists_the_builder(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/surveys", "/api/v1/surveys/{code}/draft",
                 "/api/v1/surveys/{code}/publish", "/api/v1/surveys/{code}/versions/{version}",
                 "/api/v1/journeys/{code}/touchpoints/{touchpoint}/listeners/{survey}"):
        assert path in paths, path


def count_queries(world: World, call) -> int:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    seen: list[str] = []

    def hook(*args: object) -> None:
        seen.append(str(args[2]))

    engine = world.ctx.db.engine
    sa.event.listen(engine, "before_cursor_execute", hook)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", hook)
    return len(seen)


def test_list_endpoints_cost_the_same_number_of_queries_for_1_or_12_items(
        world: World, client: TestClient) -> None:
    admin = bearer(world, "admin@t.test")
    client.post("/api/v1/journeys", headers=admin,
                json={"code": "big", "name_zh": "大", "name_en": "Big"})

    def costs() -> tuple[int, int]:
        surveys = count_queries(world, lambda: client.get("/api/v1/surveys", headers=admin))
        journey = count_queries(world, lambda: client.get("/api/v1/journeys/big",
                                                          headers=admin))
        return surveys, journey

    before = costs()
    for n in range(11):
        client.post("/api/v1/surveys", headers=admin, json={
            "code": f"s{n}", "name": f"S{n}", "unit_code": "hq", "template": "plain_nps"})
        client.post("/api/v1/journeys/big/touchpoints", headers=admin,
                    json={"code": f"tp{n}", "name_zh": "x", "name_en": "x"})
        client.put(f"/api/v1/journeys/big/touchpoints/tp{n}/listeners/s{n}", headers=admin,
                   json={"channels": ["qr"]})
    assert costs() == before


def test_an_item_keeps_its_measure_across_versions_and_surveys(
        world: World, client: TestClient) -> None:
    """Publishing CSAT (1–5) again as a 0–10 rating under the same key or item code would add
    0–10 answers to a 1–5 mean: refused, saying what to do; a new key and code is fine."""
    admin = bearer(world, "admin@t.test")
    definition = client.get("/api/v1/surveys/test", headers=admin).json()["definition"]
    overall = next(q for q in definition["questions"] if q["key"] == "overall")
    as_rating = {**overall, "type": "rating", "scale": {"min": 0, "max": 10}}
    changed = {**definition, "questions": [as_rating if q["key"] == "overall" else q
                                           for q in definition["questions"]]}
    reply = client.put("/api/v1/surveys/test/draft", headers=admin, json={"definition": changed})
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["where"] == 'question "overall".item_code'
    assert error["message"].startswith(  # in words of the reader's language, no codes
        "题目代码“csat”已用于衡量 满意度 CSAT 1–5（问卷“Test”第 1 版）；若改为 评分 0–10，")
    renamed = {**as_rating, "item_code": "overall_0_10"}
    changed["questions"] = [renamed if q["key"] == "overall" else q
                            for q in definition["questions"]]
    reply = client.put("/api/v1/surveys/test/draft", headers=admin, json={"definition": changed})
    assert reply.status_code == 422
    assert reply.json()["error"]["where"] == 'question "overall".type'
    fresh = {**renamed, "key": "overall10"}
    changed["questions"] = [*definition["questions"], fresh]
    reply = client.put("/api/v1/surveys/test/draft", headers=admin, json={"definition": changed})
    assert reply.status_code == 200, reply.text
    assert client.post("/api/v1/surveys/test/publish", headers=admin).status_code == 200
    # another survey cannot reuse the code for a different measure either
    cx = bearer(world, "cx@t.test")
    created = client.post("/api/v1/surveys", headers=cx, json={
        "code": "north-x", "name": "x", "unit_code": "north", "template": "plain_nps"})
    draft = client.get("/api/v1/surveys/north-x", headers=cx).json()["definition"]
    draft["questions"].append({**{k: v for k, v in fresh.items() if k != "scale"},
                               "type": "csat", "key": "q9"})
    assert created.status_code == 201
    reply = client.put("/api/v1/surveys/north-x/draft", headers=cx, json={"definition": draft})
    assert reply.status_code == 422  # shared down from hq, but as csat it measures otherwise
    assert reply.json()["error"]["where"] == 'question "q9".item_code'
