"""Working-time arithmetic in a unit's timezone, across evenings, weekends and holidays."""

import datetime as dt

import pytest

from tiyan.domain.worktime import (
    BusinessCalendar,
    add_working_time,
    calendar_json,
    parse_calendar,
    working_time_between,
)
from tiyan.errors import InvalidInput

SH = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no DST
CAL = BusinessCalendar()  # Mon–Fri 09:00–18:00 Asia/Shanghai


def sh(y: int, m: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def test_within_the_same_working_day() -> None:
    # Tuesday 2026-11-24 10:00 + 4 working hours = 14:00
    assert add_working_time(sh(2026, 11, 24, 10), hours(4), CAL) == sh(2026, 11, 24, 14)


def test_carries_over_the_evening() -> None:
    # Tuesday 16:00 + 4 h: 2 h today, 2 h from Wednesday 09:00
    assert add_working_time(sh(2026, 11, 24, 16), hours(4), CAL) == sh(2026, 11, 25, 11)


def test_starting_at_night_or_on_a_weekend_begins_at_opening() -> None:
    assert add_working_time(sh(2026, 11, 24, 23), hours(1), CAL) == sh(2026, 11, 25, 10)
    # Friday 17:00 + 4 h → Monday 12:00 (1 h Friday, 3 h Monday)
    assert add_working_time(sh(2026, 11, 27, 17), hours(4), CAL) == sh(2026, 11, 30, 12)
    assert add_working_time(sh(2026, 11, 28, 12), hours(4), CAL) == sh(2026, 11, 30, 13)


def test_holidays_are_skipped_and_make_up_workdays_count() -> None:
    cal = parse_calendar("Asia/Shanghai", {d: [["09:00", "12:00"], ["13:00", "18:00"]]
                                           for d in ("mon", "tue", "wed", "thu", "fri")},
                         holidays=["2026-10-01", "2026-10-02"], workdays=["2026-10-10"])
    # Wednesday 2026-09-30 17:00 + 3 h: 1 h Wednesday, then the holidays, weekend 3rd–4th,
    # resume Monday the 5th 09:00 → 11:00
    assert add_working_time(sh(2026, 9, 30, 17), hours(3), cal) == sh(2026, 10, 5, 11)
    # Saturday the 10th is a make-up workday (调休) with the weekday hours
    assert add_working_time(sh(2026, 10, 10, 8), hours(4), cal) == sh(2026, 10, 10, 14)
    # the lunch break does not count
    assert add_working_time(sh(2026, 10, 12, 11), hours(2), cal) == sh(2026, 10, 12, 14)


def test_result_is_utc_and_round_trips_with_working_time_between() -> None:
    start = sh(2026, 11, 27, 17)
    end = add_working_time(start, hours(13), CAL)
    assert end.tzinfo == dt.UTC
    assert working_time_between(start, end, CAL) == hours(13)
    assert working_time_between(end, start, CAL) == dt.timedelta()


def test_other_timezones_use_local_opening_hours() -> None:
    cal = BusinessCalendar(timezone="Europe/Berlin")
    start = dt.datetime(2026, 11, 24, 7, tzinfo=dt.UTC)  # 08:00 in Berlin
    assert add_working_time(start, hours(1), cal) == dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)


def test_calendar_parsing_names_the_bad_field() -> None:
    cal = parse_calendar("Asia/Shanghai", {"sat": [["10:00", "16:00"]]})
    assert parse_calendar(**calendar_json(cal)) == cal
    for args, where in [
        (("Mars/Base", {}), "calendar.timezone"),
        (("Asia/Shanghai", {"funday": []}), "calendar.hours"),
        (("Asia/Shanghai", {"mon": [["18:00", "09:00"]]}), "calendar.hours.mon[0]"),
        (("Asia/Shanghai", {"mon": [["9am", "18:00"]]}), "calendar.hours.mon[0]"),
    ]:
        with pytest.raises(InvalidInput) as err:
            parse_calendar(*args)
        assert err.value.where == where
    with pytest.raises(InvalidInput) as err:
        parse_calendar("Asia/Shanghai", {}, holidays=["October 1"])
    assert err.value.where == "calendar.holidays[0]"


def test_a_calendar_without_hours_is_an_error_not_a_hang() -> None:
    with pytest.raises(InvalidInput):
        add_working_time(sh(2026, 1, 1, 9), hours(1), BusinessCalendar(hours={}))
