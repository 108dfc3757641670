"""Word segmentation (jieba with a domain dictionary per industry) and clause splitting.

Loading jieba's whole dictionary takes about a second, so each industry's dictionary (jieba's plus
the terms of `dictionaries/<industry>.txt`, in jieba's user-dictionary format `word [freq] [tag]`)
is kept as a bucketed `Lexicon` in a cache folder, built once, and each text loads only the buckets
it can reach (see `_lexicon`): the same words as with the full dictionary, for a fraction of the
cost. jieba's word-graph and best-route loops are replaced by tighter equivalents.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from functools import cache
from math import log
from pathlib import Path
from typing import Any

from tiyan.text._lexicon import Lexicon, import_jieba, load_or_build
from tiyan.text.taxonomy import INDUSTRIES

DICTIONARIES = Path(__file__).parent / "dictionaries"

_lock = threading.RLock()
_tokenizers: dict[str | None, Tokenizer] = {}
init_seconds: dict[str | None, float] = {}
"""Seconds each tokenizer took to initialise in this process (None = jieba's dictionary only)."""


class UnknownIndustryDictionary(LookupError):
    """No domain dictionary exists for the industry asked for."""

    def __init__(self, industry: str) -> None:
        super().__init__(
            f"no segmentation dictionary for industry {industry!r}: "
            f"expected {DICTIONARIES / (industry + '.txt')}"
        )
        self.industry = industry


@dataclass(frozen=True)
class Clause:
    """A clause of a comment; `text == original[start:end]`."""

    text: str
    start: int
    end: int


class Tokenizer:
    """jieba's segmentation over a lazily filled `Lexicon`."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._jieba: Any = _jieba_tokenizer_class()()
        self._jieba.FREQ = lexicon.freq
        self._jieba.total = lexicon.total
        self._jieba.initialized = True

    def cut(self, text: str) -> list[str]:
        """jieba's words of `text` (HMM on for unknown words), whitespace included."""
        self.lexicon.cover(text)
        words: list[str] = self._jieba.lcut(text, HMM=True)
        return words


@cache
def _jieba_tokenizer_class() -> Any:
    """jieba's Tokenizer with its two hot loops (word graph, best route) tightened.

    Same arithmetic in the same order as jieba's own methods, so the same words come out; it reads
    the dictionary through local names and skips jieba's per-call initialisation check.
    """

    class TightTokenizer(import_jieba().Tokenizer):  # type: ignore[misc]
        def get_DAG(self, sentence: str) -> dict[int, list[int]]:  # noqa: N802 (jieba's name)
            return word_graph(sentence, self.FREQ)

        def calc(self, sentence: str, DAG: Any, route: Any) -> None:  # noqa: N803
            best_route(sentence, DAG, route, self.FREQ, log(self.total))

    return TightTokenizer


def word_graph(sentence: str, freq: dict[str, int]) -> dict[int, list[int]]:
    """For each start, the ends (inclusive) of the dictionary words there (itself when none)."""
    get = freq.get
    size = len(sentence)
    graph = {}
    for start in range(size):
        ends = []
        for end in range(start, size):
            count = get(sentence[start : end + 1])
            if count is None:  # not even a prefix of a word
                break
            if count:
                ends.append(end)
        graph[start] = ends or [start]
    return graph


def best_route(
    sentence: str,
    graph: dict[int, list[int]],
    route: dict[int, tuple[float, int]],
    freq: dict[str, int],
    log_total: float,
) -> None:
    """jieba's dynamic programme: route[start] = (best log-probability, end of the first word)."""
    get = freq.get
    route[len(sentence)] = (0, 0)
    for start in range(len(sentence) - 1, -1, -1):
        best = None
        for end in graph[start]:
            candidate = (
                log(get(sentence[start : end + 1]) or 1) - log_total + route[end + 1][0],
                end,
            )
            if best is None or candidate > best:
                best = candidate
        route[start] = best  # type: ignore[assignment]


def segment(text: str, industry: str | None = None) -> list[str]:
    """Split `text` into words; whitespace is dropped, punctuation kept as tokens."""
    return [token for token in tokenizer_for(industry).cut(text) if not token.isspace()]


def tokenizer_for(industry: str | None = None) -> Tokenizer:
    """The cached tokenizer for `industry` (None: jieba's dictionary only)."""
    found = _tokenizers.get(industry)
    if found is not None:
        return found
    path = None if industry is None else dictionary_path(industry)
    with _lock:
        if industry not in _tokenizers:
            started = time.perf_counter()
            _tokenizers[industry] = Tokenizer(load_or_build(industry or "base", path))
            init_seconds[industry] = time.perf_counter() - started
        return _tokenizers[industry]


def dictionary_path(industry: str) -> Path:
    """The domain dictionary of `industry`; UnknownIndustryDictionary when there is none."""
    path = DICTIONARIES / f"{industry}.txt"
    if industry not in INDUSTRIES or not path.is_file():
        raise UnknownIndustryDictionary(industry)
    return path


def available_industries() -> tuple[str, ...]:
    """Industries that ship a segmentation dictionary."""
    return tuple(name for name in INDUSTRIES if (DICTIONARIES / f"{name}.txt").is_file())


# --- clauses -------------------------------------------------------------------------------------

_HAN = "\u4e00-\u9fff"
# Sentence and clause punctuation (not 、, which lists items of one clause); "," and "." unless
# between digits (3.5, 1,000); spaces between Chinese characters ("很快 好吃 味道足").
# Every alternative starts with a character class (lookbehinds come after the first character),
# which lets the regex engine skip ahead to candidate characters.
_BREAK = re.compile(
    r"[。！？!?；;，…~～\n\r]+|[,.](?<!\d[,.])[,.]*|[,.]+(?!\d)"
    rf"|[ \t\u3000](?<=[{_HAN}][ \t\u3000])[ \t\u3000]*(?=[{_HAN}])"
)
_CONTRAST = re.compile(
    r"(?<!不)(?:但是|但)(?![愿凡])|(?<![只不])(?:不过)(?!是|如此)|可是|然而|"
    r"\b(?:however|but)\b",
    re.IGNORECASE,
)
_CONTRAST_HINTS = ("但", "不过", "可是", "然而")
_MIN_LEFT_CHARS = 2


def split_clauses(text: str) -> list[Clause]:
    """Split on sentence/clause punctuation and before contrast markers (但是, 不过, but …)."""
    clauses: list[Clause] = []
    contrast = _may_contrast(text)
    for start, end in _punctuation_spans(text):
        pieces = _contrast_spans(text, start, end) if contrast else [(start, end)]
        for piece_start, piece_end in pieces:
            clause = _trimmed(text, piece_start, piece_end)
            if clause is not None:
                clauses.append(clause)
    return clauses


def _may_contrast(text: str) -> bool:
    """False only when `text` holds no contrast marker (a cheap test before the regex)."""
    if any(hint in text for hint in _CONTRAST_HINTS):
        return True
    lowered = text.lower()
    return "but" in lowered or "however" in lowered


def _punctuation_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _contrast_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, piece_start = [], start
    for match in _CONTRAST.finditer(text, start, end):
        if len(text[piece_start : match.start()].strip()) >= _MIN_LEFT_CHARS:
            spans.append((piece_start, match.start()))
            piece_start = match.start()
    spans.append((piece_start, end))
    return spans


def _trimmed(text: str, start: int, end: int) -> Clause | None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return None
    start += len(piece) - len(piece.lstrip())
    return Clause(stripped, start, start + len(stripped))
