"""Mainland China's public holidays and make-up working days (调休) per year, from the data
file shipped with tiyan (domain/data/cn_public_holidays.toml, one State Council notice a year;
the file's header names each notice). A year that is not in the file is refused: its dates are
only known once the State Council publishes them."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from tiyan.errors import InvalidInput


@dataclass(frozen=True)
class YearHolidays:
    year: int
    notice: str
    holidays: tuple[tuple[dt.date, str], ...]  # every day off, with the holiday's name
    workdays: tuple[tuple[dt.date, str], ...]  # weekend days that are worked


@cache
def _data() -> dict[str, Any]:
    text = resources.files("tiyan.domain").joinpath("data/cn_public_holidays.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)


def known_years() -> tuple[int, ...]:
    return tuple(sorted(int(year) for year in _data()))


def china_holidays(year: int) -> YearHolidays:
    raw = _data().get(str(year))
    if raw is None:
        years = ", ".join(str(y) for y in known_years())
        raise InvalidInput("holidays.tiyan_no_public_holidays", year=year, years=years,
                           where="year")
    days: list[tuple[dt.date, str]] = []
    for block in raw["holidays"]:
        day, last = dt.date.fromisoformat(block["from"]), dt.date.fromisoformat(block["to"])
        while day <= last:
            days.append((day, block["name"]))
            day += dt.timedelta(days=1)
    workdays = tuple((dt.date.fromisoformat(w["date"]), str(w["name"])) for w in raw["workdays"])
    return YearHolidays(year, str(raw["notice"]), tuple(days), workdays)
