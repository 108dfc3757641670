"""Times stored in UTC are shown as the wall-clock time of the unit's zone."""

import datetime as dt

from tiyan.web.ui.render import local_time


def test_utc_time_is_shown_in_the_given_zone() -> None:
    stored = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
    assert local_time(stored, "Asia/Shanghai") == "2026-11-21 07:30"
    assert local_time(stored, "Europe/Berlin", "%m-%d %H:%M") == "11-21 00:30"


def test_naive_times_are_taken_as_utc_and_none_is_empty() -> None:
    assert local_time(dt.datetime(2026, 6, 1, 12, 0), "Asia/Shanghai") == "2026-06-01 20:00"
    assert local_time(None, "Asia/Shanghai") == ""
