"""Customer comments for tiyan's demo data that agree with the scores of the same response.

A comment talks about the one to three aspects that stand out: items rated 1–2 and failed process
items are complained about, items rated 5 are praised; items rated 3 or 4 come up only when nothing
else stands out. Its tone follows the NPS group (detractor: angry or disappointed, promoter: warm).
About a third of respondents write nothing, passives more often. Roughly one comment in a hundred
carries PII (a mobile number, an e-mail address, a plate number) for the redaction to find.

Everything is drawn from the `random.Random` passed in, in a fixed order: same seed, same text.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Literal

from tiyan.demo import _phrases_after_sales, _phrases_hotel_en, _phrases_hotel_zh, _phrases_sales
from tiyan.demo._phrases_base import Phrasebook, Tone
from tiyan.demo.names import (
    email_for,
    english_name,
    mobile_number,
    person_name,
    plate_number,
    surname_of,
)

__all__ = [
    "DemoTextError",
    "ScoreOutOfRange",
    "UnknownLanguage",
    "UnknownScoreCode",
    "after_sales_comment",
    "hotel_comment",
    "sales_comment",
]

Score = int | bool
Kind = Literal["positive", "negative", "mild_positive", "mild_negative"]

SILENCE: dict[Tone, float] = {"promoter": 0.33, "passive": 0.5, "detractor": 0.25}
PII_SHARE = 0.01
_EMOJI_SHARE: dict[Tone, float] = {"promoter": 0.1, "passive": 0.03, "detractor": 0.06}
_NAME_SHARE = 0.35  # how often a staff member is called by name when the name is known
_SLOT = re.compile(r"\{(\w+)\}")


class DemoTextError(ValueError):
    """Scores that no comment can be written for."""


class UnknownScoreCode(DemoTextError):
    """A score code the survey does not have."""


class ScoreOutOfRange(DemoTextError):
    """A score outside its scale (1–5, 0–10 for NPS, yes/no for process items)."""


class UnknownLanguage(DemoTextError):
    """A comment language other than 'zh' or 'en'."""


@dataclass(frozen=True)
class Mention:
    """One aspect a comment talks about, and how."""

    code: str
    kind: Kind


@dataclass(frozen=True)
class ScoreReading:
    """What stands out in one response's scores."""

    tone: Tone
    negatives: tuple[str, ...]  # ratings of 1–2 and failed process items, worst first
    positives: tuple[str, ...]  # ratings of 5, in random order
    done_processes: tuple[str, ...]  # process items that went right, in random order
    threes: tuple[str, ...]
    fours: tuple[str, ...]
    has_a_one: bool


def after_sales_comment(
    rng: random.Random, scores: Mapping[str, Score], *, advisor_name: str | None = None
) -> str | None:
    """A car owner's comment after a service visit, or None when they write nothing."""
    return _comment(rng, _phrases_after_sales.BOOK, scores, advisor_name)


def hotel_comment(
    rng: random.Random, scores: Mapping[str, Score], *, language: str = "zh"
) -> str | None:
    """A hotel guest's comment in Chinese ('zh') or English ('en'), or None."""
    books = {"zh": _phrases_hotel_zh.BOOK, "en": _phrases_hotel_en.BOOK}
    if language not in books:
        raise UnknownLanguage(
            f"hotel comment language {language!r} is not supported; use 'zh' or 'en'"
        )
    return _comment(rng, books[language], scores, None)


def sales_comment(
    rng: random.Random, scores: Mapping[str, Score], *, consultant_name: str | None = None
) -> str | None:
    """A new-car buyer's comment on the sales journey, or None."""
    return _comment(rng, _phrases_sales.BOOK, scores, consultant_name)


def _comment(
    rng: random.Random, book: Phrasebook, scores: Mapping[str, Score], staff: str | None
) -> str | None:
    _check_scores(book, scores)
    reading = read_scores(rng, book, scores)
    silence = SILENCE[reading.tone] - (0.1 if reading.has_a_one else 0.0)
    if rng.random() < silence:
        return None
    good, bad = choose_mentions(rng, reading)
    return _write(rng, book, reading.tone, good, bad, staff)


# --- checking and reading the scores ---------------------------------------------------------


def _check_scores(book: Phrasebook, scores: Mapping[str, Score]) -> None:
    for code, value in scores.items():
        if code == "nps":
            _check_scale(book, code, value, 0, 10)
        elif code == "csat" or code in book.ratings:
            _check_scale(book, code, value, 1, 5)
        elif code in book.processes:
            if not isinstance(value, bool) and value not in (0, 1):
                raise ScoreOutOfRange(
                    f"{book.survey} process item {code!r} is {value!r}; expected True or False"
                )
        else:
            known = ", ".join([*book.ratings, *book.processes, "csat", "nps"])
            raise UnknownScoreCode(
                f"{book.survey} score code {code!r} is unknown; known codes: {known}"
            )


