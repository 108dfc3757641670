"""Word segmentation (jieba with a domain dictionary per industry) and clause splitting.

Loading jieba's whole dictionary takes about a second, so each industry's dictionary (jieba's plus
the terms of `dictionaries/<industry>.txt`, in jieba's user-dictionary format `word [freq] [tag]`)
is kept as a bucketed `Lexicon` in a cache folder, built once, and each text loads only the buckets
it can reach (see `_lexicon`): the same words as with the full dictionary, for a fraction of the
cost. jieba's segmentation loops (word graph, best route, the HMM for unknown words) are
replaced by tighter equivalents that give the same words.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from math import inf, log
from pathlib import Path

from tiyan.text._lexicon import Lexicon, hidden_markov_tables, load_or_build
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
    """jieba's segmentation (dictionary words, HMM for unknown runs) over a lazily filled `Lexicon`.

    `cut` gives exactly the words of jieba's `lcut(text, HMM=True)` with the same dictionary: the
    same blocks, word graph, best route and HMM (Viterbi over B/M/E/S with jieba's probabilities
    and its tie-breaking), written as tight loops.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._hmm = _HiddenMarkov.load()
        # jieba's finalseg.Force_Split_Words: filled only by jieba.suggest_freq (never called)
        self._force_split: set[str] = set()
        self._hmm_memo: dict[str, tuple[str, ...]] = {}

    def cut(self, text: str) -> list[str]:
        """jieba's words of `text` (HMM on for unknown words), whitespace included."""
        # split() with the pattern's group: the blocks of _RE_HAN's characters are the odd items
        # (never empty), the text between them (no such character) the even ones
        blocks = _RE_HAN.split(text)
        self.lexicon.cover_pieces(blocks[1::2])
        words: list[str] = []
        append = words.append
        for index, block in enumerate(blocks):
            if index % 2:
                self._cut_block(block, words)
                continue
            if not block:
                continue
            for piece in _RE_SKIP.split(block):
                if _RE_SKIP.match(piece):
                    append(piece)
                else:
                    words.extend(piece)
        return words

    def _cut_block(self, block: str, words: list[str]) -> None:
        """jieba's `__cut_DAG`: dictionary words, runs of single characters through the HMM."""
        first_word_ends = best_route(block, self.lexicon.freq, log(self.lexicon.total))
        append = words.append
        start, size, run = 0, len(block), ""
        while start < size:
            end = first_word_ends[start] + 1
            if end - start == 1:
                run += block[start]
            else:
                if run:
                    self._cut_run(run, words)
                    run = ""
                append(block[start:end])
            start = end
        if run:
            self._cut_run(run, words)

    def _cut_run(self, run: str, words: list[str]) -> None:
        if len(run) == 1:
            words.append(run)
        elif not self.lexicon.freq.get(run):
            self._hmm_cut(run, words)
        else:
            words.extend(run)

    def _hmm_words(self, chars: str) -> tuple[str, ...]:
        """The HMM's words of a run of Chinese characters, remembered: the same runs of
        characters that no dictionary word covers come back often (a fifth to two fifths of
        such characters in the review corpora)."""
        found = self._hmm_memo.get(chars)
        if found is None:
            if len(self._hmm_memo) >= _HMM_MEMO_SIZE:
                self._hmm_memo.clear()
            found = self._hmm_memo[chars] = tuple(self._hmm.words(chars))
        return found

    def _hmm_cut(self, run: str, words: list[str]) -> None:
        """jieba's `finalseg.cut`: Chinese blocks by the HMM, the rest split on letters/digits."""
        append = words.append
        for block in _RE_HMM_HAN.split(run):
            if _RE_HMM_HAN.match(block):
                for word in self._hmm_words(block):
                    if word in self._force_split:
                        words.extend(word)
                    else:
                        append(word)
            else:
                words.extend(piece for piece in _RE_HMM_SKIP.split(block) if piece)


# jieba's block patterns (`re_han_default`, `re_skip_default`, and finalseg's two)
_RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_RE_SKIP = re.compile("(\r\n|\\s)")
_RE_HMM_HAN = re.compile("([\u4e00-\u9fd5]+)")
_RE_HMM_SKIP = re.compile("([a-zA-Z0-9]+(?:\\.\\d+)?%?)")
_MIN_FLOAT = -3.14e100
_HMM_MEMO_SIZE = 50_000
_TAG_INDEX = {"B": 0, "M": 1, "E": 2, "S": 3}


