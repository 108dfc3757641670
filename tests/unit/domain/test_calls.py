"""Phone survey outcomes, the retry policy in business hours, and who is due for a call."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tiyan.domain.calls import (
    CallCandidate,
    NextStep,
    Outcome,
    check_callback_at,
    check_note,
    is_due,
    next_step,
    parse_outcome,
)
from tiyan.domain.worktime import BusinessCalendar
from tiyan.errors import InvalidInput

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()  # Monday to Friday, 9:00-18:00 Shanghai time
THU_10 = dt.datetime(2026, 11, 19, 10, 0, tzinfo=SH)  # a Thursday


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_no_answer_is_tried_again_two_working_hours_later() -> None:
    step = next_step(Outcome.NO_ANSWER, unreached_before=0, now=THU_10, calendar=CAL)
    assert step == NextStep(None, at(19, 12))


def test_no_answer_late_in_the_day_carries_over_to_the_next_working_morning() -> None:
    friday_1730 = at(20, 17, 30)
    step = next_step(Outcome.NO_ANSWER, unreached_before=1, now=friday_1730, calendar=CAL)
    assert step.status is None
    assert step.next_call_at == at(23, 10, 30)  # Monday: 30 min on Friday + 1 h 30 on Monday


def test_busy_is_retried_sooner_and_counts_as_an_unanswered_try() -> None:
    step = next_step(Outcome.BUSY, unreached_before=0, now=THU_10, calendar=CAL)
    assert step.next_call_at == at(19, 10, 30)
    last = next_step(Outcome.BUSY, unreached_before=2, now=THU_10, calendar=CAL)
    assert last == NextStep("failed", None, "unreached")


def test_the_third_unanswered_try_gives_up() -> None:
    assert next_step(Outcome.NO_ANSWER, unreached_before=1, now=THU_10, calendar=CAL).status \
        is None
    assert next_step(Outcome.NO_ANSWER, unreached_before=2, now=THU_10, calendar=CAL) == \
        NextStep("failed", None, "unreached")


def test_refused_and_wrong_number_are_never_called_again() -> None:
    assert next_step(Outcome.REFUSED, unreached_before=0, now=THU_10, calendar=CAL) == \
        NextStep("refused", None, "refused")
    assert next_step(Outcome.WRONG_NUMBER, unreached_before=0, now=THU_10, calendar=CAL) == \
        NextStep("failed", None, "wrong_number")


def test_call_back_is_due_at_the_agreed_time_even_after_unanswered_tries() -> None:
    when = at(21, 19, 30)  # Saturday evening: the customer's choice, not business hours
    step = next_step(Outcome.CALL_BACK, unreached_before=2, now=THU_10, calendar=CAL,
                     callback_at=when)
    assert step == NextStep(None, when)


def test_a_completed_call_closes_the_invitation() -> None:
    assert next_step(Outcome.COMPLETED, unreached_before=2, now=THU_10, calendar=CAL) == \
        NextStep("completed", None)


def test_outcomes_are_checked_with_errors_that_name_the_field() -> None:
    assert parse_outcome("no_answer") is Outcome.NO_ANSWER
    with pytest.raises(InvalidInput) as bad:
        parse_outcome("hung_up")
    assert bad.value.where == "outcome" and "no_answer" in str(bad.value)
    with pytest.raises(InvalidInput, match="survey answers"):
        parse_outcome("completed")


def test_call_back_time_must_be_given_in_the_future_with_a_time_zone() -> None:
    now = THU_10.astimezone(dt.UTC)
    assert check_callback_at(Outcome.NO_ANSWER, None, now) is None
    ok = check_callback_at(Outcome.CALL_BACK, at(20, 15), now)
    assert ok == at(20, 15) and ok is not None and ok.tzinfo == dt.UTC
    for value, message in ((None, "say when"), (at(19, 9), "past"),
                           (dt.datetime(2026, 11, 20, 15), "time zone"),
                           (THU_10 + dt.timedelta(days=40), "30 days")):
        with pytest.raises(InvalidInput, match=message) as bad:
            check_callback_at(Outcome.CALL_BACK, value, now)
        assert bad.value.where == "callback_at"


def test_notes_are_trimmed_and_bounded() -> None:
    assert check_note("  rang twice ") == "rang twice"
    assert check_note("   ") is None
    with pytest.raises(InvalidInput) as bad:
        check_note("x" * 2001)
    assert bad.value.where == "note"


def candidate(**changes: object) -> CallCandidate:
    base: dict[str, object] = dict(channel="phone", status="queued", due_at=at(19, 9),
                                   expires_at=at(30, 9), unit_id=7)
    base.update(changes)
    return CallCandidate(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "due"), [
    ({}, True),
    ({"status": "started"}, True),
    ({"channel": "sms"}, False),
    ({"status": "completed"}, False),
    ({"status": "refused"}, False),
    ({"status": "failed"}, False),
    ({"due_at": at(19, 10, 1)}, False),
    ({"due_at": at(19, 10)}, True),
    ({"expires_at": at(19, 10)}, False),
    ({"unit_id": 8}, False),
    ({"customer_opted_out": True}, False),
    ({"survey_active": False}, False),
])
def test_which_invitations_are_due_on_the_worklist(changes: dict[str, object], due: bool) -> None:
    assert is_due(candidate(**changes), THU_10, frozenset({7})) is due
