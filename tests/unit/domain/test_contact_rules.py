"""Contact rules (opt-out, contact, quarantine, sampling), rule validation, reminder schedule."""

import dataclasses
import datetime as dt

import pytest

from tiyan.domain.contact_rules import (
    ContactFacts,
    RuleSettings,
    Suppression,
    check_rule,
    next_reminder_at,
    parse_day_list,
    sampled_in,
    suppression,
)
from tiyan.errors import InvalidInput

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
RULE = RuleSettings(name="After-sales SMS", event_type="repair_order_closed", channel="sms",
                    delay_minutes=120, expires_days=14, reminder_days=(3,),
                    sampling_percent=100.0)


def facts(**changes: object) -> ContactFacts:
    base = ContactFacts(customer_key="c1", opted_out=False, contact="13800138000",
                        last_contacted_at=None)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_customer_who_opted_out_is_never_invited_even_when_otherwise_eligible():
    assert suppression(facts(opted_out=True), now=NOW, quarantine_days=0) is Suppression.OPTED_OUT


def test_a_customer_without_contact_for_the_channel_is_not_invited():
    assert suppression(facts(contact=None), now=NOW, quarantine_days=30) is Suppression.NO_CONTACT


def test_quarantine_holds_for_n_days_after_the_last_contact_across_surveys():
    yesterday = facts(last_contacted_at=NOW - dt.timedelta(days=1))
    long_ago = facts(last_contacted_at=NOW - dt.timedelta(days=31))
    assert suppression(yesterday, now=NOW, quarantine_days=30) is Suppression.QUARANTINED
    assert suppression(long_ago, now=NOW, quarantine_days=30) is None
    assert suppression(yesterday, now=NOW, quarantine_days=0) is None


def test_sampling_is_deterministic_per_customer_and_rule_and_near_the_percentage():
    keys = [f"customer-{i}" for i in range(4000)]
    first = [sampled_in("rule-7", k, 25.0) for k in keys]
    again = [sampled_in("rule-7", k, 25.0) for k in keys]
    assert first == again
    assert 0.22 < sum(first) / len(keys) < 0.28
    other_rule = [sampled_in("rule-8", k, 25.0) for k in keys]
    assert other_rule != first
    assert all(sampled_in("rule-7", k, 100.0) for k in keys[:50])


def test_sampled_out_is_reported_only_after_the_other_rules_pass():
    outside = next(f"c{i}" for i in range(1000) if not sampled_in("r", f"c{i}", 10.0))
    assert suppression(facts(customer_key=outside), now=NOW, quarantine_days=0, rule_key="r",
                       sampling_percent=10.0) is Suppression.SAMPLED_OUT
    assert suppression(facts(customer_key=outside, opted_out=True), now=NOW, quarantine_days=0,
                       rule_key="r", sampling_percent=10.0) is Suppression.OPTED_OUT


def test_a_valid_rule_passes_unchanged():
    assert check_rule(RULE) == RULE


@pytest.mark.parametrize(("change", "where"), [
    ({"name": " "}, "name"),
    ({"event_type": "Repair Order"}, "event_type"),
    ({"channel": "fax"}, "channel"),
    ({"delay_minutes": -5}, "delay_minutes"),
    ({"expires_days": 0}, "expires_days"),
    ({"reminder_days": (3, 3)}, "reminder_days"),
    ({"reminder_days": (20,)}, "reminder_days"),
    ({"sampling_percent": 0.0}, "sampling_percent"),
    ({"sampling_percent": 120.0}, "sampling_percent"),
    ({"quarantine_days": -1}, "quarantine_days"),
])
def test_a_bad_rule_is_refused_naming_the_field(change, where):
    with pytest.raises(InvalidInput) as error:
        check_rule(dataclasses.replace(RULE, **change))
    assert error.value.where == where


def test_reminders_follow_the_schedule_and_stop_at_expiry():
    sent = NOW
    expires = NOW + dt.timedelta(days=14)
    assert next_reminder_at(sent, (3, 7), 0, expires) == NOW + dt.timedelta(days=3)
    assert next_reminder_at(sent, (3, 7), 1, expires) == NOW + dt.timedelta(days=7)
    assert next_reminder_at(sent, (3, 7), 2, expires) is None
    assert next_reminder_at(sent, (3,), 0, NOW + dt.timedelta(days=2)) is None


def test_day_lists_are_parsed_with_clear_errors():
    assert parse_day_list("3, 7") == (3, 7)
    assert parse_day_list("3，7") == (3, 7)
    assert parse_day_list("") == ()
    with pytest.raises(InvalidInput):
        parse_day_list("three")
