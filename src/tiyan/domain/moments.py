"""A stored moment written for one reader outside a page (e-mails, chat messages): in their
time zone and language, with Babel (CLDR), naming the zone — "2026年12月6日 09:24（Asia/Shanghai）",
"Dec 6, 2026, 9:24 AM (Asia/Shanghai)". Pages use `tiyan.web.ui.times`, which writes the same
date and minute; a message names its zone each time, as it has no header to name it once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time


def moment_text(value: dt.datetime, zone: str, locale: str) -> str:
    """Date and minute of `value` (aware, or naive UTC) in `zone`, written in `locale`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(ZoneInfo(zone))
    babel_locale = Locale.parse(locale.replace("-", "_"))
    pattern = str(babel_locale.datetime_formats["medium"])
    text = (pattern.replace("{1}", format_date(local, "medium", locale=babel_locale))
            .replace("{0}", format_time(local, "short", locale=babel_locale)))
    return f"{text}（{zone}）" if locale == "zh-CN" else f"{text} ({zone})"
