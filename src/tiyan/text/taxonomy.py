"""Aspect taxonomies per industry, kept as data in `taxonomies/<industry>.yaml`.

A taxonomy is a list of aspects (what customers talk about: 服务顾问态度, 等待时间 …), each with a
snake_case code, Chinese and English names and seed terms in both languages. `find_mentions`
locates the terms in a comment: English terms match whole words, case-insensitively; Chinese
terms match anywhere, or — given the text's word boundaries (`word_bounds`, from segmentation) —
only where they do not straddle words (交车 is not in 提交|车辆; 床 is not in 床单); where terms
overlap the longest wins. An aspect may list phrases in which its terms do not count
(`not_in`: "room for improvement" is not the hotel room, 提车时 says when, not timeliness).

YAML shape::

    industry: hotel
    name_zh: 酒店
    name_en: Hotel
    aspects:
      - code: room
        name_zh: 房间
        name_en: Room
        terms: [房间, 客房, room, bed]
        not_in: [room for improvement]     # optional
      - code: price
        ...
        more_is: worse                     # optional: worse | better
        more_is_opposite_for: [性价比]      # optional: terms of the aspect going the other way
        defects: [异响, 故障]                # optional: terms that name something gone wrong

`more_is` says which way a quantity of the aspect goes: "价格很高", "等的时间很长", "噪音很大" are
bad news (`worse`: prices, fees, waiting, noise, fuel consumption, faults), "效率很高", "空间很大"
good news (`better`). It is a property of the aspect, written once here; terms of the aspect for
which a quantity means the opposite (性价比 beside 价格: "性价比很高") are listed under
`more_is_opposite_for`. Where the words after such a term only say how much there is, the opinion
model reads a good or a bad quantity from the direction (`_opinion._quantity_reading`), learned
from the aspects with a direction that have training text and applied to those that have none.

`defects` are the terms of an aspect that name something gone wrong (异响, 故障灯, 断网, 头发 in a
dish, 划痕): mentioning one is a complaint unless its clause says it is gone, solved or rare
(`_opinion.defect_reading`: "经常断网" is bad news, "异响问题彻底解决了" and "没有异响了" good
news).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

_HAN_CHAR = re.compile(r"[\u4e00-\u9fff]")

TAXONOMIES = Path(__file__).parent / "taxonomies"
INDUSTRIES = (
    "car_aftersales",
    "car_product",
    "hotel",
    "restaurant",
    "retail",
    "banking",
    "telecom",
)

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_TOP_FIELDS = ("industry", "name_zh", "name_en", "aspects")
_ASPECT_FIELDS = ("code", "name_zh", "name_en", "terms")
_OPTIONAL_ASPECT_FIELDS = ("not_in", "more_is", "more_is_opposite_for", "defects")
DIRECTIONS = ("worse", "better")


class TaxonomyError(ValueError):
    """A taxonomy file is missing or malformed; the message names the file, aspect and field."""

    def __init__(self, path: Path | str, message: str, aspect: str | None = None) -> None:
        where = f"{path}" + (f", aspect {aspect!r}" if aspect else "")
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.aspect = aspect


@dataclass(frozen=True)
class Aspect:
    """Something customers talk about, with the words that signal it."""

    code: str
    name_zh: str
    name_en: str
    terms: tuple[str, ...]
    not_in: tuple[str, ...] = ()
    more_is: str = ""
    more_is_opposite_for: tuple[str, ...] = ()
    defects: frozenset[str] = frozenset()

    def is_defect(self, term: str) -> bool:
        """Whether `term` (one of the aspect's terms) names something gone wrong (`defects`)."""
        return term.lower() in self.defects

    def direction(self, term: str) -> str:
        """Which way a quantity of `term` (one of the aspect's terms) goes: "worse", "better" or
        "" where the taxonomy does not say (see the module docstring)."""
        if not self.more_is:
            return ""
        if term.lower() in self.more_is_opposite_for:
            return DIRECTIONS[1 - DIRECTIONS.index(self.more_is)]
        return self.more_is


@dataclass(frozen=True)
class Mention:
    """A taxonomy term found in a text; `text[start:end]` is the surface form."""

    aspect: Aspect
    term: str
    start: int
    end: int


@dataclass(frozen=True)
class Taxonomy:
    """An industry's aspects and a matcher over all their terms."""

    industry: str
    name_zh: str
    name_en: str
    aspects: tuple[Aspect, ...]
    _by_term: Mapping[str, tuple[Aspect, str]] = field(init=False, repr=False, compare=False)
    _scanner: _TermScanner = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_term = {term.lower(): (aspect, term) for aspect in self.aspects for term in aspect.terms}
        object.__setattr__(self, "_by_term", by_term)
        object.__setattr__(self, "_scanner", _TermScanner(by_term))

    def find_mentions(self, text: str, word_bounds: frozenset[int] | None = None) -> list[Mention]:
        """All non-overlapping term occurrences in `text`, left to right, longest term first.

        With `word_bounds` (the offsets where a word of `text` starts or ends), a Chinese term
        only counts where it starts and ends on one. A term inside one of its aspect's `not_in`
        phrases does not count.
        """
        mentions = []
        lowered: str | None = None
        for start, key in self._scanner.scan(text, word_bounds):
            aspect, term = self._by_term[key]
            end = start + len(key)
            if aspect.not_in:
                lowered = lowered if lowered is not None else text.lower()
                if _inside_phrase(lowered, start, end, aspect.not_in):
                    continue
            mentions.append(Mention(aspect, term, start, end))
        return mentions

    def may_mention(self, text: str) -> bool:
        """False when `text` holds no character a term starts with (so no term at all)."""
        return self._scanner.may_match(text)

    def aspect(self, code: str) -> Aspect:
        """The aspect with this code; KeyError names the taxonomy when there is none."""
        for aspect in self.aspects:
            if aspect.code == code:
                return aspect
        raise KeyError(f"taxonomy {self.industry!r} has no aspect {code!r}")

    @property
    def terms(self) -> frozenset[str]:
        """Every term of every aspect, lower-cased."""
        return frozenset(self._by_term)


class _TermScanner:
    """Finds lower-cased terms in a text: candidates by first character, longest term first.

    A term that starts (ends) with an ASCII letter or digit only matches where the text has no ASCII
    letter or digit just before (after) it, so "bed" is not found in "bedding".
    """

    def __init__(self, terms: Iterable[str]) -> None:
        terms = list(terms)
        by_first: dict[str, list[str]] = {}
        for term in sorted(terms, key=len, reverse=True):
            by_first.setdefault(term[0], []).append(term)
        self._by_first = {char: tuple(found) for char, found in by_first.items()}
        firsts = "".join(sorted(self._by_first))
        self._candidates = re.compile(f"[{re.escape(firsts)}]" if firsts else r"(?!x)x")
        self._terms = terms

    def may_match(self, text: str) -> bool:
        """False when no term can occur in `text` (none of their first characters does)."""
        lowered = text.lower()
        if len(lowered) != len(text):
            return True  # `scan` matches case-insensitively on the text itself then
        return self._candidates.search(lowered) is not None

    def scan(self, text: str, word_bounds: frozenset[int] | None = None) -> list[tuple[int, str]]:
        """(start, term) of each non-overlapping occurrence, left to right."""
        lowered = text.lower()
        if len(lowered) != len(text):  # lower() changed offsets (rare letters such as İ)
            return [(match.start(), match.group().lower()) for match in self._regex.finditer(text)]
        found: list[tuple[int, str]] = []
        position = 0
        while match := self._candidates.search(lowered, position):
            start = match.start()
            term = self._longest_at(text, lowered, start, word_bounds)
            if term is None:
                position = start + 1
            else:
                found.append((start, term))
                position = start + len(term)
        return found

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return _compile_terms(self._terms)

    def _longest_at(
        self, text: str, lowered: str, start: int, word_bounds: frozenset[int] | None
    ) -> str | None:
        for term in self._by_first[lowered[start]]:
            if (
                lowered.startswith(term, start)
                and _bounded(text, term, start)
                and _on_words(term, start, word_bounds)
            ):
                return term
        return None


def _is_han(term: str) -> bool:
    return "\u4e00" <= term[0] <= "\u9fff" or "\u4e00" <= term[-1] <= "\u9fff"


def _on_words(term: str, start: int, word_bounds: frozenset[int] | None) -> bool:
    """Whether a Chinese term sits on the text's words: a one-character term must be a word of
    its own; a longer one must not straddle words (交车 in 提交|车辆) — it may begin or end a
    longer word (价格 in 价格便宜). Always true without bounds."""
    if word_bounds is None or not _is_han(term):
        return True
    starts, ends = start in word_bounds, start + len(term) in word_bounds
    return (starts and ends) if len(term) == 1 else (starts or ends)


def _inside_phrase(lowered: str, start: int, end: int, phrases: tuple[str, ...]) -> bool:
    """Whether text[start:end] lies inside an occurrence of one of `phrases` (lower-cased)."""
    for phrase in phrases:
        position = lowered.find(phrase, max(0, end - len(phrase)))
        while position != -1 and position <= start:
            if position + len(phrase) >= end:
                return True
            position = lowered.find(phrase, position + 1)
    return False


def _bounded(text: str, term: str, start: int) -> bool:
    """No ASCII letter or digit of `text` glued to an ASCII-alphanumeric edge of `term`."""
    if start > 0 and term[0] in _ASCII_ALNUM and text[start - 1] in _ASCII_ALNUM:
        return False
    end = start + len(term)
    return not (end < len(text) and term[-1] in _ASCII_ALNUM and text[end] in _ASCII_ALNUM)


def _compile_terms(terms: list[str]) -> re.Pattern[str]:
    alternatives = [_term_pattern(term) for term in sorted(terms, key=len, reverse=True)]
    return re.compile("|".join(alternatives) or r"(?!x)x", re.IGNORECASE)


def _term_pattern(term: str) -> str:
    pattern = re.escape(term)
    if term[0].isascii() and term[0].isalnum():
        pattern = r"(?<![A-Za-z0-9])" + pattern
    if term[-1].isascii() and term[-1].isalnum():
        pattern += r"(?![A-Za-z0-9])"
    return pattern


@cache
def load_taxonomy(industry: str) -> Taxonomy:
    """The shipped taxonomy of `industry` (one of INDUSTRIES), parsed and validated once."""
    if industry not in INDUSTRIES:
        raise TaxonomyError(
            TAXONOMIES / f"{industry}.yaml",
            f"unknown industry {industry!r}; expected one of {', '.join(INDUSTRIES)}",
        )
    path = TAXONOMIES / f"{industry}.yaml"
    # the parsed document is kept in the cache folder until the file changes: importing and
    # running the YAML parser is a good part of a `tiyan text analyze` process's start-up
    from tiyan.text._lexicon import LexiconFileError, cached_table

    try:
        raw = cached_table(f"taxonomy-{industry}", path, lambda: _read_yaml(path))
    except (OSError, ValueError, LexiconFileError):
        # unreadable or invalid file (read again: the error names it), a document marshal cannot
        # keep, or no cache folder
        raw = _read_yaml(path)
    return parse_taxonomy(raw, path)


@cache
def term_tags(industry: str) -> dict[str, str]:
    """jieba's part-of-speech tags of `industry`'s Chinese terms ("价格": "n", "干净": "a"; a term
    its dictionary does not hold has none), kept in the cache folder (`_lexicon.dictionary_tags`):
    what tells a noun compound ("配件价格") from a noun and its opinion ("房间干净")."""
    from tiyan.text._lexicon import LexiconFileError, dictionary_tags

    chinese = [term for term in load_taxonomy(industry).terms if _HAN_CHAR.search(term)]
    try:
        return dictionary_tags(chinese)
    except (OSError, LexiconFileError):
        return {}  # no jieba dictionary to read: no compounds are told apart


def load_taxonomy_file(path: Path | str) -> Taxonomy:
    """Parse and validate a taxonomy YAML file (shipped or edited by a user)."""
    path = Path(path)
    return parse_taxonomy(_read_yaml(path), path)


def _read_yaml(path: Path) -> Any:
    import yaml

    # libyaml's safe loader when PyYAML was built with it (same documents, several times faster)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except OSError as exc:
        raise TaxonomyError(path, f"cannot read the file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise TaxonomyError(path, f"not valid YAML ({exc})") from exc


def parse_taxonomy(raw: Any, path: Path | str) -> Taxonomy:
    """Build a Taxonomy from parsed YAML, rejecting unknown, missing or ill-typed fields."""
    if not isinstance(raw, dict):
        raise TaxonomyError(path, "expected a mapping with fields " + ", ".join(_TOP_FIELDS))
    _check_fields(raw, _TOP_FIELDS, path, None)
    aspects_raw = raw["aspects"]
    if not isinstance(aspects_raw, list) or not aspects_raw:
        raise TaxonomyError(path, 'field "aspects" must be a non-empty list')
    aspects = tuple(_parse_aspect(item, index, path) for index, item in enumerate(aspects_raw))
    _check_unique(aspects, path)
    return Taxonomy(
        industry=_text(raw, "industry", path, None),
        name_zh=_text(raw, "name_zh", path, None),
        name_en=_text(raw, "name_en", path, None),
        aspects=aspects,
    )


def _parse_aspect(raw: Any, index: int, path: Path | str) -> Aspect:
    label = f"#{index + 1}"
    if not isinstance(raw, dict):
        raise TaxonomyError(path, "expected a mapping", label)
    if isinstance(raw.get("code"), str):
        label = raw["code"]
    _check_fields(raw, _ASPECT_FIELDS, path, label, _OPTIONAL_ASPECT_FIELDS)
    code = _text(raw, "code", path, label)
    if not _CODE.match(code):
        raise TaxonomyError(path, f'field "code": {code!r} is not snake_case', label)
    terms = _terms(raw, path, label)
    more_is, opposite = _direction(raw, terms, path, label)
    return Aspect(
        code=code,
        name_zh=_text(raw, "name_zh", path, label),
        name_en=_text(raw, "name_en", path, label),
        terms=terms,
        not_in=_not_in(raw, path, label),
        more_is=more_is,
        more_is_opposite_for=opposite,
        defects=_defects(raw, terms, path, label),
    )


def _defects(
    raw: dict[str, Any], terms: tuple[str, ...], path: Path | str, aspect: str
) -> frozenset[str]:
    """`defects` (lower-cased), checked: terms of the aspect."""
    if "defects" not in raw:
        return frozenset()
    own = {term.lower() for term in terms}
    found = _terms(raw, path, aspect, "defects")
    for term in found:
        if term.lower() not in own:
            message = f'field "defects": {term!r} is not a term of the aspect'
            raise TaxonomyError(path, message, aspect)
    return frozenset(term.lower() for term in found)


def _direction(
    raw: dict[str, Any], terms: tuple[str, ...], path: Path | str, aspect: str
) -> tuple[str, tuple[str, ...]]:
    """`more_is` and `more_is_opposite_for` (lower-cased), checked: a known direction, and
    opposite terms that are the aspect's own terms."""
    if "more_is" not in raw:
        if "more_is_opposite_for" in raw:
            raise TaxonomyError(path, 'field "more_is_opposite_for" needs "more_is"', aspect)
        return "", ()
    more_is = raw["more_is"]
    if more_is not in DIRECTIONS:
        raise TaxonomyError(
            path, f'field "more_is": {more_is!r} is not one of {", ".join(DIRECTIONS)}', aspect
        )
    if "more_is_opposite_for" not in raw:
        return more_is, ()
    opposite = _terms(raw, path, aspect, "more_is_opposite_for")
    own = {term.lower() for term in terms}
    for term in opposite:
        if term.lower() not in own:
            raise TaxonomyError(
                path, f'field "more_is_opposite_for": {term!r} is not a term of the aspect', aspect
            )
    return more_is, tuple(term.lower() for term in opposite)


def term_directions(industries: Iterable[str] = INDUSTRIES) -> dict[str, str]:
    """Every term (lower-cased) of the shipped taxonomies with a direction (`Aspect.direction`)
    that no other aspect listing it contradicts, with that direction: how the
    opinion model's training gives a direction to a labelled term of a corpus."""
    seen: dict[str, set[str]] = {}
    for industry in industries:
        for aspect in load_taxonomy(industry).aspects:
            for term in aspect.terms:
                seen.setdefault(term.lower(), set()).add(aspect.direction(term))
    directions = {term: found - {""} for term, found in seen.items()}
    return {term: found.pop() for term, found in directions.items() if len(found) == 1}


def _check_fields(
    raw: dict[str, Any],
    allowed: tuple[str, ...],
    path: Path | str,
    aspect: str | None,
    optional: tuple[str, ...] = (),
) -> None:
    unknown = sorted(set(map(str, raw)) - set(allowed) - set(optional))
    if unknown:
        raise TaxonomyError(
            path, f'unknown field "{unknown[0]}"; allowed: {", ".join(allowed)}', aspect
        )
    missing = [name for name in allowed if name not in raw]
    if missing:
        raise TaxonomyError(path, f'missing field "{missing[0]}"', aspect)


def _text(raw: dict[str, Any], name: str, path: Path | str, aspect: str | None) -> str:
    value = raw[name]
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(
            path, f'field "{name}" must be a non-empty string, got {value!r}', aspect
        )
    return value.strip()


def _terms(
    raw: dict[str, Any], path: Path | str, aspect: str, name: str = "terms"
) -> tuple[str, ...]:
    value = raw[name]
    if not isinstance(value, list) or not value:
        raise TaxonomyError(path, f'field "{name}" must be a non-empty list of strings', aspect)
    terms = []
    for position, term in enumerate(value, start=1):
        if not isinstance(term, str) or not term.strip():
            raise TaxonomyError(
                path, f'field "{name}", item {position}: {term!r} is not a term', aspect
            )
        terms.append(term.strip())
    return tuple(dict.fromkeys(terms))


def _not_in(raw: dict[str, Any], path: Path | str, aspect: str) -> tuple[str, ...]:
    if "not_in" not in raw:
        return ()
    return tuple(phrase.lower() for phrase in _terms(raw, path, aspect, "not_in"))


def _check_unique(aspects: tuple[Aspect, ...], path: Path | str) -> None:
    codes: set[str] = set()
    owner: dict[str, str] = {}
    for aspect in aspects:
        if aspect.code in codes:
            raise TaxonomyError(path, 'field "code": duplicate code', aspect.code)
        codes.add(aspect.code)
        for term in aspect.terms:
            previous = owner.setdefault(term.lower(), aspect.code)
            if previous != aspect.code:
                raise TaxonomyError(
                    path,
                    f'field "terms": {term!r} is already a term of aspect {previous!r}',
                    aspect.code,
                )
