"""Phone surveys on SQLite and PostgreSQL: worklist scope, retries in business hours, call-backs,
refusals, opt-out, and a completed call stored once with channel phone and the agent."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.world import PASSWORD, World
from tiyan.domain.calls import CallCandidate, is_due
from tiyan.errors import Conflict, InvalidInput, NotFound
from tiyan.services import calls
from tiyan.services.accounts import do_create_user
from tiyan.store import calls as store
from tiyan.store import tables as t
from tiyan.store.invitations import invitation_timeline

# The test clock starts at 2026-11-20 10:00 UTC: Friday 18:00 in Shanghai, closing time.
MONDAY_11_SH = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def north_agent(world: World):  # type: ignore[no-untyped-def]
    do_create_user(world.ctx, None, email="agent.north@t.test", name="北区坐席",
                   password=PASSWORD, role="agent", unit_code="north")
    return world.actor("agent.north@t.test")


def schedule(world: World, store_code: str, **kwargs: object) -> str:
    return calls.do_schedule_call(world.ctx, world.actor("agent@t.test"), survey_code="test",
                                  customer_id=world.customer_ids[store_code], **kwargs)  # type: ignore[arg-type]


def due_ids(world: World, actor) -> list[str]:  # type: ignore[no-untyped-def]
    with world.ctx.db.read() as conn:
        return [r["public_id"] for r in store.worklist(conn, actor, world.ctx.now())]


def invitation(world: World, public_id: str) -> sa.RowMapping:
    with world.ctx.db.read() as conn:
        return conn.execute(sa.select(t.invitation).where(t.invitation.c.public_id == public_id)
                            ).mappings().one()


def test_worklist_shows_only_due_calls_in_the_agents_units(world: World, north_agent) -> None:
    n1, s1 = schedule(world, "n1"), schedule(world, "s1")
    later = schedule(world, "n2", due_at=world.ctx.now() + dt.timedelta(hours=3))
    hq_agent = world.actor("agent@t.test")
    assert due_ids(world, hq_agent) == [n1, s1]
    assert due_ids(world, north_agent) == [n1]
    assert due_ids(world, world.actor("mgr.n1@t.test")) == []  # no ENTER_RESPONSES
    with world.ctx.db.read() as conn:
        assert store.upcoming_count(conn, north_agent, world.ctx.now()) == 1
        with pytest.raises(NotFound):
            store.get_call(conn, north_agent, s1)
    with pytest.raises(NotFound):
        calls.do_record_attempt(world.ctx, north_agent, s1, outcome="no_answer")
    world.ctx.clock.advance(hours=3)  # type: ignore[attr-defined]
    assert due_ids(world, north_agent) == [n1, later]


def test_the_worklist_agrees_with_the_domain_rule(world: World) -> None:
    ids = [schedule(world, code) for code in ("n1", "n2", "s1")]
    schedule(world, "n1", due_at=world.ctx.now() + dt.timedelta(minutes=1))
    agent = world.actor("agent@t.test")
    calls.do_record_attempt(world.ctx, agent, ids[1], outcome="refused")
    with world.ctx.db.write() as conn:
        conn.execute(sa.update(t.customer).where(
            t.customer.c.public_id == world.customer_ids["s1"]).values(
            opted_out_at=world.ctx.now()))
    now = world.ctx.now()
    units = agent.scope.visibility(store.PERMISSION).unit_ids
    with world.ctx.db.read() as conn:
        rows = conn.execute(store._call_query()).mappings().all()
        expected = [r["public_id"] for r in rows if is_due(CallCandidate(
            channel=r["channel"], status=r["status"], due_at=r["due_at"],
            expires_at=r["expires_at"], unit_id=r["unit_id"],
            customer_opted_out=r["customer_opted_out_at"] is not None,
            survey_active=r["survey_status"] == "active"), now, units)]
    assert len(rows) == 4
    assert due_ids(world, agent) == expected == [ids[0]]


def test_no_answer_is_retried_in_business_hours_and_given_up_after_three_tries(
        world: World) -> None:
    agent = world.actor("agent@t.test")
    call = schedule(world, "n1")
    first = calls.do_record_attempt(world.ctx, agent, call, outcome="no_answer", note="响铃无人接")
    assert first.next_call_at == MONDAY_11_SH  # Friday 18:00 → Monday 9:00 + 2 h
    assert first.status == "queued"
    assert due_ids(world, agent) == []
    world.ctx.clock.now = MONDAY_11_SH  # type: ignore[attr-defined]
    assert due_ids(world, agent) == [call]
    second = calls.do_record_attempt(world.ctx, agent, call, outcome="busy")
    assert second.next_call_at == MONDAY_11_SH + dt.timedelta(minutes=30)
    world.ctx.clock.advance(minutes=30)  # type: ignore[attr-defined]
    third = calls.do_record_attempt(world.ctx, agent, call, outcome="no_answer")
    assert (third.status, third.next_call_at) == ("failed", None)
    row = invitation(world, call)
    assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "unreached")
    world.ctx.clock.advance(days=1)  # type: ignore[attr-defined]
    assert due_ids(world, agent) == []
    with pytest.raises(Conflict, match="closed"):
        calls.do_record_attempt(world.ctx, agent, call, outcome="no_answer")
    with world.ctx.db.read() as conn:
        attempts = store.attempts_of(conn, row["id"])
        steps = [e.status for e in invitation_timeline(conn, row["id"])]
    assert [a["outcome"] for a in attempts] == ["no_answer", "busy", "no_answer"]
    assert attempts[0]["note"] == "响铃无人接" and attempts[0]["agent_name"] == "agent"
    assert steps == ["queued", "call", "call", "failed"]


def test_refused_is_never_called_again_and_call_back_is_due_at_the_agreed_time(
        world: World) -> None:
    agent = world.actor("agent@t.test")
    refused, later = schedule(world, "n1"), schedule(world, "s1")
    assert calls.do_record_attempt(world.ctx, agent, refused, outcome="refused").status == \
        "refused"
    when = world.ctx.now() + dt.timedelta(hours=26)  # Saturday 20:00 in Shanghai
    result = calls.do_record_attempt(world.ctx, agent, later, outcome="call_back",
                                     callback_at=when)
    assert result.next_call_at == when
    assert due_ids(world, agent) == []
    world.ctx.clock.now = when  # type: ignore[attr-defined]
    assert due_ids(world, agent) == [later]
    with world.ctx.db.read() as conn:
        attempt = store.attempts_of(conn, invitation(world, later)["id"])[0]
    assert attempt["callback_at"] == when


def test_bad_attempts_get_clear_errors_and_change_nothing(world: World) -> None:
    agent = world.actor("agent@t.test")
    call = schedule(world, "n1")
    for kwargs, where in (({"outcome": "hung_up"}, "outcome"),
                          ({"outcome": "completed"}, "outcome"),
                          ({"outcome": "call_back"}, "callback_at"),
                          ({"outcome": "call_back", "callback_at": world.ctx.now()},
                           "callback_at"),
                          ({"outcome": "busy", "note": "x" * 3000}, "note")):
        with pytest.raises(InvalidInput) as bad:
            calls.do_record_attempt(world.ctx, agent, call, **kwargs)  # type: ignore[arg-type]
        assert bad.value.where == where
    with pytest.raises(NotFound):
        calls.do_record_attempt(world.ctx, agent, "nope", outcome="busy")
    row = invitation(world, call)
    assert (row["status"], row["attempts"]) == ("queued", 0)


def test_an_opted_out_customer_is_neither_planned_nor_called(world: World) -> None:
    agent = world.actor("agent@t.test")
    call = schedule(world, "n1")
    with world.ctx.db.write() as conn:
        conn.execute(sa.update(t.customer).where(
            t.customer.c.public_id == world.customer_ids["n1"]).values(
            opted_out_at=world.ctx.now()))
    assert due_ids(world, agent) == []
    with pytest.raises(Conflict, match="opted out"):
        calls.do_record_attempt(world.ctx, agent, call, outcome="no_answer")
    with pytest.raises(InvalidInput, match="opted out"):
        schedule(world, "n1")


def test_a_completed_call_is_a_phone_response_by_the_agent_stored_once(world: World) -> None:
    agent = world.actor("agent@t.test")
    call = schedule(world, "n1")
    calls.do_record_attempt(world.ctx, agent, call, outcome="no_answer")
    world.ctx.clock.now = MONDAY_11_SH  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as bad:
        calls.do_complete_call(world.ctx, agent, call, answers={"overall": 4})
    assert bad.value.where == "answers.nps"
    with pytest.raises(InvalidInput) as unknown:
        calls.do_complete_call(world.ctx, agent, call, answers={"nps": 3, "nope": 1})
    assert unknown.value.where == "answers.nope"
    assert invitation(world, call)["status"] == "queued"

    answers = {"nps": 5, "why": "等了两个小时 😤", "overall": 3}
    first = calls.do_complete_call(world.ctx, agent, call, answers=answers, note="客户很配合")
    again = calls.do_complete_call(world.ctx, agent, call, answers={"nps": 10})
    assert first.created and not again.created and again.public_id == first.public_id
    row = invitation(world, call)
    assert (row["status"], row["next_call_at"]) == ("completed", None)
    assert row["completed_at"] == MONDAY_11_SH
    with world.ctx.db.read() as conn:
        response = conn.execute(sa.select(t.response).where(
            t.response.c.public_id == first.public_id)).mappings().one()
        stored = dict(conn.execute(sa.select(t.answer.c.question_key, t.answer.c.value_num)
                                   .where(t.answer.c.response_id == response["id"])).all())
        count = conn.execute(sa.select(sa.func.count()).select_from(t.response)
                             .where(t.response.c.invitation_id == row["id"])).scalar_one()
        attempts = store.attempts_of(conn, row["id"])
        jobs = conn.execute(sa.select(t.job.c.kind)).scalars().all()
    assert count == 1
    assert (response["channel"], response["agent_user_id"]) == ("phone", agent.user_id)
    assert response["customer_id"] == row["customer_id"] and response["unit_id"] == row["unit_id"]
    assert stored["nps"] == 5 and stored["overall"] == 3
    assert [(a["outcome"], a["response_public_id"]) for a in attempts] == [
        ("no_answer", None), ("completed", first.public_id)]
    assert attempts[1]["note"] == "客户很配合"
    assert "response.arrived" in jobs  # which queues text analysis, aggregates and webhooks
    assert due_ids(world, agent) == []


def test_a_north_agent_cannot_complete_or_reveal_a_south_call(world: World, north_agent) -> None:
    call = schedule(world, "s1")
    with pytest.raises(NotFound):
        calls.do_complete_call(world.ctx, north_agent, call, answers={"nps": 9})
    with pytest.raises(NotFound):
        calls.do_reveal_phone(world.ctx, north_agent, call)
    number = calls.do_reveal_phone(world.ctx, world.actor("agent@t.test"), call)
    assert number.startswith("+861380013")
    with world.ctx.db.read() as conn:
        actions = conn.execute(sa.select(t.audit_log.c.action, t.audit_log.c.entity_id)).all()
    assert ("reveal_phone", call) in actions
