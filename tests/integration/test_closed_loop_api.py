"""REST API of the closed loop: alert rules CRUD with precise errors, the scoped cases inbox."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.world import World
from tiyan.context import Context
from tiyan.services import jobs

RULE = {"name": "detractors", "unit_code": "hq",
        "condition": {"score": {"item": "nps", "op": "<=", "value": 6}},
        "action": {"kind": "case", "callback": True}}


def auth(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def test_alert_rule_crud_and_errors_say_what_and_where(client: TestClient, world: World) -> None:
    cx = auth(world, "admin@t.test")
    bad = client.post("/api/v1/alert-rules", headers=cx, json={
        **RULE, "condition": {"all": [RULE["condition"], {"sentiment": "furious"}]}})
    assert bad.status_code == 422
    assert bad.json()["error"]["where"] == "condition.all[1].sentiment"
    assert bad.json()["error"]["key"] == "alerts.not_sentiment"
    created = client.post("/api/v1/alert-rules", headers=cx, json={
        **RULE, "scope": {"surveys": ["test"]}})
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["scope"] == {"surveys": ["test"]}
    assert rule["sla"]["acknowledge"] == {"hours": 4.0, "working": True}
    rule_id = rule["id"]
    changed = client.put(f"/api/v1/alert-rules/{rule_id}", headers=cx,
                         json={**RULE, "name": "NPS ≤ 6", "active": False})
    assert changed.json()["name"] == "NPS ≤ 6" and changed.json()["active"] is False
    assert [r["id"] for r in client.get("/api/v1/alert-rules", headers=cx).json()] == [rule_id]
    # a store manager may not configure rules
    assert client.get("/api/v1/alert-rules", headers=auth(world, "mgr.n1@t.test")) \
        .status_code == 403
    assert client.delete(f"/api/v1/alert-rules/{rule_id}", headers=cx).json() == \
        {"deleted": True}
    assert client.get(f"/api/v1/alert-rules/{rule_id}", headers=cx).status_code == 404


def test_cases_inbox_is_scoped_and_the_workflow_is_enforced(
        ctx: Context, client: TestClient, world: World) -> None:
    assert client.post("/api/v1/alert-rules", headers=auth(world, "admin@t.test"),
                       json=RULE).status_code == 201
    jobs.run_until_idle(ctx)
    manager = auth(world, "mgr.n1@t.test")
    mine = client.get("/api/v1/cases", headers=manager, params={"mine": True}).json()
    assert [c["unit_code"] for c in mine] == ["n1-as"]
    everything = client.get("/api/v1/cases", headers=auth(world, "admin@t.test")).json()
    assert sorted(c["unit_code"] for c in everything) == ["n1-as", "n2", "s1"]
    other = next(c["id"] for c in everything if c["unit_code"] == "s1")
    assert client.get(f"/api/v1/cases/{other}", headers=manager).status_code == 404
    case = mine[0]["id"]
    refused = client.post(f"/api/v1/cases/{case}/status", headers=manager,
                          json={"status": "closed"})
    assert refused.status_code == 409 and refused.json()["error"]["where"] == "status"
    done = client.post(f"/api/v1/cases/{case}/status", headers=manager,
                       json={"status": "acknowledged", "note": "收到"}).json()
    assert done["status"] == "acknowledged"
    assert [e["kind"] for e in done["events"]] == ["opened", "acknowledged"]
    assert {x["kind"] for x in done["timers"] if x["met_at"]} == {"acknowledge"}
    assert client.post(f"/api/v1/cases/{case}/root-cause", headers=manager,
                       json={"code": "nope"}).json()["error"]["where"] == "root_cause"
    tasks = client.get("/api/v1/callbacks", headers=auth(world, "agent@t.test")).json()
    assert len(tasks) == 3
    assert client.post(f"/api/v1/callbacks/{tasks[0]['id']}/calls",
                       headers=auth(world, "agent@t.test"),
                       json={"outcome": "reached", "recovered": True}).status_code == 201
    assert client.get("/api/v1/kpis/recovery-rate", headers=auth(world, "agent@t.test")) \
        .json() == {"recovered": 1, "reached": 1, "rate": 1.0}
    pref = client.put("/api/v1/me/notifications", headers=manager,
                      json={"channel": "pager", "target": "https://x.test/h"})
    assert pref.status_code == 422 and pref.json()["error"]["where"] == "channel"
    set_up = client.put("/api/v1/me/notifications", headers=manager,
                        json={"channel": "email", "target": "alerts@t.test"})
    assert set_up.status_code == 200
    assert [p["channel"] for p in client.get("/api/v1/me/notifications",
                                             headers=manager).json()] == ["email"]
    assert client.delete("/api/v1/me/notifications/email", headers=manager).status_code == 204
    assert client.get("/api/v1/me/notifications", headers=manager).json() == []
    gone = client.delete("/api/v1/me/notifications/email", headers=manager)
    assert gone.status_code == 404 and gone.json()["error"]["where"] == "channel"
