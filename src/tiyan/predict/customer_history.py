"""What tiyan knows about one customer, as plain records: survey answers, negative aspect
mentions, cases, follow-up calls, complaints, transactions, tenure and products. Every time
must carry a time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from tiyan.predict.errors import InvalidCustomerHistory

Sentiment = Literal["negative", "neutral", "positive"]
CaseStatus = Literal["new", "acknowledged", "in_progress", "resolved", "closed"]
UNRESOLVED_STATUSES: frozenset[str] = frozenset({"new", "acknowledged", "in_progress"})
CASE_STATUSES: frozenset[str] = UNRESOLVED_STATUSES | {"resolved", "closed"}


def require_aware(moment: datetime, where: str) -> None:
    """Raise unless ``moment`` carries a time zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidCustomerHistory(f"{where}: {moment.isoformat()} has no time zone")


@dataclass(frozen=True)
class SurveyAnswer:
    """One survey response: NPS (0–10) and/or CSAT (1–5), either may be absent."""

    answered_at: datetime
    nps: int | None = None
    csat: int | None = None

    def __post_init__(self) -> None:
        require_aware(self.answered_at, "survey answer")
        if self.nps is not None and not 0 <= self.nps <= 10:
            raise InvalidCustomerHistory(f"survey answer: NPS {self.nps} is not in 0–10")
        if self.csat is not None and not 1 <= self.csat <= 5:
            raise InvalidCustomerHistory(f"survey answer: CSAT {self.csat} is not in 1–5")


@dataclass(frozen=True)
class AspectMention:
    """An aspect (e.g. 服务态度) the customer spoke about, with its sentiment."""

    mentioned_at: datetime
    aspect: str
    sentiment: Sentiment

    def __post_init__(self) -> None:
        require_aware(self.mentioned_at, f"aspect mention {self.aspect!r}")


@dataclass(frozen=True)
class CaseRecord:
    """A case (工单). ``resolved_at`` is set exactly when the status is resolved or closed."""

    opened_at: datetime
    status: CaseStatus
    resolved_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.opened_at, "case opened_at")
        if self.status not in CASE_STATUSES:
            raise InvalidCustomerHistory(
                f"case: status {self.status!r} is not one of {sorted(CASE_STATUSES)}"
            )
        if (self.resolved_at is None) != (self.status in UNRESOLVED_STATUSES):
            raise InvalidCustomerHistory(
                f"case opened {self.opened_at.isoformat()}: status {self.status!r} needs "
                f"resolved_at {'unset' if self.status in UNRESOLVED_STATUSES else 'set'}"
            )
        if self.resolved_at is not None:
            require_aware(self.resolved_at, "case resolved_at")

    def unresolved_at(self, moment: datetime) -> bool:
        """Opened by ``moment`` and not resolved by then."""
        return self.opened_at <= moment and (self.resolved_at is None or self.resolved_at > moment)


@dataclass(frozen=True)
class CallbackRecord:
    """A follow-up call (回访) and whether the customer was won back."""

    called_at: datetime
    recovered: bool

    def __post_init__(self) -> None:
        require_aware(self.called_at, "callback")


@dataclass(frozen=True)
class ComplaintRecord:
    received_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.received_at, "complaint")


@dataclass(frozen=True)
class TransactionRecord:
    """A purchase or visit with its amount; each one counts as a visit."""

    occurred_at: datetime
    amount: Decimal

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "transaction")


@dataclass(frozen=True)
class CustomerHistory:
    customer_since: datetime
    answers: list[SurveyAnswer] = field(default_factory=list)
    aspect_mentions: list[AspectMention] = field(default_factory=list)
    cases: list[CaseRecord] = field(default_factory=list)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    complaints: list[ComplaintRecord] = field(default_factory=list)
    transactions: list[TransactionRecord] = field(default_factory=list)
    products: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        require_aware(self.customer_since, "customer_since")
