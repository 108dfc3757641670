"""The 3-day callback (回访): outcomes of a call and the recovery rate KPI."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tiyan.errors import InvalidInput

OUTCOMES = ("reached", "no_answer", "refused", "call_back")
CALLBACK_DAYS = 3


@dataclass(frozen=True)
class RecoveryRate:
    recovered: int
    reached: int  # tasks whose customer was reached and re-asked

    @property
    def rate(self) -> float | None:
        return self.recovered / self.reached if self.reached else None


def parse_outcome(outcome: str, recovered: bool | None) -> tuple[str, bool | None]:
    if outcome not in OUTCOMES:
        raise InvalidInput("callbacks.not_call_outcome", outcome=outcome,
                           outcomes=', '.join(OUTCOMES),
                           where="outcome")
    if outcome == "reached" and recovered is None:
        raise InvalidInput("callbacks.say_whether_customer_recovered",
                           where="recovered")
    return outcome, recovered if outcome == "reached" else None


def recovery_rate(task_results: Iterable[bool | None]) -> RecoveryRate:
    """Share of reached customers who are recovered; one value per task (its last reached call:
    True/False), None for tasks whose customer was never reached (left out)."""
    reached = recovered = 0
    for result in task_results:
        if result is None:
            continue
        reached += 1
        recovered += bool(result)
    return RecoveryRate(recovered, reached)
