"""SMS length: each SMS sent records its billed segments, and an SMS rule whose text would
exceed TIYAN_SMS_MAX_SEGMENTS is refused with an error naming the text that is too long."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.integration.channel_fixtures import SmsProvider, sms_provider
from tests.integration.test_invitations import add_rule, closed
from tests.integration.test_invitations_api import RULE, auth
from tests.world import World
from tiyan.context import Context
from tiyan.domain.sms_length import sms_length
from tiyan.errors import InvalidInput
from tiyan.services import jobs
from tiyan.store import tables as t
from tiyan.store.invitations import invitation_by_public_id, invitation_timeline

__all__ = ["sms_provider"]  # fixture used below


def test_each_sms_records_its_segments(ctx: Context, world: World,
                                       sms_provider: SmsProvider) -> None:
    add_rule(ctx, world, channel="sms", delay_minutes=0, reminder_days=(3,))
    [made] = closed(world, phone="13800139999")
    jobs.run_until_idle(ctx)
    ctx.clock.advance(days=3)  # type: ignore[attr-defined]
    jobs.run_until_idle(ctx)
    invitation, reminder = (form["content"] for form in sms_provider.forms)
    with ctx.db.read() as conn:
        row = invitation_by_public_id(conn, str(made["id"]))
        assert row is not None
        events = {e["status"]: e["detail"] for e in invitation_timeline(conn, row["id"])}
    assert events["sent"]["segments"] == sms_length(invitation).segments
    assert events["reminded"]["segments"] == sms_length(reminder).segments
    assert sms_length(invitation).encoding == "ucs2" and events["sent"]["segments"] >= 2


def test_an_sms_rule_longer_than_the_limit_is_refused_naming_the_text(
        ctx: Context, world: World) -> None:
    ctx.settings = ctx.settings.model_copy(update={"sms_max_segments": 2,
                                                   "public_url": "https://cx.example.com"})
    with pytest.raises(InvalidInput) as refused:
        add_rule(ctx, world, channel="sms")
    assert refused.value.where == "channel"
    assert "zh-CN SMS invitation" in refused.value.message
    assert "3 segments" in refused.value.message and "at most 2" in refused.value.message
    add_rule(ctx, world, channel="email")  # e-mail has no such limit
    ctx.settings = ctx.settings.model_copy(update={"sms_max_segments": 3})
    add_rule(ctx, world, channel="sms")
    long_name = "北京市朝阳区望京街道阜通东大街新能源汽车销售服务中心第二展厅" * 2
    with ctx.db.write() as conn:  # a long unit name below the rule's unit counts too
        conn.execute(sa.update(t.org_unit).where(t.org_unit.c.code == "n2")
                     .values(name_zh=long_name))
    with pytest.raises(InvalidInput, match="北京市朝阳区望京街道"):
        add_rule(ctx, world, channel="sms", name="another")


def test_the_api_refuses_a_too_long_sms_rule_on_create_and_update(
        ctx: Context, world: World, client: TestClient) -> None:
    ctx.settings = ctx.settings.model_copy(update={"sms_max_segments": 1})
    refused = client.post("/api/v1/invitation-rules", json={**RULE, "channel": "sms"},
                          headers=auth(world))
    assert refused.status_code == 422
    assert refused.json()["error"]["where"] == "channel"
    assert "TIYAN_SMS_MAX_SEGMENTS" in refused.json()["error"]["message"]
    made = client.post("/api/v1/invitation-rules", json=RULE, headers=auth(world)).json()
    changed = client.put(f"/api/v1/invitation-rules/{made['id']}",
                         json={**RULE, "channel": "sms"}, headers=auth(world))
    assert changed.status_code == 422 and changed.json()["error"]["where"] == "channel"
