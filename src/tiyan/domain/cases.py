"""Cases (工单): the status workflow, SLA policies and escalation up the hierarchy.

    new → acknowledged → in_progress → resolved → closed
    (resolved and closed cases may be reopened; reopening goes back to in_progress)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tiyan.errors import Conflict, InvalidInput, Phrase


class CaseStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


S = CaseStatus
TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.IN_PROGRESS}),
}
OPEN = frozenset({S.NEW, S.ACKNOWLEDGED, S.IN_PROGRESS})


def parse_status(value: str, where: str = "status") -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError:
        raise InvalidInput("cases.not_case_status", value=value,
                           statuses=", ".join(s.value for s in CaseStatus), where=where) from None


def _status(status: str) -> Phrase:
    return Phrase(f"cases.status.{status}")


def check_transition(current: CaseStatus, target: CaseStatus) -> str:
    """The event name of moving a case from `current` to `target`, or Conflict."""
    if target not in TRANSITIONS[current]:
        allowed = tuple(_status(s) for s in sorted(TRANSITIONS[current])) or _status("none")
        raise Conflict("cases.case_cannot_become_allowed", current=_status(current),
                       target=_status(target), allowed=allowed, where="status")
    if current in (S.RESOLVED, S.CLOSED) and target == S.IN_PROGRESS:
        return "reopened"
    return str(target)


# --- SLA --------------------------------------------------------------------------------------

class TimerKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CONTACT = "contact"
    CLOSE = "close"


# Which status change meets which timer.
MEETS: Mapping[CaseStatus, frozenset[TimerKind]] = {
    S.ACKNOWLEDGED: frozenset({TimerKind.ACKNOWLEDGE}),
    S.IN_PROGRESS: frozenset({TimerKind.ACKNOWLEDGE, TimerKind.CONTACT}),
    S.RESOLVED: frozenset(TimerKind),
    S.CLOSED: frozenset(TimerKind),
}


@dataclass(frozen=True)
class SlaTarget:
    hours: float
    working: bool  # counted in the unit's business hours, or around the clock


@dataclass(frozen=True)
class SlaPolicy:
    """Per rule: e.g. acknowledge within 4 working hours, first contact within 24 h, close
    within 3 days (72 h)."""

    targets: Mapping[TimerKind, SlaTarget]

    def to_json(self) -> dict[str, Any]:
        return {k.value: {"hours": v.hours, "working": v.working} for k, v in self.targets.items()}


DEFAULT_SLA = SlaPolicy({
    TimerKind.ACKNOWLEDGE: SlaTarget(4, True),
    TimerKind.CONTACT: SlaTarget(24, False),
    TimerKind.CLOSE: SlaTarget(72, False),
})


def parse_sla(raw: Any, where: str = "sla") -> SlaPolicy:
    if raw is None:
        return DEFAULT_SLA
    if not isinstance(raw, Mapping):
        raise InvalidInput("cases.expected_object_keyed_acknowledge", where=where)
    targets: dict[TimerKind, SlaTarget] = {}
    for key, body in raw.items():
        here = f"{where}.{key}"
        try:
            kind = TimerKind(key)
        except ValueError:
            raise InvalidInput("cases.unknown_timer_acknowledge_contact", v_key=key,
                               where=here) from None
        if not isinstance(body, Mapping) or set(body) - {"hours", "working"}:
            raise InvalidInput("cases.expected_hours_working_true", where=here)
        hours = body.get("hours")
        if isinstance(hours, bool) or not isinstance(hours, int | float) \
                or not 0 < hours <= 24 * 90:
            raise InvalidInput("cases.hours_must_number_above", where=here)
        working = body.get("working", False)
        if not isinstance(working, bool):
            raise InvalidInput("cases.working_must_true_false", where=here)
        targets[kind] = SlaTarget(float(hours), working)
    return SlaPolicy(targets)


def escalation_chain(unit_id: int, parent_of: Mapping[int, int | None]) -> list[int]:
    """The unit and its ancestors, nearest first (routing and escalation walk this list)."""
    chain: list[int] = []
    node: int | None = unit_id
    while node is not None and node not in chain:
        chain.append(node)
        node = parent_of.get(node)
    return chain


def escalation_ladder(above: Sequence[int], chain: Sequence[int],
                      holders: Mapping[str, Mapping[int, Sequence[int]]],
                      roles: Sequence[str], owner: int | None = None) -> list[tuple[int, int]]:
    """The (unit, user) each escalation level goes to, in order: the first role's holders at each
    unit `above` the case's owner, nearest first (one per unit: the lowest user id), then each
    further role's holders anywhere in `chain` (the CX manager, then the administrators), nearest
    first. A user appears once, at their first step, and the case's `owner` not at all; level k
    goes to step k, and levels past the end to the last step (the top)."""
    ladder: list[tuple[int, int]] = []
    seen: set[int] = {owner} if owner is not None else set()
    for index, role in enumerate(roles):
        for unit in (above if index == 0 else chain):
            users = [u for u in holders.get(role, {}).get(unit, ()) if u not in seen]
            if users:
                ladder.append((unit, min(users)))
                seen.add(min(users))
    return ladder


def escalation_step(ladder: Sequence[tuple[int, int]], level: int) -> tuple[int, int] | None:
    """Who escalation `level` (1 = the first) goes to; None when nobody is on the ladder."""
    if not ladder:
        return None
    return ladder[min(level, len(ladder)) - 1]


def pick_owner(chain: Sequence[int], holders: Mapping[int, Sequence[int]],
               skip_levels: int = 0) -> tuple[int, int] | None:
    """(unit, user) of the nearest unit in `chain` (after skipping `skip_levels` units that hold
    the role) where somebody holds the role; `holders` maps unit → user ids (lowest id first)."""
    skipped = 0
    for unit in chain:
        users = holders.get(unit)
        if not users:
            continue
        if skipped < skip_levels:
            skipped += 1
            continue
        return unit, min(users)
    return None


# Case notifications quote the customer's comment on a line of its own, after this word (by
# locale); erasing the comment removes that line from every stored notification.
COMMENT_LINE = {"zh-CN": "评论", "en": "Comment"}


def without_comment_lines(body: str) -> str:
    """A stored notification's text without the line that quotes the customer's comment."""
    prefixes = tuple(f"{word}: " for word in COMMENT_LINE.values())
    return "\n".join(line for line in body.split("\n") if not line.startswith(prefixes))

