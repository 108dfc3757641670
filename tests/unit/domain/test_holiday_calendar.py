"""Mainland China's public holidays from the shipped data file, and the SLA arithmetic across
them: holidays are closed, make-up working days (调休) count with a weekday's hours."""

import datetime as dt

import pytest

from tiyan.domain.holidays import china_holidays, known_years
from tiyan.domain.worktime import (
    BusinessCalendar,
    add_working_time,
    calendar_json,
    parse_calendar,
    working_time_between,
)
from tiyan.errors import InvalidInput

SH = dt.timezone(dt.timedelta(hours=8))
WEEK = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def sh(y: int, m: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


def china(year: int, hours: dict[str, list[list[str]]] | None = None) -> BusinessCalendar:
    data = china_holidays(year)
    return parse_calendar(
        "Asia/Shanghai", hours or WEEK,
        [{"date": d.isoformat(), "name": n} for d, n in data.holidays],
        [{"date": d.isoformat(), "name": n} for d, n in data.workdays])


def test_the_file_holds_the_notices_for_2025_and_2026() -> None:
    assert {2025, 2026} <= set(known_years())
    y2026 = china_holidays(2026)
    assert "2026" in y2026.notice and "国务院办公厅" in y2026.notice
    days = dict(y2026.holidays)
    # the notice's blocks: 3 + 9 + 3 + 5 + 3 + 3 + 7 days off
    assert len(days) == 33
    assert days[dt.date(2026, 2, 15)] == "春节" and days[dt.date(2026, 2, 23)] == "春节"
    assert days[dt.date(2026, 10, 7)] == "国庆节" and dt.date(2026, 10, 8) not in days
    assert [d for d, _ in y2026.workdays] == [
        dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 5, 9),
        dt.date(2026, 9, 20), dt.date(2026, 10, 10)]
    assert len(dict(china_holidays(2025).holidays)) == 1 + 8 + 3 + 5 + 3 + 8


@pytest.mark.parametrize("year", [2025, 2026])
def test_make_up_days_are_weekend_days_outside_the_holidays(year: int) -> None:
    data = china_holidays(year)
    holidays = {d for d, _ in data.holidays}
    for day, name in data.workdays:
        assert day.weekday() >= 5, (day, name)
        assert day not in holidays
        assert name.endswith("调休")
        assert day.year == year
    assert all(d.year == year for d in holidays)


def test_a_year_not_in_the_file_is_refused_with_the_years_it_has() -> None:
    with pytest.raises(InvalidInput) as caught:
        china_holidays(2031)
    assert "2031" in caught.value.message and "2026" in caught.value.message
    assert caught.value.where == "year"


def test_a_case_opened_before_national_day_is_due_after_the_holiday() -> None:
    cal = china(2026)
    # Wednesday 2026-09-30 17:00 + 8 working hours: 1 h that day, 1–7 October off,
    # 7 h from Thursday the 8th 09:00
    assert add_working_time(sh(2026, 9, 30, 17), dt.timedelta(hours=8), cal) == \
        sh(2026, 10, 8, 16)
    cal_2025 = china(2025)
    # 2025: Tuesday 30 September 17:00 + 2 h → Thursday 9 October 10:00 (1–8 October off)
    assert add_working_time(sh(2025, 9, 30, 17), dt.timedelta(hours=2), cal_2025) == \
        sh(2025, 10, 9, 10)


def test_a_make_up_sunday_counts() -> None:
    cal = china(2026)
    # Friday 2026-09-18 17:00 + 4 h: 1 h Friday, Saturday closed, Sunday the 20th is worked
    assert add_working_time(sh(2026, 9, 18, 17), dt.timedelta(hours=4), cal) == \
        sh(2026, 9, 20, 12)
    # 2025: Friday 26 September 17:00 + 4 h → Sunday 28 September 12:00 (调休)
    assert add_working_time(sh(2025, 9, 26, 17), dt.timedelta(hours=4), china(2025)) == \
        sh(2025, 9, 28, 12)
    assert working_time_between(sh(2026, 9, 19, 0), sh(2026, 9, 21, 0), cal) == \
        dt.timedelta(hours=9)


def test_a_make_up_saturday_keeps_the_weekday_hours_not_saturdays_half_day() -> None:
    cal = china(2026, {**WEEK, "sat": [["09:00", "12:00"]]})
    # an ordinary Saturday: 09:00–12:00
    assert add_working_time(sh(2026, 10, 17, 10), dt.timedelta(hours=4), cal) == \
        sh(2026, 10, 19, 11)
    # Saturday 2026-10-10 (国庆节调休): a full working day, 09:00–18:00
    assert add_working_time(sh(2026, 10, 10, 10), dt.timedelta(hours=6), cal) == \
        sh(2026, 10, 10, 16)
    # a holiday that falls on an open Saturday is closed
    assert cal.intervals(dt.date(2026, 10, 3)) == ()


def test_names_round_trip_and_plain_dates_still_parse() -> None:
    cal = parse_calendar("Asia/Shanghai", WEEK,
                         [{"date": "2026-10-01", "name": "国庆节"}, "2026-10-02"],
                         [{"date": "2026-10-10", "name": "国庆节调休"}])
    body = calendar_json(cal)
    assert body["holidays"] == [{"date": "2026-10-01", "name": "国庆节"},
                                {"date": "2026-10-02", "name": ""}]
    assert body["workdays"] == [{"date": "2026-10-10", "name": "国庆节调休"}]
    again = parse_calendar(body["timezone"], body["hours"], body["holidays"], body["workdays"])
    assert again == cal


@pytest.mark.parametrize(("hours", "holidays", "workdays", "where"), [
    ({"mon": [["25:00", "26:00"]]}, [], [], "calendar.hours.mon[0]"),
    ({"mon": [["18:00", "09:00"]]}, [], [], "calendar.hours.mon[0]"),
    (WEEK, [{"date": "2026-02-30", "name": "x"}], [], "calendar.holidays[0]"),
    (WEEK, [{"date": "2026-10-01", "name": "x" * 101}], [], "calendar.holidays[0].name"),
    (WEEK, ["2026-10-10"], ["2026-10-10"], "calendar.workdays"),
])
def test_bad_calendars_say_where(hours: dict[str, list[list[str]]], holidays: list[object],
                                 workdays: list[object], where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_calendar("Asia/Shanghai", hours, holidays, workdays)
    assert caught.value.where == where
