"""The Invitations admin page: rules added, paused and removed through the form; invitations
listed with status and reason, each with its timeline; in Chinese and English; CSRF enforced."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.integration.conftest import sign_in
from tests.world import PASSWORD, World

FORM = {"name": "售后邮件", "event_type": "repair_order_closed", "survey": "test",
        "unit": "north", "channel": "email", "delay_minutes": "120", "expires_days": "14",
        "reminder_days": "3", "sampling_percent": "100", "quarantine_days": ""}


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_a_cx_manager_adds_pauses_and_removes_a_rule(client: TestClient, world: World) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/admin/invitations?lang=zh-CN")
    assert page.status_code == 200 and "还没有规则" in page.text and "这里还没有邀请" in page.text
    added = client.post("/admin/invitations/rules", data={**FORM, "csrf_token": csrf(page.text)},
                        follow_redirects=True)
    assert added.status_code == 200 and "repair_order_closed" in added.text
    assert "第 3 天提醒" in added.text and "启用" in added.text
    rule_id = re.search(r"/admin/invitations/rules/(\d+)/active", added.text).group(1)  # type: ignore[union-attr]
    paused = client.post(f"/admin/invitations/rules/{rule_id}/active",
                         data={"active": "0", "csrf_token": csrf(added.text)},
                         follow_redirects=True)
    assert "已暂停" in paused.text
    gone = client.post(f"/admin/invitations/rules/{rule_id}/delete",
                       data={"csrf_token": csrf(paused.text)}, follow_redirects=True)
    assert "还没有规则" in gone.text


def test_a_bad_rule_form_keeps_the_values_and_names_the_field(
        client: TestClient, world: World) -> None:
    sign_in(client, "cx@t.test", PASSWORD)
    page = client.get("/admin/invitations?lang=en")
    reply = client.post("/admin/invitations/rules",
                        data={**FORM, "reminder_days": "3, 30", "csrf_token": csrf(page.text)})
    assert reply.status_code == 422
    assert "reminder_days" in reply.text and 'value="3, 30"' in reply.text
    forged = client.post("/admin/invitations/rules", data={**FORM, "csrf_token": "forged"})
    assert forged.status_code == 403


def test_invitations_show_status_reason_and_timeline(client: TestClient, world: World) -> None:
    token = {"authorization": f"Bearer {world.tokens['admin@t.test']}"}
    body = {"survey": "test", "unit": "n1", "customer": world.customer_ids["n1"],
            "channel": "email"}
    made = client.post("/api/v1/invitations", json=body, headers=token).json()
    sign_in(client, "cx@t.test", PASSWORD)
    listing = client.get("/admin/invitations?lang=en&status=suppressed")
    assert "Not sent: no e-mail address or mobile number" in listing.text
    detail = client.get(f"/admin/invitations/{made['id']}?lang=en")
    assert detail.status_code == 200
    assert "Timeline" in detail.text and "created by hand or through the API" in detail.text
    assert "reason: no_contact" in detail.text


def test_the_page_is_for_those_who_manage_surveys(client: TestClient, world: World) -> None:
    sign_in(client, "mgr.n1@t.test", PASSWORD)
    assert client.get("/admin/invitations").status_code == 403
    home = client.get("/")
    assert "/admin/invitations" not in home.text