@dataclass(frozen=True)
class _HiddenMarkov:
    """jieba's B/M/E/S character-tagging HMM (its shipped probabilities)."""

    start: dict[str, float]
    trans: dict[str, dict[str, float]]
    emit: dict[str, dict[str, float]]

    @staticmethod
    @cache
    def load() -> _HiddenMarkov:
        return _HiddenMarkov(*hidden_markov_tables())

    def words(self, chars: str) -> list[str]:
        """jieba's `finalseg.__cut` of a run of Chinese characters."""
        words, begin, following = [], 0, 0
        for i, tag in enumerate(self.tags(chars)):
            if tag == "B":
                begin = i
            elif tag == "E":
                words.append(chars[begin : i + 1])
                following = i + 1
            elif tag == "S":
                words.append(chars[i])
                following = i + 1
        if following < len(chars):
            words.append(chars[following:])
        return words

    def tags(self, chars: str) -> list[str]:
        """jieba's `finalseg.viterbi`: the most likely tag of each character.

        Same sums in the same order; where two predecessors tie, jieba's `max` over (probability,
        tag) pairs keeps the later letter, and so does this.
        """
        lost = _MIN_FLOAT
        e_b, e_m, e_e, e_s = (self.emit[tag] for tag in "BMES")
        trans = self.trans
        t_eb, t_sb = trans["E"]["B"], trans["S"]["B"]
        t_mm, t_bm = trans["M"]["M"], trans["B"]["M"]
        t_ss, t_es = trans["S"]["S"], trans["E"]["S"]
        t_be, t_me = trans["B"]["E"], trans["M"]["E"]
        first = chars[0]
        v_b = self.start["B"] + e_b.get(first, lost)
        v_m = self.start["M"] + e_m.get(first, lost)
        v_e = self.start["E"] + e_e.get(first, lost)
        v_s = self.start["S"] + e_s.get(first, lost)
        back: list[tuple[str, str, str, str]] = []
        for char in chars[1:]:
            em = e_b.get(char, lost)
            from_e, from_s = v_e + t_eb + em, v_s + t_sb + em
            n_b, p_b = (from_s, "S") if from_s >= from_e else (from_e, "E")
            em = e_m.get(char, lost)
            from_m, from_b = v_m + t_mm + em, v_b + t_bm + em
            n_m, p_m = (from_m, "M") if from_m >= from_b else (from_b, "B")
            em = e_s.get(char, lost)
            from_s, from_e = v_s + t_ss + em, v_e + t_es + em
            n_s, p_s = (from_s, "S") if from_s >= from_e else (from_e, "E")
            em = e_e.get(char, lost)
            from_b, from_m = v_b + t_be + em, v_m + t_me + em
            n_e, p_e = (from_m, "M") if from_m >= from_b else (from_b, "B")
            back.append((p_b, p_m, p_e, p_s))
            v_b, v_m, v_e, v_s = n_b, n_m, n_e, n_s
        tag = "S" if v_s >= v_e else "E"
        tags = [tag]
        for pointers in reversed(back):
            tag = pointers[_TAG_INDEX[tag]]
            tags.append(tag)
        tags.reverse()
        return tags


def best_route(sentence: str, freq: dict[str, int], log_total: float) -> list[int]:
    """jieba's word graph and dynamic programme in one right-to-left pass: for each start, the end
    (inclusive) of the first word on the most probable route from there.

    The words starting at `start` are the dictionary entries with a count among its prefixes (a
    prefix missing from the dictionary ends the search); a start without one is a word of its own
    (count 1). Same sums in the same order as jieba's `calc`; on a tie the later end wins, as it
    does in jieba's comparison of (log-probability, end) pairs.
    """
    get = freq.get
    size = len(sentence)
    scores = [0.0] * (size + 1)
    ends = [0] * (size + 1)
    for start in range(size - 1, -1, -1):
        best, best_end = -inf, -1
        for end in range(start, size):
            count = get(sentence[start : end + 1])
            if count is None:  # not even a prefix of a word
                break
            if count:
                score = log(count) - log_total + scores[end + 1]
                if score >= best:
                    best, best_end = score, end
        if best_end < 0:  # no word starts here: the character alone, jieba's count 1
            best, best_end = log(1) - log_total + scores[start + 1], start
        scores[start] = best
        ends[start] = best_end
    return ends


def segment(text: str, industry: str | None = None) -> list[str]:
    """Split `text` into words; whitespace is dropped, punctuation kept as tokens."""
    return [token for token in _cut(text, industry) if not token.isspace()]


def word_bounds(text: str, industry: str | None = None) -> frozenset[int]:
    """The offsets of `text` where a word (of `segment`) starts or ends."""
    bounds, position = {0}, 0
    for token in _cut(text, industry):
        position += len(token)
        bounds.add(position)
    return frozenset(bounds)


_CACHED_CHARS = 2000


def _cut(text: str, industry: str | None) -> tuple[str, ...]:
    """The tokens of `text` (whitespace included); aspects and keywords both segment a comment,
    so short texts are remembered for a while."""
    if len(text) > _CACHED_CHARS:
        return tuple(tokenizer_for(industry).cut(text))
    return _cut_cached(text, industry)


@lru_cache(maxsize=4096)
def _cut_cached(text: str, industry: str | None) -> tuple[str, ...]:
    return tuple(tokenizer_for(industry).cut(text))


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


def turns(text: str) -> bool:
    """Whether `text` holds a contrast marker (但是, 不过, 可是, 然而, but, however): a comment that
    turns says more than one thing."""
    return _may_contrast(text) and _CONTRAST.search(text) is not None


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
