"""Who may be invited, when and how: invitation rules and contact rules.

An *invitation rule* says "when an event of this type happens at a unit of this subtree, invite
the customer to this survey over this channel, this long after the event; the link expires after
so many days; remind on these days after sending; invite only this percentage of customers".

*Contact rules* hold across all surveys and rules, in this order:

    opted_out     the customer opted out (or was erased): never contacted again
    no_contact    there is no e-mail address / mobile number for the channel
    quarantined   the customer was invited or answered a survey within the last N days
    sampled_out   the rule samples a percentage and this customer is outside it

Sampling is decided by a hash of (rule, customer), so a retried event or a second event for the
same customer under the same rule gets the same answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tiyan.errors import InvalidInput

CHANNELS = ("email", "sms", "phone")  # phone: a call on the agents' worklist
MAX_DELAY_MINUTES = 60 * 24 * 90
MAX_EXPIRY_DAYS = 365
MAX_REMINDERS = 5
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")


class Suppression(StrEnum):
    """Why an invitation was not sent (stored on the invitation and shown to admins)."""

    OPTED_OUT = "opted_out"
    NO_CONTACT = "no_contact"
    QUARANTINED = "quarantined"
    SAMPLED_OUT = "sampled_out"


@dataclass(frozen=True)
class RuleSettings:
    """The checked values of an invitation rule (what the API and the admin form edit)."""

    name: str
    event_type: str
    channel: str
    delay_minutes: int = 0
    expires_days: int = 14
    reminder_days: tuple[int, ...] = ()
    sampling_percent: float = 100.0
    quarantine_days: int | None = None
    active: bool = True


def check_rule(rule: RuleSettings) -> RuleSettings:
    """The rule, or InvalidInput naming the first field that is wrong and why."""
    if not rule.name.strip() or len(rule.name) > 200:
        raise InvalidInput("contact_rules.rule_name_characters", where="name")
    if not EVENT_TYPE.match(rule.event_type):
        raise InvalidInput("contact_rules.not_event_type_lower", event_type=rule.event_type,
                           where="event_type")
    check_channel(rule.channel)
    if not 0 <= rule.delay_minutes <= MAX_DELAY_MINUTES:
        raise InvalidInput("contact_rules.delay_must_minutes_days",
                           max_delay_minutes=MAX_DELAY_MINUTES,
                           where="delay_minutes")
    if not 1 <= rule.expires_days <= MAX_EXPIRY_DAYS:
        raise InvalidInput("contact_rules.link_must_expire_after", max_expiry_days=MAX_EXPIRY_DAYS,
                           where="expires_days")
    check_reminders(rule.reminder_days, rule.expires_days)
    if not 0 < rule.sampling_percent <= 100:
        raise InvalidInput("contact_rules.sampling_percentage_must_above",
                           where="sampling_percent")
    if rule.quarantine_days is not None and not 0 <= rule.quarantine_days <= 3650:
        raise InvalidInput("contact_rules.quarantine_must_days_empty",
                           where="quarantine_days")
    return rule


def check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput("common.not_channel", channel=channel, channels=", ".join(CHANNELS),
                           where="channel")
    return channel


def check_reminders(days: Sequence[int], expires_days: int) -> tuple[int, ...]:
    """Reminder days after sending: rising, each before the link expires, at most 5."""
    if len(days) > MAX_REMINDERS:
        raise InvalidInput("contact_rules.most_reminders", max_reminders=MAX_REMINDERS,
                           where="reminder_days")
    previous = 0
    for position, day in enumerate(days, start=1):
        if isinstance(day, bool) or not isinstance(day, int) or day <= previous:
            raise InvalidInput("contact_rules.reminder_days_after_sending", position=position,
                               where="reminder_days")
        if day >= expires_days:
            raise InvalidInput("contact_rules.reminder_day_comes_after", position=position,
                               day=day, expires_days=expires_days, where="reminder_days")
        previous = day
    return tuple(days)


def parse_day_list(text: str) -> tuple[int, ...]:
    """ "3, 7" → (3, 7); the admin form's reminder field."""
    parts = [p for p in re.split(r"[,，\s]+", text.strip()) if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise InvalidInput("contact_rules.not_list_days_such", text=text,
                           where="reminder_days") from None


# --- contact rules ------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactFacts:
    """What the contact rules need to know about one customer at one moment."""

    customer_key: str
    opted_out: bool
    contact: str | None
    last_contacted_at: dt.datetime | None


def sampled_in(rule_key: str, customer_key: str, percent: float) -> bool:
    """Whether this customer falls inside the rule's sample (the same answer every time)."""
    if percent >= 100:
        return True
    digest = hashlib.sha256(f"{rule_key}\x1f{customer_key}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64 * 100
    return position < percent


def suppression(facts: ContactFacts, *, now: dt.datetime, quarantine_days: int,
                rule_key: str | None = None, sampling_percent: float = 100.0
                ) -> Suppression | None:
    """Why this customer must not be invited now, or None when they may be."""
    if facts.opted_out:
        return Suppression.OPTED_OUT
    if not facts.contact:
        return Suppression.NO_CONTACT
    if quarantine_days > 0 and facts.last_contacted_at is not None and \
            facts.last_contacted_at > now - dt.timedelta(days=quarantine_days):
        return Suppression.QUARANTINED
    if rule_key is not None and not sampled_in(rule_key, facts.customer_key, sampling_percent):
        return Suppression.SAMPLED_OUT
    return None


# --- reminders ----------------------------------------------------------------------------

def next_reminder_at(sent_at: dt.datetime, reminder_days: Sequence[int], reminders_sent: int,
                     expires_at: dt.datetime) -> dt.datetime | None:
    """When the next reminder is due, or None when the schedule is done or the link expired."""
    if reminders_sent >= len(reminder_days):
        return None
    due = sent_at + dt.timedelta(days=reminder_days[reminders_sent])
    return due if due < expires_at else None


# --- contacts (their normal form: tiyan.domain.contacts) -------------------------------

def contact_kind(channel: str) -> str:
    """The customer identity kind a channel reaches (SMS and phone calls: the mobile number)."""
    return "email" if channel == "email" else "phone"
