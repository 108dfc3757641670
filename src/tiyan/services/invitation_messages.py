"""The words of an invitation and its reminders, in Chinese and English.

E-mail: a subject and a plain-text body with the personal link, its expiry and the one-click
unsubscribe link (/u/{token}, also in the List-Unsubscribe header).
SMS: one short text (a Chinese SMS is billed per 70 characters; the link is most of it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tiyan.domain.moments import moment_text

LOCALES = ("zh-CN", "en")

_EMAIL_SUBJECT = {
    ("zh-CN", False): "邀请您评价：{survey}",
    ("zh-CN", True): "提醒：您对{unit}的评价还差一步",
    ("en", False): "How did we do? {survey}",
    ("en", True): "Reminder: tell {unit} how it went",
}
_EMAIL_BODY = {
    "zh-CN": ("{name}您好：\n\n感谢您选择{unit}。请花一两分钟告诉我们您的体验，"
              "您的意见将直接帮助我们改进服务。\n\n{link}\n\n"
              "此链接为您专属，仅可提交一次，有效期至 {expires}。\n"
              "如不希望再收到此类邀请，请点击退订：{unsubscribe}\n"),
    "en": ("Dear {name},\n\nThank you for choosing {unit}. Please take a minute or two to tell "
           "us how it went; your answers go straight to the people who can improve it.\n\n"
           "{link}\n\nThis link is yours alone, can be answered once and works until "
           "{expires}.\nTo stop receiving these invitations, unsubscribe here: "
           "{unsubscribe}\n"),
}
_SMS = {
    ("zh-CN", False): "【{unit}】感谢您的光临，请评价本次服务：{link} 回T退订",
    ("zh-CN", True): "【{unit}】提醒：您的评价还差一步：{link} 回T退订",
    ("en", False): "{unit}: thanks for your visit. How did we do? {link} Reply STOP to opt out",
    ("en", True): "{unit}: a reminder, your feedback counts: {link} Reply STOP to opt out",
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def pick_locale(*candidates: str | None) -> str:
    """The first candidate that names a language we write in ("zh", "zh-TW" → zh-CN)."""
    for candidate in candidates:
        if not candidate:
            continue
        lowered = candidate.lower()
        if lowered.startswith("zh"):
            return "zh-CN"
        if lowered.startswith("en"):
            return "en"
    return "zh-CN"


def localised(text: Mapping[str, Any] | None, locale: str, fallback: str) -> str:
    if not text:
        return fallback
    value = text.get(locale) or next((v for v in text.values() if v), None)
    return str(value) if value else fallback


def email_message(*, locale: str, reminder: bool, survey: str, unit: str, name: str | None,
                  link: str, expires_at: dt.datetime, unsubscribe: str,
                  zone: str = "Asia/Shanghai") -> Message:
    """`zone`: the inviting unit's time zone, in which the customer reads the expiry (they
    have no home unit of their own; the unit is where they were served)."""
    greeting = name or ("顾客" if locale == "zh-CN" else "customer")
    expires = moment_text(expires_at, zone, locale)
    subject = _EMAIL_SUBJECT[(locale, reminder)].format(survey=survey, unit=unit)
    body = _EMAIL_BODY[locale].format(name=greeting, unit=unit, link=link, expires=expires,
                                      unsubscribe=unsubscribe)
    return Message(subject, body)


def sms_text(*, locale: str, reminder: bool, unit: str, link: str) -> str:
    return _SMS[(locale, reminder)].format(unit=unit, link=link)
