"""Phone surveys through /api/v1/calls: plan, log, complete once, reveal; unit scope."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.world import PASSWORD, World, token_for
from tiyan.services.accounts import do_create_user


def bearer(world: World, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def test_the_calls_api_plans_logs_completes_and_reveals(client: TestClient, world: World) -> None:
    agent = bearer(world, "agent@t.test")
    planned = client.post("/api/v1/calls", headers=agent, json={
        "survey": "test", "customer_id": world.customer_ids["n1"]})
    assert planned.status_code == 201, planned.text
    call = planned.json()
    assert call["phone_masked"].startswith("138****") and call["status"] == "queued"
    listed = client.get("/api/v1/calls", headers=agent).json()
    assert [c["id"] for c in listed["items"]] == [call["id"]]

    bad = client.post(f"/api/v1/calls/{call['id']}/attempts", headers=agent,
                      json={"outcome": "hung_up"})
    assert bad.status_code == 422 and bad.json()["error"]["where"] == "outcome"
    busy = client.post(f"/api/v1/calls/{call['id']}/attempts", headers=agent,
                       json={"outcome": "busy", "note": "占线"})
    assert busy.status_code == 201 and busy.json()["next_call_at"] is not None
    assert client.get("/api/v1/calls", headers=agent).json()["items"] == []

    first = client.post(f"/api/v1/calls/{call['id']}/response", headers=agent,
                        json={"answers": {"nps": 9, "overall": 5}})
    again = client.post(f"/api/v1/calls/{call['id']}/response", headers=agent,
                        json={"answers": {"nps": 9, "overall": 5}})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["response_id"] == again.json()["response_id"]
    detail = client.get(f"/api/v1/calls/{call['id']}", headers=agent).json()
    assert detail["status"] == "completed"
    assert [a["outcome"] for a in detail["attempt_log"]] == ["busy", "completed"]
    assert detail["attempt_log"][1]["response_id"] == first.json()["response_id"]
    response = client.get(f"/api/v1/responses/{first.json()['response_id']}",
                          headers=agent).json()
    assert response["channel"] == "phone"

    phone = client.post(f"/api/v1/calls/{call['id']}/phone", headers=agent)
    assert phone.status_code == 200 and phone.json()["phone"].startswith("+861380013")


def test_the_calls_api_is_scoped_to_the_agents_units(client: TestClient, world: World) -> None:
    do_create_user(world.ctx, None, email="agent.south@t.test", name="南区坐席",
                   password=PASSWORD, role="agent", unit_code="south")
    south = {"Authorization": f"Bearer {token_for(world.ctx, 'agent.south@t.test')}"}
    north_call = client.post("/api/v1/calls", headers=bearer(world, "agent@t.test"), json={
        "survey": "test", "customer_id": world.customer_ids["n1"]}).json()
    assert client.get("/api/v1/calls", headers=south).json()["items"] == []
    for method, path, body in (("get", "", None), ("post", "/attempts", {"outcome": "busy"}),
                               ("post", "/response", {"answers": {"nps": 1}}),
                               ("post", "/phone", None)):
        reply = client.request(method.upper(), f"/api/v1/calls/{north_call['id']}{path}",
                               headers=south, json=body)
        assert reply.status_code == 404, (path, reply.text)
    refused = client.post("/api/v1/calls", headers=south, json={
        "survey": "test", "customer_id": world.customer_ids["n1"]})
    assert refused.status_code == 404  # another unit's customer reads as no customer at all
    viewer = client.get("/api/v1/calls", headers=bearer(world, "viewer@t.test"))
    assert viewer.status_code == 403
