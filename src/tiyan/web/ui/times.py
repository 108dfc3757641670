"""Times, dates and numbers as the viewer reads them.

The one rule for every page: a stored time (UTC) is shown in the **viewer's time zone** — the
zone of the viewer's home unit (`Scope.home_unit_id`: the unit of their widest grant), else the
installation's `TIYAN_TIMEZONE` — and written the way the viewer's language writes dates and
times (Babel, CLDR data). Pages name the zone once where times are listed (a column header such
as "时间（Asia/Shanghai）" or a note under the table), so no time is left to guessing.

Templates get a `when` object (see `render`): `when(x)` date and minute, `when.seconds(x)`,
`when.short(x)` (month, day and minute), `when.day(x)` (a date), `when.period(start, grain)`
(a dashboard bucket), `when.time(x)`, `when.zone`,
and `num(x)` for numbers, `money(amount, currency)` for amounts of money.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal, is_currency

from tiyan.context import Context
from tiyan.domain.access import Actor
from tiyan.store import tables as t


def viewer_timezone(ctx: Context, actor: Actor | None) -> str:
    """The viewer's time zone: their home unit's, else the installation's."""
    unit_id = actor.scope.home_unit_id if actor else None
    if unit_id is not None:
        with ctx.db.read() as conn:
            zone = conn.execute(sa.select(t.org_unit.c.timezone)
                                .where(t.org_unit.c.id == unit_id)).scalar()
        if zone:
            return str(zone)
    return ctx.settings.timezone


def babel_locale(locale: str) -> Locale:
    return Locale.parse(locale.replace("-", "_"))


class Times:
    """Formats stored times for one viewer: their zone, their language."""

    def __init__(self, zone: str, locale: str) -> None:
        self.zone = zone
        self._tz = ZoneInfo(zone)
        self._locale = babel_locale(locale)

    def local(self, value: dt.datetime) -> dt.datetime:
        """A stored time (aware, or naive UTC as SQLite returns it) in the viewer's zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self._tz)

    def __call__(self, value: dt.datetime | None) -> str:
        """Date and minute: "2026年12月6日 09:24", "Dec 6, 2026, 9:24 AM"."""
        if value is None:
            return ""
        local = self.local(value)
        return self._join(format_date(local, "medium", locale=self._locale),
                          format_time(local, "short", locale=self._locale))

    def seconds(self, value: dt.datetime | None) -> str:
        """Date and second, for logs: "2026年12月6日 09:24:07"."""
        if value is None:
            return ""
        return format_datetime(self.local(value), "medium", locale=self._locale)

    def short(self, value: dt.datetime | None) -> str:
        """Month, day and minute, for times close to now: "12月6日 09:24", "Dec 6, 9:24 AM"."""
        if value is None:
            return ""
        local = self.local(value)
        return self._join(format_skeleton("MMMd", local, locale=self._locale),
                          format_time(local, "short", locale=self._locale))

    def day(self, value: dt.datetime | dt.date | None) -> str:
        """A date: a stored time's local date, or a calendar date as it is."""
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = self.local(value)
        return format_date(value, "medium", locale=self._locale)

    def month(self, value: dt.date | None) -> str:
        """A month: "2026年12月", "Dec 2026"."""
        if value is None:
            return ""
        return format_skeleton("yMMM", value, locale=self._locale)

    def period(self, start: dt.date, grain: str, label: str = "") -> str:
        """A dashboard bucket by its first day: a day, "2026年11月" / "Nov 2026", "2026年第4季度"
        / "Q4 2026"; an ISO week keeps its ISO label ("2026-W47": locales number weeks
        differently)."""
        if grain == "month":
            return self.month(start)
        if grain == "quarter":
            return format_skeleton("yQQQ", start, locale=self._locale)
        if grain == "day":
            return self.day(start)
        return label or start.isoformat()

    def time(self, value: dt.datetime | None) -> str:
        """The local time of day: "09:24", "9:24 AM"."""
        if value is None:
            return ""
        return format_time(self.local(value), "short", locale=self._locale)

    def input_value(self, value: dt.datetime | None) -> str:
        """The value of a datetime-local field, in the viewer's zone ("2026-12-06T09:24")."""
        return self.local(value).strftime("%Y-%m-%dT%H:%M") if value else ""

    def _join(self, date: str, time: str) -> str:
        pattern = self._locale.datetime_formats["medium"]
        return str(pattern).replace("{1}", date).replace("{0}", time)


def number(value: int | float | Decimal | None, locale: str, digits: int | None = None) -> str:
    """A number with the language's grouping and decimal signs; `digits` fixes the decimals."""
    if value is None:
        return ""
    if digits is None:
        return format_decimal(value, locale=babel_locale(locale))
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=babel_locale(locale))


def money(value: int | float | Decimal | None, currency: str | None, locale: str) -> str:
    """An amount as the language writes it with its currency: ¥2,217.87 in Chinese, CN¥2,217.87
    in English for CNY; an amount without a currency is a plain number with two decimals."""
    if value is None:
        return ""
    if not currency:
        return number(value, locale, 2)
    if not is_currency(currency.upper()):  # not an ISO 4217 code: the amount, then as stored
        return f"{number(value, locale, 2)} {currency}"
    return format_currency(value, currency.upper(), locale=babel_locale(locale))
