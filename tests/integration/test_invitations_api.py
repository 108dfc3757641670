"""The invitation API: rules CRUD, business events (idempotent, bad input named), invitations
listed with their timeline, and the SMS provider's delivery reports."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.world import World
from tiyan.context import Context
from tiyan.services import jobs

RULE = {"name": "售后短信", "event_type": "repair_order_closed", "survey": "test",
        "unit": "north", "channel": "email", "delay_minutes": 120, "reminder_days": [3]}
EVENT: dict[str, Any] = {
    "id": "RO-0001", "type": "repair_order_closed", "unit": "n1", "staff": "n1-e1",
    "at": "2026-11-20T08:00:00Z",
    "customer": {"external_id": "C-001", "name": "李雷", "email": "li@example.test",
                 "phone": "13800139999", "language": "zh-CN"},
    "data": {"order": "RO-0001"}}
# A unit, survey or staff code that does not exist, or not among the caller's units: 404.
UNKNOWN_REFERENCES = ("unit", "survey", "staff")


def auth(world: World, email: str = "admin@t.test") -> dict[str, str]:
    return {"authorization": f"Bearer {world.tokens[email]}"}


def add_rule(client: TestClient, world: World, **changes: object) -> dict[str, Any]:
    reply = client.post("/api/v1/invitation-rules", json={**RULE, **changes}, headers=auth(world))
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def test_rules_are_created_read_changed_and_removed(client: TestClient, world: World) -> None:
    rule = add_rule(client, world)
    assert (rule["survey"], rule["unit"], rule["reminder_days"]) == ("test", "north", [3])
    changed = client.put(f"/api/v1/invitation-rules/{rule['id']}",
                         json={**RULE, "channel": "sms", "active": False}, headers=auth(world))
    assert changed.status_code == 200 and changed.json()["channel"] == "sms"
    assert not changed.json()["active"]
    listed = client.get("/api/v1/invitation-rules", headers=auth(world)).json()
    assert [r["id"] for r in listed] == [rule["id"]]
    gone = client.delete(f"/api/v1/invitation-rules/{rule['id']}", headers=auth(world))
    assert gone.status_code == 204
    missing = client.get(f"/api/v1/invitation-rules/{rule['id']}", headers=auth(world))
    assert missing.status_code == 404


@pytest.mark.parametrize(("change", "where"), [
    ({"channel": "fax"}, "channel"),
    ({"reminder_days": [3, 30]}, "reminder_days"),
    ({"sampling_percent": 0}, "sampling_percent"),
    ({"survey": "nope"}, "survey"),
    ({"unit": "nowhere"}, "unit"),
    ({"event_type": "Repair Order"}, "event_type"),
    ({"delay_minutes": "soon"}, "body.delay_minutes"),
    ({"colour": "red"}, "body.colour"),
])
def test_a_bad_rule_is_refused_naming_the_field(client: TestClient, world: World,
                                                change: dict[str, object], where: str) -> None:
    reply = client.post("/api/v1/invitation-rules", json={**RULE, **change}, headers=auth(world))
    assert reply.status_code == (404 if where in UNKNOWN_REFERENCES else 422), reply.text
    assert reply.json()["error"]["where"] == where


def test_rules_are_scoped_by_unit(client: TestClient, world: World) -> None:
    rule = add_rule(client, world)
    elsewhere = auth(world, "mgr.s1@t.test")  # a unit manager: no survey management at all
    assert client.get("/api/v1/invitation-rules", headers=elsewhere).status_code == 403
    cx = auth(world, "cx@t.test")  # CX manager of north
    assert [r["id"] for r in client.get("/api/v1/invitation-rules", headers=cx).json()] == \
        [rule["id"]]
    south = client.post("/api/v1/invitation-rules", json={**RULE, "unit": "south"}, headers=cx)
    assert south.status_code == 404


def test_an_event_creates_an_invitation_once_however_often_it_is_sent(
        client: TestClient, world: World) -> None:
    add_rule(client, world)
    first = client.post("/api/v1/events", json=EVENT, headers=auth(world))
    assert first.status_code == 201, first.text
    [made] = first.json()["invitations"]
    assert made["status"] == "queued" and made["send_at"].startswith("2026-11-20T10:00:00")
    again = client.post("/api/v1/events", json=EVENT, headers=auth(world))
    assert again.status_code == 200
    assert again.json()["duplicate"] and again.json()["invitations"] == [made]
    page = client.get("/api/v1/invitations", headers=auth(world)).json()
    assert [i["id"] for i in page["items"]] == [made["id"]]
    detail = client.get(f"/api/v1/invitations/{made['id']}", headers=auth(world)).json()
    assert detail["staff"] == "n1-e1" and detail["contact"] == "li@example.test"
    assert [s["status"] for s in detail["timeline"]] == ["queued"]


def test_an_event_without_a_matching_rule_is_stored_and_invites_nobody(
        client: TestClient, world: World) -> None:
    reply = client.post("/api/v1/events", json={**EVENT, "type": "car_sold"}, headers=auth(world))
    assert reply.status_code == 201 and reply.json()["invitations"] == []


@pytest.mark.parametrize(("change", "where"), [
    ({"type": 7}, "body.type"),
    ({"at": "yesterday"}, "body.at"),
    ({"at": "2026-11-20T08:00:00"}, "body.at"),  # no timezone
    ({"customer": "李雷"}, "body.customer"),
    ({"customer": {"name": "李雷"}}, "customer"),  # nothing to reach or recognise them by
    ({"customer": {"email": "not-an-address"}}, "customer.email"),
    ({"customer": {"phone": "call me"}}, "customer.phone"),
    ({"unit": "nowhere"}, "unit"),
    ({"touchpoint": "nowhere"}, "touchpoint"),
    ({"staff": "nobody"}, "staff"),
    ({"data": {"nested": {"a": 1}}}, "body.data.nested.str"),
    ({"extra": 1}, "body.extra"),
])
def test_bad_events_are_refused_naming_the_field_and_store_nothing(
        client: TestClient, world: World, ctx: Context, change: dict[str, object],
        where: str) -> None:
    add_rule(client, world)
    reply = client.post("/api/v1/events", json={**EVENT, **change}, headers=auth(world))
    assert reply.status_code == (404 if where in UNKNOWN_REFERENCES else 422), reply.text
    assert reply.json()["error"]["where"] == where
    assert client.get("/api/v1/invitations", headers=auth(world)).json()["items"] == []


def test_events_need_a_token_and_a_unit_in_scope(client: TestClient, world: World) -> None:
    assert client.post("/api/v1/events", json=EVENT).status_code == 401
    cx_north = auth(world, "cx@t.test")
    assert client.post("/api/v1/events", json={**EVENT, "unit": "s1"},
                       headers=cx_north).status_code == 404
    assert client.post("/api/v1/events", json=EVENT, headers=cx_north).status_code == 201


def test_one_invitation_created_by_hand_with_the_contact_rules_applied(
        client: TestClient, world: World) -> None:
    body = {"survey": "test", "unit": "n1", "customer": world.customer_ids["n1"],
            "channel": "sms", "reminder_days": [3]}
    made = client.post("/api/v1/invitations", json=body, headers=auth(world))
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "queued" and made.json()["contact"].startswith("+861380013")
    second = client.post("/api/v1/invitations", json=body, headers=auth(world)).json()
    assert (second["status"], second["reason"]) == ("suppressed", "quarantined")
    suppressed = client.get("/api/v1/invitations?status=suppressed", headers=auth(world)).json()
    assert [i["id"] for i in suppressed["items"]] == [second["id"]]
    by_mail = client.post("/api/v1/invitations", json={**body, "channel": "email"},
                          headers=auth(world)).json()
    assert by_mail["reason"] == "no_contact"  # this customer has a phone number only
    bad = client.post("/api/v1/invitations", json={**body, "customer": "nobody"},
                      headers=auth(world))
    assert bad.status_code == 404 and bad.json()["error"]["where"] == "customer"
    wrong = client.get("/api/v1/invitations?status=lost", headers=auth(world))
    assert wrong.status_code == 422 and wrong.json()["error"]["where"] == "status"


def test_the_sms_provider_reports_delivery_with_its_key(
        client: TestClient, world: World, ctx: Context) -> None:
    ctx.settings = ctx.settings.model_copy(update={"sms_callback_key": "cb-key"})
    body = {"survey": "test", "unit": "n1", "customer": world.customer_ids["n1"],
            "channel": "sms"}
    made = client.post("/api/v1/invitations", json=body, headers=auth(world)).json()
    form = {"reference": made["id"], "status": "DELIVRD", "operator": "CMCC"}
    assert client.post("/api/v1/channels/sms/status?key=wrong", data=form).status_code == 403
    reply = client.post("/api/v1/channels/sms/status?key=cb-key", data=form)
    assert reply.status_code == 200 and reply.json() == {"result": "delivered"}
    as_json = client.post("/api/v1/channels/sms/status?key=cb-key",
                          json={"reference": made["id"], "status": "queued-at-operator"})
    assert as_json.json() == {"result": "ignored"}
    missing = client.post("/api/v1/channels/sms/status?key=cb-key", data={"status": "x"})
    assert missing.status_code == 422 and missing.json()["error"]["where"] == "reference"
    unknown = client.post("/api/v1/channels/sms/status?key=cb-key",
                          data={"reference": "nope", "status": "DELIVRD"})
    assert unknown.status_code == 404
    detail = client.get(f"/api/v1/invitations/{made['id']}", headers=auth(world)).json()
    assert [s["status"] for s in detail["timeline"]] == ["queued", "delivered", "report"]
    assert detail["timeline"][1]["detail"]["operator"] == "CMCC"
    jobs.run_until_idle(ctx)  # no gateway configured: the send is retried, nothing breaks


def test_sms_reports_are_refused_while_no_key_is_configured(client: TestClient) -> None:
    reply = client.post("/api/v1/channels/sms/status", data={"reference": "x", "status": "y"})
    assert reply.status_code == 404


def test_a_phone_rule_puts_the_customer_on_the_agents_worklist(
        client: TestClient, world: World, ctx: Context) -> None:
    add_rule(client, world, channel="phone", delay_minutes=0)
    reply = client.post("/api/v1/events", json={**EVENT, "at": None}, headers=auth(world))
    [made] = reply.json()["invitations"]
    assert made["status"] == "queued"
    jobs.run_until_idle(ctx)  # nothing is sent: an agent calls
    detail = client.get(f"/api/v1/invitations/{made['id']}", headers=auth(world)).json()
    assert detail["status"] == "queued" and detail["contact"] == "+8613800139999"
    worklist = client.get("/api/v1/calls", headers=auth(world, "agent@t.test"))
    assert worklist.status_code == 200, worklist.text
    assert made["id"] in worklist.text


def test_ids_beyond_64_bits_are_refused_naming_the_parameter(client: TestClient,
                                                             world: World) -> None:
    huge = 2**63
    listed = client.get(f"/api/v1/invitations?rule={huge}", headers=auth(world))
    assert listed.status_code == 422 and listed.json()["error"]["where"] == "query.rule"
    got = client.get(f"/api/v1/invitation-rules/{huge}", headers=auth(world))
    assert got.status_code == 422 and got.json()["error"]["where"] == "path.rule_id"