def _check_scale(book: Phrasebook, code: str, value: Score, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or not low <= value <= high:
        raise ScoreOutOfRange(
            f"{book.survey} score {code!r} is {value!r}; expected a whole number {low}–{high}"
        )


def tone_of(scores: Mapping[str, Score]) -> Tone:
    """The NPS group, or the nearest thing to it when the response has no NPS answer."""
    if "nps" in scores:
        nps = int(scores["nps"])
        return "promoter" if nps >= 9 else "passive" if nps >= 7 else "detractor"
    if "csat" in scores:
        csat = int(scores["csat"])
        return "promoter" if csat == 5 else "passive" if csat >= 3 else "detractor"
    ratings = [int(v) for k, v in scores.items() if not isinstance(v, bool) and k != "nps"]
    mean = sum(ratings) / len(ratings) if ratings else 3.0
    return "promoter" if mean >= 4.5 else "detractor" if mean <= 2.5 else "passive"


def read_scores(rng: random.Random, book: Phrasebook, scores: Mapping[str, Score]) -> ScoreReading:
    """Sort a response's items into what stands out, in the phrase book's order for determinism."""
    ratings = {code: int(scores[code]) for code in book.ratings if code in scores}
    processes = {code: bool(scores[code]) for code in book.processes if code in scores}
    severity = {code: float(v) for code, v in ratings.items() if v <= 2}
    severity.update({code: 2.0 for code, done in processes.items() if not done})
    negatives = sorted(severity, key=lambda code: (severity[code], rng.random()))
    return ScoreReading(
        tone=tone_of(scores),
        negatives=tuple(negatives),
        positives=_shuffled(rng, [code for code, v in ratings.items() if v == 5]),
        done_processes=_shuffled(rng, [code for code, done in processes.items() if done]),
        threes=_shuffled(rng, [code for code, v in ratings.items() if v == 3]),
        fours=_shuffled(rng, [code for code, v in ratings.items() if v == 4]),
        has_a_one=any(v == 1 for v in ratings.values()),
    )


def _shuffled(rng: random.Random, codes: list[str]) -> tuple[str, ...]:
    rng.shuffle(codes)
    return tuple(codes)


# --- choosing what to talk about -------------------------------------------------------------


def choose_mentions(
    rng: random.Random, reading: ScoreReading
) -> tuple[list[Mention], list[Mention]]:
    """The aspects to praise and to complain about, in the order the customer would say them."""
    how_many = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
    if reading.tone == "detractor":
        return _detractor_mentions(rng, reading, how_many)
    if reading.tone == "passive":
        return _passive_mentions(rng, reading, how_many)
    return _promoter_mentions(rng, reading, how_many)


def _as(kind: Kind, codes: Sequence[str]) -> list[Mention]:
    return [Mention(code, kind) for code in codes]


def _detractor_mentions(
    rng: random.Random, r: ScoreReading, n: int
) -> tuple[list[Mention], list[Mention]]:
    bad = _as("negative", r.negatives[:n]) or _as("mild_negative", r.threes[: min(n, 2)])
    good = _as("positive", r.positives[:1]) if bad and rng.random() < 0.2 else []
    return good, bad


def _passive_mentions(
    rng: random.Random, r: ScoreReading, n: int
) -> tuple[list[Mention], list[Mention]]:
    if r.negatives:
        good = _as("positive", r.positives[:1]) if rng.random() < 0.6 else []
        return good, _as("negative", r.negatives[: min(n, 2)])
    if r.positives:
        bad = _as("mild_negative", r.threes[:1]) if rng.random() < 0.4 else []
        return _as("positive", r.positives[:n]), bad
    good, bad = _as("mild_positive", r.fours[:1]), _as("mild_negative", r.threes[:1])
    if good and bad and rng.random() < 0.5:
        return good, bad
    if bad and (not good or rng.random() < 0.5):
        return [], bad
    return good, []


def _promoter_mentions(
    rng: random.Random, r: ScoreReading, n: int
) -> tuple[list[Mention], list[Mention]]:
    pool = list(r.positives)
    if r.done_processes and (not pool or rng.random() < 0.3):
        pool.insert(rng.randrange(len(pool) + 1), r.done_processes[0])
    good = _as("positive", pool[:n]) or _as("mild_positive", r.fours[: min(n, 2)])
    bad = _as("negative", r.negatives[:1]) if rng.random() < 0.4 else []
    return good, bad


# --- writing ---------------------------------------------------------------------------------


def _write(
    rng: random.Random,
    book: Phrasebook,
    tone: Tone,
    good: list[Mention],
    bad: list[Mention],
    staff: str | None,
) -> str:
    body = _body(rng, book, tone, good, bad)
    opener_share = 0.4 if good or bad else 0.2
    opener = (
        _pick(rng, book.tones.openers[tone]) + _pick(rng, book.joints.separators)
        if rng.random() < opener_share
        else ""
    )
    text = opener + body + _closer(rng, book, tone, staff)
    if rng.random() < PII_SHARE:
        text += _pick(rng, book.joints.separators) + _pii_sentence(rng, book)
    ending = _pick(rng, book.tones.endings[tone])
    text += "" if ending and text.endswith(ending[0]) else ending  # no "还行吧吧"
    text = _roughen(rng, book, _fill(rng, book, text, staff))
    if rng.random() < _EMOJI_SHARE[tone]:
        text += (" " if book.language == "en" else "") + _pick(rng, book.tones.emoji[tone])
    return text


def _body(
    rng: random.Random, book: Phrasebook, tone: Tone, good: list[Mention], bad: list[Mention]
) -> str:
    good_text = _joined(rng, book, good)
    bad_text = _joined(rng, book, bad)
    if good_text and bad_text:
        joints = book.joints
        pattern = _pick(
            rng, joints.contrast_bad_first if tone == "detractor" else joints.contrast_good_first
        )
        return pattern.replace("{good}", good_text).replace("{bad}", bad_text)
    return good_text or bad_text or _pick(rng, book.tones.general[tone])


def _joined(rng: random.Random, book: Phrasebook, mentions: list[Mention]) -> str:
    clauses = [_clause(rng, book, mention) for mention in mentions]
    text = clauses[0] if clauses else ""
    for clause in clauses[1:]:
        text += _pick(rng, book.joints.joiners) + clause
    return text


def _clause(rng: random.Random, book: Phrasebook, mention: Mention) -> str:
    aspect = book.ratings.get(mention.code) or book.processes[mention.code]
    if mention.kind == "positive":
        return _pick(rng, aspect.positive)
    if mention.kind == "negative":
        return _pick(rng, aspect.negative)
    templates = book.mild_positive if mention.kind == "mild_positive" else book.mild_negative
    return _pick(rng, templates).replace("{noun}", _pick(rng, aspect.nouns))


def _closer(rng: random.Random, book: Phrasebook, tone: Tone, staff: str | None) -> str:
    if staff and book.staff_thanks and tone == "promoter" and rng.random() < 0.3:
        thanks = _pick(rng, book.staff_thanks).replace("{staff}", _staff_by_name(rng, book, staff))
        return _pick(rng, book.joints.separators) + thanks
    if rng.random() < 0.4:
        return _pick(rng, book.joints.separators) + _pick(rng, book.tones.closers[tone])
    return ""


def _staff_by_name(rng: random.Random, book: Phrasebook, staff: str) -> str:
    form = _pick(rng, book.staff_name_forms)
    return form.replace("{full}", staff).replace("{surname}", surname_of(staff))


def _fill(rng: random.Random, book: Phrasebook, template: str, staff: str | None) -> str:
    """Replace every {slot} with one of its words; {staff} sometimes with the staff's name."""

    def word(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot == "staff" and staff and rng.random() < _NAME_SHARE:
            return _staff_by_name(rng, book, staff)
        if slot not in book.slots:
            raise DemoTextError(f"{book.survey} phrase {template!r} uses unknown slot {{{slot}}}")
        return _pick(rng, book.slots[slot])

    return _SLOT.sub(word, template)


def _roughen(rng: random.Random, book: Phrasebook, text: str) -> str:
    """Punctuation and case the way people type on a phone."""
    if book.language == "en":
        text = _capitalised(text)
        return text.lower() if rng.random() < 0.06 else text
    roll = rng.random()
    if roll < 0.1:
        return text.replace("，", ",").replace("！", "!").replace("？", "?")
    if roll < 0.13:
        return text.replace("，", " ")
    return text


def _capitalised(text: str) -> str:
    """Upper-case the first letter of the text and of every sentence in it."""
    text = text.strip()
    text = re.sub(r"([.!?] +)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return text[:1].upper() + text[1:]


def _pii_sentence(rng: random.Random, book: Phrasebook) -> str:
    weights = {"mobile": 3, "email": 1, "plate": 2}
    kinds = list(book.pii)
    kind = rng.choices(kinds, weights=[weights.get(k, 1) for k in kinds])[0]
    sentence = _pick(rng, book.pii[kind])
    if kind == "mobile":
        return sentence.replace("{mobile}", _spoken_mobile(rng, book))
    if kind == "email":
        name = english_name(rng) if book.language == "en" else person_name(rng)
        return sentence.replace("{email}", email_for(name, rng))
    province = rng.choices(("粤", "京", "沪", "湘", "桂"), weights=(80, 5, 5, 5, 5))[0]
    return sentence.replace("{plate}", _spoken_plate(rng, plate_number(rng, province)))


def _spoken_mobile(rng: random.Random, book: Phrasebook) -> str:
    number = mobile_number(rng)
    shapes = [
        number,
        f"{number[:3]} {number[3:7]} {number[7:]}",
        f"{number[:3]}-{number[3:7]}-{number[7:]}",
    ]
    if book.language == "en":
        shapes.append(f"+86 {number[:3]} {number[3:7]} {number[7:]}")
    return _pick(rng, shapes)


def _spoken_plate(rng: random.Random, plate: str) -> str:
    return plate if rng.random() < 0.5 else plate.replace("·", "")


def _pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]
