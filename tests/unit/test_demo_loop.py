"""The demo's case stories and their replay up to the end of the demo world: deterministic, in
business hours, and consistent with the workflow (a clock that has not run out is never met by
a case that did not move, a late clock escalates one step up at a time)."""

import datetime as dt
import random

from tiyan.demo.closed_loop import case_story, replay
from tiyan.domain.cases import parse_sla
from tiyan.domain.worktime import BusinessCalendar
from tiyan.services.cases import sla_due

CALENDAR = BusinessCalendar()  # Mon–Fri 09:00–18:00, Shanghai
MONDAY_10 = dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC)  # 10:00 in Shanghai
LADDER = [(2, 20), (1, 30), (1, 40)]  # (unit, user): region manager, CX manager, admin
OWNER, AGENT = 10, 11


def story(seed: int, opened: dt.datetime = MONDAY_10, nps: float = 3):
    return case_story(random.Random(seed), opened, nps, CALENDAR)


def play(steps, opened: dt.datetime, end: dt.datetime):
    due = sla_due(parse_sla(None), opened, CALENDAR)
    return replay(steps, opened=opened, due=due, end=end, owner=OWNER, actor=OWNER, agent=AGENT,
                  ladder=LADDER, opened_detail={}), due


def test_the_same_seed_tells_the_same_story_and_another_seed_another():
    assert story(5) == story(5)
    assert any(story(5) != story(seed) for seed in range(6, 12))


def test_a_story_runs_in_time_order_acknowledged_in_working_hours_and_ends_resolved():
    for seed in range(200):
        steps = story(seed, MONDAY_10 + dt.timedelta(hours=seed * 7))
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        ack = next(s for s in steps if s.kind == "acknowledged").at.astimezone(
            dt.timezone(dt.timedelta(hours=8)))
        assert ack.weekday() < 5 and 9 <= ack.hour < 18 or (ack.hour, ack.minute) == (18, 0)
        kinds = [s.kind for s in steps]
        assert kinds.count("resolved") == 1 and kinds.count("closed") <= 1
        reached = [s for s in steps if s.kind == "callback" and s.detail["outcome"] == "reached"]
        assert len(reached) == 1
        assert reached[0].detail["recovered"] == (reached[0].detail["satisfaction"] >= 7)


def test_a_story_replayed_to_its_end_meets_every_clock_and_matches_the_stamps():
    late = 0
    for seed in range(300):
        opened = MONDAY_10 + dt.timedelta(hours=seed * 5)
        steps = story(seed, opened)
        state, due = play(steps, opened, steps[-1].at + dt.timedelta(days=30))
        assert state.status in ("resolved", "closed")
        assert set(state.met) == set(due)  # resolving meets every clock
        assert state.acknowledged_at <= state.first_contact_at <= state.resolved_at
        assert state.task_done_at == state.first_contact_at
        for kind, at in state.breached.items():
            assert at == due[kind] < state.met[kind]  # escalated when it ran out, met later
        escalations = [e for e in state.events if e["kind"] == "escalated"]
        assert [e["detail"]["level"] for e in escalations] == list(range(1, len(escalations) + 1))
        assert [e["detail"]["to_user_id"] for e in escalations] == \
            [LADDER[min(i, len(LADDER) - 1)][1] for i in range(len(escalations))]
        assert state.escalation_level == len(escalations)
        assert [e["at"] for e in state.events] == sorted(e["at"] for e in state.events)
        assert state.updated_at == state.events[-1]["at"]
        late += bool(state.breached)
    assert 0.05 < late / 300 < 0.6  # some breaches, not most


def test_a_case_cut_off_by_the_end_of_the_demo_shows_only_what_happened_by_then():
    for seed in range(300):
        opened = MONDAY_10 + dt.timedelta(hours=seed * 3)
        steps = story(seed, opened)
        end = opened + (steps[-1].at - opened) * random.Random(seed).random()
        state, due = play(steps, opened, end)
        assert all(e["at"] <= end for e in state.events)
        assert state.updated_at == state.events[-1]["at"]
        assert all(at <= end for at in state.met.values())
        if state.status == "new":
            assert not state.met  # a new case never shows a clock as met
        for kind, at in due.items():
            if kind not in state.met:
                assert (kind in state.breached) == (at <= end)
        calls = [s for s in steps if s.kind == "callback" and s.at <= end]
        assert len(state.calls) == len(calls)


def test_a_stored_phone_is_shown_as_people_write_it_in_each_language():
    from tiyan.domain.contacts import display_phone

    assert display_phone("+8613812345678", "zh-CN") == "138 1234 5678"
    assert display_phone("+8613812345678", "en") == "+86 138 1234 5678"
    assert display_phone("+14155550123", "zh-CN") == "+1 415-555-0123"
    assert display_phone("138****5678", "en") == "138****5678"  # masked: as it is
    assert display_phone("not a phone", "en") == "not a phone"
