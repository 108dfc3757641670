"""REST API of action plans: create with tasks, list scoped, get with progress and the measured
effect, change fields and status, tasks added/changed/removed, delete; errors name the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_plans import START, stores_with_scores
from tests.world import World
from tiyan.context import Context


def auth(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


PLAN = {"title": "缩短等待 Shorter waits", "kpi": "nps", "units": ["t1", "t2"],
        "start_date": START.isoformat(), "owner_email": "mgr.s1@t.test",
        "tasks": [{"title": "培训", "due_date": "2026-09-15"}, {"title": "预约系统"}]}


def test_plan_lifecycle_with_tasks_progress_and_effect(ctx: Context, world: World,
                                                       client: TestClient) -> None:
    stores_with_scores(ctx, world, {"t1": (8, 10), "t2": (7, 9), "c1": (8, 8), "c2": (8, 10)})
    admin = auth(world, "admin@t.test")
    made = client.post("/api/v1/plans", headers=admin, json=PLAN)
    assert made.status_code == 201, made.text
    plan = made.json()
    assert plan["units"] == ["t1", "t2"] and plan["owner_email"] == "mgr.s1@t.test"
    assert plan["status"] == "active" and plan["progress"] == 0.0
    assert [x["title"] for x in plan["tasks"]] == ["培训", "预约系统"]
    effect = plan["effect"]
    assert effect["effect"] == pytest.approx(50.0) and effect["low"] < 50 < effect["high"]
    assert [u["unit"] for u in effect["treated"]] == ["t1", "t2"]
    assert [u["unit"] for u in effect["control"]] == ["c1", "c2"]
    url = f"/api/v1/plans/{plan['id']}"

    task = plan["tasks"][0]["id"]
    done = client.patch(f"{url}/tasks/{task}", headers=admin, json={"status": "done"}).json()
    assert done["progress"] == 0.5 and done["tasks"][0]["done_at"] is not None
    added = client.post(f"{url}/tasks", headers=admin, json={"title": "回访"}).json()
    assert added["progress"] == pytest.approx(1 / 3)
    renamed = client.patch(f"{url}/tasks/{added['tasks'][-1]['id']}", headers=admin,
                           json={"title": "电话回访", "due_date": "2026-10-01"}).json()
    assert [x["title"] for x in renamed["tasks"]] == ["培训", "电话回访", "预约系统"]
    fewer = client.delete(f"{url}/tasks/{added['tasks'][-1]['id']}", headers=admin).json()
    assert len(fewer["tasks"]) == 2

    changed = client.patch(url, headers=admin, json={
        "title": "Shorter waits", "units": ["t1"], "owner_email": None, "kpi": "csat",
        "end_date": "2026-12-31"}).json()
    assert changed["title"] == "Shorter waits" and changed["units"] == ["t1"]
    assert changed["owner_email"] is None and changed["kpi"] == "csat"
    assert changed["end_date"] == "2026-12-31" and changed["start_date"] == START.isoformat()
    assert changed["effect"]["problem"] == "too_few_units"
    closed = client.patch(url, headers=admin, json={"status": "done"}).json()
    assert closed["status"] == "done" and closed["title"] == "Shorter waits"

    listed = client.get("/api/v1/plans", headers=admin, params={"status": "done"}).json()
    assert [p["id"] for p in listed] == [plan["id"]]
    assert client.get("/api/v1/plans", headers=admin, params={"status": "active"}).json() == []
    assert [p["id"] for p in client.get("/api/v1/plans", headers=admin,
                                        params={"unit": "south"}).json()] == [plan["id"]]
    assert client.get("/api/v1/plans", headers=admin, params={"unit": "north"}).json() == []

    assert client.delete(url, headers=admin).json() == {"deleted": True}
    assert client.get(url, headers=admin).status_code == 404
    assert client.get("/api/v1/plans", headers=admin).json() == []


def test_plans_are_scoped_and_errors_name_the_field(world: World, client: TestClient) -> None:
    manager = auth(world, "mgr.s1@t.test")
    made = client.post("/api/v1/plans", headers=manager, json={
        "title": "回访提速", "kpi": "nps", "units": ["s1"], "start_date": "2026-09-01"})
    assert made.status_code == 201, made.text
    url = f"/api/v1/plans/{made.json()['id']}"
    other = auth(world, "mgr.n1@t.test")
    assert client.get("/api/v1/plans", headers=other).json() == []
    assert client.get(url, headers=other).status_code == 404
    assert client.patch(url, headers=other, json={"status": "done"}).status_code == 404
    assert client.delete(url, headers=other).status_code == 404
    # a manager may not put a plan on another store
    assert client.patch(url, headers=manager, json={"units": ["s1", "n1"]}).status_code == 403
    assert client.post("/api/v1/plans", headers=other, json={
        "title": "x", "kpi": "nps", "units": ["s1"], "start_date": "2026-09-01"}
    ).status_code == 403

    def error(reply: object) -> tuple[int, str]:
        r = reply  # type: ignore[assignment]
        return r.status_code, r.json()["error"]["where"]  # type: ignore[attr-defined]

    assert error(client.post("/api/v1/plans", headers=manager, json={
        "title": "x", "kpi": "ces", "units": ["s1"], "start_date": "2026-09-01"})) == \
        (422, "body.kpi")
    assert error(client.post("/api/v1/plans", headers=manager, json={
        "title": "x", "kpi": "nps", "units": ["s1"], "start_date": "2026-13-01"})) == \
        (422, "body.start_date")
    assert error(client.post("/api/v1/plans", headers=manager, json={
        "title": "x", "kpi": "nps", "units": ["s1"], "start_date": "2026-09-01",
        "tasks": [{"title": ""}]})) == (422, "body.tasks.0.title")
    assert error(client.post("/api/v1/plans", headers=manager, json={
        "title": "x", "kpi": "nps", "units": ["s1"], "start_date": "2026-09-01",
        "owner_email": "nobody@t.test"})) == (422, "owner")
    assert error(client.patch(url, headers=manager, json={"end_date": "2026-01-01"})) == \
        (422, "end_date")
    assert error(client.patch(url, headers=manager, json={"status": "paused"})) == \
        (422, "body.status")
    assert error(client.patch(url, headers=manager, json={"title": None})) == (422, "title")
    assert error(client.patch(url, headers=manager, json={"colour": "red"})) == \
        (422, "body.colour")
    assert error(client.patch(f"{url}/tasks/999999", headers=manager,
                              json={"status": "done"})) == (404, "task")
    assert error(client.patch(url, headers=manager, json={"units": ["nowhere"]}))[0] in \
        (404, 422)
