"""Invitation status only moves forward; links are signed and expire."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.world import build_world
from tiyan.security import new_public_id
from tiyan.services.links import (
    AnonymousTarget,
    LinkProblem,
    anonymous_url,
    invitation_url,
    read_anonymous_token,
    read_invitation_token,
)
from tiyan.store import tables as t
from tiyan.store.invitations import invitation_timeline, record_invitation_status


def test_anonymous_links_round_trip_and_refuse_tampering(ctx):
    target = AnonymousTarget(survey_id=3, unit_id=9, staff_id=4)
    token = anonymous_url(ctx, target).rsplit("/", 1)[1]
    assert read_anonymous_token(ctx, token) == target
    with pytest.raises(LinkProblem) as problem:
        read_anonymous_token(ctx, token[:-2] + "xx")
    assert problem.value.reason == "tampered"


def test_invitation_links_expire(ctx):
    expires = ctx.now() + dt.timedelta(days=14)
    token = invitation_url(ctx, "abc123", expires).rsplit("/", 1)[1]
    assert read_invitation_token(ctx, token) == "abc123"
    ctx.clock.advance(days=14)
    with pytest.raises(LinkProblem) as problem:
        read_invitation_token(ctx, token)
    assert problem.value.reason == "expired"


def test_invitation_status_moves_only_forward_and_logs_each_step(ctx):
    world = build_world(ctx)
    survey_id = world.survey_id
    now = ctx.now()
    with ctx.db.write() as conn:
        invitation_id = conn.execute(t.invitation.insert().values(
            public_id=new_public_id(), survey_id=survey_id, unit_id=world.unit_ids["n1"],
            channel="email", status="queued", data={}, created_at=now,
            expires_at=now + dt.timedelta(days=14))).inserted_primary_key[0]
        assert record_invitation_status(conn, invitation_id, "sent", now)
        assert record_invitation_status(conn, invitation_id, "opened", now)
        assert not record_invitation_status(conn, invitation_id, "sent", now)
        assert not record_invitation_status(conn, invitation_id, "opened", now)
        assert record_invitation_status(conn, invitation_id, "completed", now)
        assert not record_invitation_status(conn, invitation_id, "failed", now)
        steps = [event.status for event in invitation_timeline(conn, invitation_id)]
    assert steps == ["sent", "opened", "completed"]
