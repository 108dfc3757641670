"""The link guard's judgement, its policy parsing and its device fingerprint."""

from __future__ import annotations

import pytest

from tiyan.domain.link_guard import (
    LinkPolicy,
    Seen,
    answers_digest,
    distinctive,
    fingerprint,
    judge,
    network_of,
    parse_policy,
)
from tiyan.errors import InvalidInput

KEY = b"k" * 32


def test_the_defaults_allow_one_answer_per_device_and_twenty_per_burst():
    policy = LinkPolicy()
    assert judge(policy, Seen()) == ()
    assert judge(policy, Seen(device=1, network=1)) == ("device",)
    assert judge(policy, Seen(network=1)) == ("network",)  # no cookie, same network and browser
    assert judge(policy, Seen(burst=19)) == ()
    assert judge(policy, Seen(burst=20)) == ("burst",)
    assert judge(policy, Seen(identical=1)) == ()
    assert judge(policy, Seen(network=3, burst=22, identical=2)) == ("network", "burst",
                                                                     "identical")


def test_a_limit_of_zero_turns_its_check_off():
    kiosk = LinkPolicy(device_limit=0, burst_limit=0)
    assert judge(kiosk, Seen(device=50, network=50, burst=50)) == ()
    assert judge(LinkPolicy(device_limit=3), Seen(device=2)) == ()
    assert judge(LinkPolicy(device_limit=3), Seen(device=3)) == ("device",)


def test_the_fingerprint_keeps_the_network_and_browser_not_the_address():
    assert network_of("198.51.100.23") == "198.51.100.0/24"
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert network_of("testclient") == "testclient"
    same = fingerprint(KEY, "198.51.100.23", "Mozilla/5.0 (iPhone)")
    assert same == fingerprint(KEY, "198.51.100.200", "Mozilla/5.0 (iPhone)")
    assert same != fingerprint(KEY, "198.51.101.23", "Mozilla/5.0 (iPhone)")
    assert same != fingerprint(KEY, "198.51.100.23", "Mozilla/5.0 (Android)")
    assert same != fingerprint(b"x" * 32, "198.51.100.23", "Mozilla/5.0 (iPhone)")
    assert "198.51" not in same and len(same) == 40


def test_only_answers_that_say_something_of_their_own_count_as_identical():
    assert not distinctive({"nps": 9, "again": 1})  # many people answer a short survey alike
    assert not distinctive({"nps": 9, "comment": "好"})
    assert distinctive({"nps": 9, "overall": 5, "again": 1})
    assert distinctive({"nps": 10, "comment": "服务很好，很满意"})


def test_the_answers_digest_ignores_key_order():
    assert answers_digest({"nps": 10, "c": "好"}) == answers_digest({"c": "好", "nps": 10})
    assert answers_digest({"nps": 10}) != answers_digest({"nps": 9})


def test_a_policy_out_of_range_names_its_field():
    assert parse_policy({"device_limit": "0", "burst_limit": 5}) == LinkPolicy(
        device_limit=0, burst_limit=5)
    for name, value in (("device_limit", "-1"), ("device_window_hours", "0"),
                        ("burst_window_minutes", "2000"), ("burst_limit", "many"),
                        ("device_limit", True)):
        with pytest.raises(InvalidInput) as error:
            parse_policy({name: value})
        assert error.value.where == name
