"""Organisation-wide objects (journeys and their touchpoints, item codes) are changed only by
someone who manages every unit that uses them; dashboards label items only from the surveys the
viewer may see (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.world import World
from tiyan.web.ui.driver_pages import item_labels


def auth(world: World, email: str) -> dict[str, str]:
    return {"authorization": f"Bearer {world.tokens[email]}"}


def survey_with_item(code: str, unit: str, item: str, text: str) -> dict[str, Any]:
    return {"code": code, "name": code, "unit_code": unit, "definition": {
        "title": {"zh-CN": code, "en": code}, "questions": [
            {"key": "q", "type": "csat", "item_code": item, "text": {"zh-CN": text, "en": text}}]}}


def journey_used_by(client: TestClient, world: World, code: str, survey: str) -> None:
    admin = auth(world, "admin@t.test")
    assert client.post("/api/v1/journeys", headers=admin, json={
        "code": code, "name_zh": code, "name_en": code}).status_code == 201
    assert client.post(f"/api/v1/journeys/{code}/touchpoints", headers=admin, json={
        "code": "tp", "name_zh": "触点", "name_en": "Touchpoint"}).status_code == 201
    assert client.put(f"/api/v1/surveys/{survey}/touchpoint", headers=admin, json={
        "touchpoint": {"journey": code, "touchpoint": "tp"}}).status_code == 204


def test_a_unit_manager_cannot_rename_a_touchpoint_of_a_journey_other_units_use(
        client: TestClient, world: World) -> None:
    journey_used_by(client, world, "shared", "test")  # the survey of hq: every unit
    rename = {"name_en": "</script><img src=x>"}
    cx = client.patch("/api/v1/journeys/shared/touchpoints/tp", headers=auth(world, "cx@t.test"),
                      json=rename)
    assert cx.status_code == 403 and cx.json()["error"]["where"] == "journey"
    assert client.patch("/api/v1/journeys/shared", headers=auth(world, "cx@t.test"),
                        json={"name_en": "mine"}).status_code == 403
    assert client.get("/api/v1/journeys/shared", headers=auth(world, "admin@t.test")
                      ).json()["touchpoints"][0]["name_en"] == "Touchpoint"
    assert client.patch("/api/v1/journeys/shared/touchpoints/tp", headers=auth(
        world, "admin@t.test"), json={"name_en": "Arrival"}).status_code == 200


def test_a_cx_manager_may_shape_a_journey_only_their_units_use(
        client: TestClient, world: World) -> None:
    admin = auth(world, "admin@t.test")
    assert client.post("/api/v1/surveys", headers=admin, json=survey_with_item(
        "north-visit", "north", "north_visit", "Visit")).status_code == 201
    journey_used_by(client, world, "north_only", "north-visit")
    assert client.patch("/api/v1/journeys/north_only/touchpoints/tp", headers=auth(
        world, "cx@t.test"), json={"name_en": "Arrival"}).status_code == 200


def test_a_survey_may_not_reuse_another_units_item_code(
        client: TestClient, world: World) -> None:
    admin, cx = auth(world, "admin@t.test"), auth(world, "cx@t.test")
    assert client.post("/api/v1/surveys", headers=admin, json=survey_with_item(
        "south-rooms", "s1", "room_view", "Room view")).status_code == 201
    reused = client.post("/api/v1/surveys", headers=cx, json=survey_with_item(
        "north-rooms", "north", "room_view", "<script>x</script>"))
    assert reused.status_code == 403 and reused.json()["error"]["where"] == "item_code"
    assert client.get("/api/v1/surveys/north-rooms", headers=cx).status_code == 404
    shared = client.post("/api/v1/surveys", headers=cx, json=survey_with_item(
        "north-nps", "north", "csat", "Satisfied"))  # a template's code, and the hq survey's
    assert shared.status_code == 201
    # a shared code keeps its measure: the NPS code on a CSAT question is refused
    mixed = client.post("/api/v1/surveys", headers=cx, json=survey_with_item(
        "north-mixed", "north", "nps", "Recommend"))
    assert mixed.status_code == 422
    assert mixed.json()["error"]["where"] == 'question "q".item_code'
    draft = {"definition": survey_with_item("x", "north", "room_view", "again")["definition"]}
    assert client.put("/api/v1/surveys/north-nps/draft", headers=cx,
                      json=draft).status_code == 403


def test_driver_labels_come_only_from_surveys_the_viewer_may_see(
        client: TestClient, world: World) -> None:
    assert client.post("/api/v1/surveys", headers=auth(world, "admin@t.test"),
                       json=survey_with_item("south-only", "s1", "south_item", "南方私有")
                       ).status_code == 201
    with world.ctx.db.read() as conn:
        north = item_labels(conn, world.actor("cx@t.test"), "zh-CN")
        south = item_labels(conn, world.actor("mgr.s1@t.test"), "zh-CN")
    assert "south_item" not in north and north["nps"] == "推荐"
    assert south["south_item"] == "南方私有"
