"""Language detection for customer comments: "zh", "en" or "other".

Runs on every comment, so it only counts characters by script and, for Latin text, checks a few
English stop-words. No model, no download.

- Han characters dominate (counted as ~1.5 characters per word) → "zh".
- Japanese kana or Korean hangul in real quantity → "other", even next to Han characters.
- Latin letters dominate and nothing says another language (its stop-words outnumber English ones,
  or many words carry accents) → "en".
- Nothing to read (emoji, digits, punctuation only) or another script → "other".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tiyan.text.redact import PLACEHOLDERS

ZH = "zh"
EN = "en"
OTHER = "other"

HAN_CHARS_PER_WORD = 1.5
MIN_KANA_SHARE = 0.25
MIN_HANGUL_SHARE = 0.3

_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:'[A-Za-z]+)?")
_KANA_MARKS = frozenset((0x30FB, 0x30FC, 0x30FD, 0x30FE, 0xFF70))
_ACCENTED = re.compile(r"[\u00c0-\u024f]")
_NOT_LANGUAGE = re.compile(
    r"https?://[!-~]+|www\.[!-~]+|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+|[@#][A-Za-z0-9_]+|"
    + "|".join(re.escape(placeholder) for placeholder in PLACEHOLDERS.values())
)

_ENGLISH_STOP_TEXT = """
    a an the and or but if of to in on at for with from by about as into over after before is
    are was were be been being am do does did done have has had will would can could should may
    might must shall not no nor very too so than then there here this that these those it its i
    me my we our you your he him his she her they them their what which who whom when where why
    how all any some more most much many just only also again ever never still yet up down out
    off ok okay thanks thank please good great bad terrible awful nice poor service staff room
    food
"""
ENGLISH_STOP_WORDS = frozenset(_ENGLISH_STOP_TEXT.split())

# Frequent function words of other Latin-script languages; they outvote English ones.
_OTHER_LATIN_STOP_TEXT = """
    le la les des du une est et pas pour dans avec sur qui que très mais nous vous ils elle der
    die das und ist nicht ein eine mit für auf sehr aber wir sie ich zu den dem el los las del
    que es y en por con para una muy pero está son lo mi il di che è per non gli della sono
    molto ma con o os um uma não com para muito mas são de het een en niet van ik je
"""
OTHER_LATIN_STOP_WORDS = frozenset(_OTHER_LATIN_STOP_TEXT.split())


@dataclass(frozen=True)
class ScriptCounts:
    """How many characters of each script a text holds."""

    han: int = 0
    kana: int = 0
    hangul: int = 0
    latin: int = 0
    other_letters: int = 0


_HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002a6df]+")


def detect_language(text: str) -> str:
    """Return "zh", "en" or "other" for one comment."""
    if "@" in text or "#" in text or "http" in text or "www." in text or "[" in text:
        text = _NOT_LANGUAGE.sub(" ", text)  # links, @handles, #tags, emails, PII placeholders
    counts = count_scripts(text)
    if _looks_japanese_or_korean(counts):
        return OTHER
    han_words = counts.han / HAN_CHARS_PER_WORD
    latin_words = _LATIN_WORD.findall(text) if counts.latin else []
    if counts.han and han_words >= len(latin_words) and counts.han >= counts.other_letters:
        return ZH
    if latin_words and counts.latin >= counts.other_letters:
        return EN if _looks_english(latin_words) else OTHER
    if counts.han and counts.han >= counts.other_letters:
        return ZH
    return OTHER


def count_scripts(text: str) -> ScriptCounts:
    """Count letters per script; digits, punctuation, symbols and emoji are not counted."""
    rest = _HAN.sub("", text)  # Han characters counted in one pass of the regex engine
    han = len(text) - len(rest)
    kana = hangul = latin = other = 0
    for char in rest:
        code = ord(char)
        if code in _KANA_MARKS:
            continue  # ー and ・ also appear in emoticons and Chinese text
        elif 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9D:
            kana += 1
        elif 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            hangul += 1
        elif char.isascii():
            latin += char.isalpha()
        elif 0xFF21 <= code <= 0xFF5A:
            latin += char.isalpha()  # full-width Latin letters
        elif char.isalpha():
            if 0x00C0 <= code <= 0x024F:
                latin += 1
            else:
                other += 1
    return ScriptCounts(han, kana, hangul, latin, other)


def _looks_japanese_or_korean(counts: ScriptCounts) -> bool:
    east_asian = counts.han + counts.kana + counts.hangul
    if not east_asian:
        return False
    if counts.kana >= 2 and counts.kana >= MIN_KANA_SHARE * (counts.han + counts.kana):
        return True
    return counts.hangul >= 2 and counts.hangul >= MIN_HANGUL_SHARE * east_asian


def _looks_english(words: list[str]) -> bool:
    lowered = [word.lower() for word in words]
    english = sum(word in ENGLISH_STOP_WORDS for word in lowered)
    foreign = sum(word in OTHER_LATIN_STOP_WORDS for word in lowered)
    accented = sum(bool(_ACCENTED.search(word)) for word in words)
    return foreign <= english and accented * 4 <= len(words)
