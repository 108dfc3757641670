"""Phone surveys: what a call ends with, when to call again, and who is due for a call.

An agent calls a customer for a phone invitation. Each try is a call attempt with an outcome:

- completed     the customer answered the survey (recorded with the response itself)
- no_answer     nobody picked up: try again after 2 working hours, at most 3 unanswered tries
- busy          the line was busy: try again after 30 working minutes (counts as an unanswered try)
- refused       the customer does not want to take part: never call again
- wrong_number  the number does not reach this customer: never call again
- call_back     the customer asked to be called at a given time: due again at that time

Working time follows the unit's business calendar (`tiyan.domain.worktime`), so a "no answer"
at 17:30 on a Friday is due again on Monday morning, not at 19:30.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tiyan.domain.worktime import BusinessCalendar, add_working_time
from tiyan.errors import InvalidInput


class Outcome(StrEnum):
    COMPLETED = "completed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    CALL_BACK = "call_back"


# Tries where the customer was not reached; they count towards the limit.
UNREACHED = frozenset({Outcome.NO_ANSWER, Outcome.BUSY})
# Outcomes an agent records with the attempt form (completed comes with the answers).
ATTEMPT_OUTCOMES = (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.CALL_BACK, Outcome.REFUSED,
                    Outcome.WRONG_NUMBER)
# Invitation statuses after which nobody calls any more.
CLOSED_STATUSES = frozenset({"completed", "bounced", "failed", "refused", "expired",
                             "suppressed"})
MAX_NOTE = 2000


@dataclass(frozen=True)
class RetryPolicy:
    """When an unanswered call is tried again, and how often at most."""

    retry_after: Mapping[Outcome, dt.timedelta] = field(default_factory=lambda: {
        Outcome.NO_ANSWER: dt.timedelta(hours=2), Outcome.BUSY: dt.timedelta(minutes=30)})
    max_tries: int = 3
    max_callback_days: int = 30


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class NextStep:
    """What an attempt does to its invitation.

    `status` is the invitation's new status (None: unchanged, still on the worklist);
    `next_call_at` when it is due again (None: off the worklist); `reason` says why it closed.
    """

    status: str | None
    next_call_at: dt.datetime | None
    reason: str | None = None


def parse_outcome(value: str) -> Outcome:
    """An outcome an agent may record with an attempt; "completed" needs the survey answers."""
    if value == Outcome.COMPLETED:
        raise InvalidInput("calls.completed_call_recorded_submitting",
                           where="outcome")
    try:
        return Outcome(value)
    except ValueError:
        known = ", ".join(o.value for o in ATTEMPT_OUTCOMES)
        raise InvalidInput("calls.not_call_outcome", value=value, known=known,
                           where="outcome") from None


def check_callback_at(outcome: Outcome, callback_at: dt.datetime | None, now: dt.datetime,
                      policy: RetryPolicy = DEFAULT_POLICY) -> dt.datetime | None:
    """The agreed call-back time: required for call_back, in the future, within the limit."""
    if outcome != Outcome.CALL_BACK:
        return None
    if callback_at is None:
        raise InvalidInput("calls.say_when_call_back", where="callback_at")
    if callback_at.tzinfo is None:
        raise InvalidInput("calls.call_back_time_needs",
                           where="callback_at")
    if callback_at <= now:
        raise InvalidInput("calls.call_back_time_past", where="callback_at")
    if callback_at > now + dt.timedelta(days=policy.max_callback_days):
        raise InvalidInput("calls.call_back_time_more", max_callback_days=policy.max_callback_days,
                           where="callback_at")
    return callback_at.astimezone(dt.UTC)


def check_note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput("calls.note_longer_characters", max_note=MAX_NOTE, where="note")
    return text or None


def next_step(outcome: Outcome, *, unreached_before: int, now: dt.datetime,
              calendar: BusinessCalendar, callback_at: dt.datetime | None = None,
              policy: RetryPolicy = DEFAULT_POLICY) -> NextStep:
    """Where an invitation goes after an attempt with `outcome`.

    `unreached_before` counts the earlier no-answer/busy attempts of the same invitation.
    """
    if outcome == Outcome.COMPLETED:
        return NextStep("completed", None)
    if outcome == Outcome.REFUSED:
        return NextStep("refused", None, "refused")
    if outcome == Outcome.WRONG_NUMBER:
        return NextStep("failed", None, "wrong_number")
    if outcome == Outcome.CALL_BACK:
        if callback_at is None:
            raise InvalidInput("calls.say_when_call_back", where="callback_at")
        return NextStep(None, callback_at)
    if unreached_before + 1 >= policy.max_tries:
        return NextStep("failed", None, "unreached")
    return NextStep(None, add_working_time(now, policy.retry_after[outcome], calendar))


@dataclass(frozen=True)
class CallCandidate:
    """The facts about an invitation that decide whether it is on an agent's worklist."""

    channel: str
    status: str
    due_at: dt.datetime
    expires_at: dt.datetime
    unit_id: int
    customer_opted_out: bool = False
    survey_active: bool = True


def is_due(candidate: CallCandidate, now: dt.datetime, unit_ids: frozenset[int]) -> bool:
    """On the worklist: a phone invitation, still open, due, unexpired, in the agent's units,
    for a customer who has not opted out, of a survey that accepts responses."""
    return (candidate.channel == "phone" and candidate.status not in CLOSED_STATUSES
            and candidate.due_at <= now < candidate.expires_at
            and candidate.unit_id in unit_ids and not candidate.customer_opted_out
            and candidate.survey_active)
