"""Stored (UTC) times are shown in the viewer's zone and written as the viewer's language
writes dates and times; the viewer's zone is their home unit's."""

import datetime as dt

from tiyan.domain.access import Grant, Role, build_scope
from tiyan.web.ui.times import Times, money, number

STORED = dt.datetime(2026, 11, 20, 23, 30, 5, tzinfo=dt.UTC)


def test_a_stored_time_is_shown_in_the_viewers_zone_in_their_language() -> None:
    zh, en = Times("Asia/Shanghai", "zh-CN"), Times("Asia/Shanghai", "en")
    assert zh(STORED) == "2026年11月21日 07:30"
    assert en(STORED) == "Nov 21, 2026, 7:30\u202fAM"
    assert zh.seconds(STORED) == "2026年11月21日 07:30:05"
    assert zh.short(STORED) == "11月21日 07:30"
    assert en.short(STORED) == "Nov 21, 7:30\u202fAM"
    assert zh.day(STORED) == "2026年11月21日"  # the local date, a day after the UTC one
    assert en.day(dt.date(2026, 11, 20)) == "Nov 20, 2026"  # a calendar date as it is
    assert zh.month(dt.date(2026, 11, 1)) == "2026年11月"
    assert Times("Europe/Berlin", "zh-CN").time(STORED) == "00:30"


def test_naive_times_are_taken_as_utc_and_none_is_empty() -> None:
    zh = Times("Asia/Shanghai", "zh-CN")
    assert zh(dt.datetime(2026, 6, 1, 12, 0)) == "2026年6月1日 20:00"
    assert zh.input_value(dt.datetime(2026, 6, 1, 12, 0)) == "2026-06-01T20:00"
    assert zh(None) == zh.day(None) == zh.seconds(None) == zh.input_value(None) == ""


def test_numbers_follow_the_language() -> None:
    assert number(12345.678, "zh-CN", 1) == "12,345.7"
    assert number(12345, "en") == "12,345"
    assert number(None, "en") == ""


def test_amounts_of_money_follow_the_language_and_name_their_currency() -> None:
    from decimal import Decimal

    assert money(Decimal("2217.87"), "CNY", "zh-CN") == "¥2,217.87"
    assert money(Decimal("2217.87"), "cny", "en") == "CN¥2,217.87"
    assert money(1234.5, None, "en") == "1,234.50"
    assert money(5, "points", "en") == "5.00 points"  # not a currency code: kept as stored
    assert money(None, "CNY", "en") == ""


def test_the_home_unit_is_the_widest_grant() -> None:
    parent_of = {1: None, 2: 1, 3: 2, 4: 2, 5: 1}
    scope = build_scope(9, [Grant(Role.FRONTLINE, 3), Grant(Role.UNIT_MANAGER, 2)], parent_of)
    assert scope.home_unit_id == 2
    assert build_scope(9, [Grant(Role.AGENT, 5), Grant(Role.AGENT, 3)], parent_of).home_unit_id == 3
    assert build_scope(9, [], parent_of).home_unit_id is None
