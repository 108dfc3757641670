"""Hashed n-gram features computed with numpy, shared by training and inference.

Every text becomes a set of feature buckets: character n-grams (with start/end markers) and, for
English, word n-grams (optionally with negation scope: a word after not / never / n't, up to the
next punctuation mark, is a different word, "not_good"). Buckets come from a deterministic 64-bit
rolling hash, so the shipped models are plain weight arrays indexed by bucket and inference needs
neither scikit-learn nor a vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

_START, _END = 2, 3
_PRIME = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_DIGITS = re.compile(r"\d+")
# a character that a match of `_CONTROL`, `_MENTION`, `_URL` or `_DIGITS` starts with (h and w
# for links): one search of a character set (the regex engine's fast scan, a third of the cost of
# an alternation) instead of four; a text it finds something in takes the four substitutions,
# which leave it as it is if that was an h or a w of no link
_FOLDED = re.compile(r"[\x00-\x1f\x7f@\dhw]")
_WORD = r"[a-z]+(?:'[a-z]+)?|[!?]|[\u4e00-\u9fff]|[^\sa-z\d\u4e00-\u9fff]{2,}"
# a word of `_WORD`, or a single punctuation mark that ends a negation's scope (not itself a word)
_WORD_OR_STOP = rf"{_WORD}|(?P<stop>[.,;:])"
_NEGATORS = frozenset({"not", "no", "never", "nothing", "nobody", "none", "nor", "cannot"})
_SCOPE_ENDS = frozenset({"!", "?", "but"})


@dataclass(frozen=True)
class FeatureSpec:
    """Which n-grams make up a text's features, and into how many buckets they hash."""

    bits: int
    # (lo, hi) lengths; (0, -1): no character n-grams (a word-only English model)
    char_ngrams: tuple[int, int] = (1, 3)
    word_ngrams: tuple[int, int] | None = None
    # words inside a negation's scope are marked (word n-grams only)
    negation: bool = False

    def as_array(self) -> np.ndarray:
        words = self.word_ngrams or (0, 0)
        # a sixth value only where negation is on: the files of the other models stay as they were
        flags = [1] if self.negation else []
        return np.array([self.bits, *self.char_ngrams, *words, *flags], dtype=np.int64)

    @classmethod
    def from_array(cls, values: np.ndarray) -> FeatureSpec:
        bits, c_lo, c_hi, w_lo, w_hi, *flags = (int(v) for v in values)
        negation = bool(flags and flags[0])
        return cls(bits, (c_lo, c_hi), (w_lo, w_hi) if w_hi else None, negation)


@dataclass(frozen=True)
class Features:
    """Unique (document, bucket) pairs of a batch; `docs` is sorted ascending."""

    docs: np.ndarray
    buckets: np.ndarray
    n_docs: int

    def counts(self) -> np.ndarray:
        return np.bincount(self.docs, minlength=self.n_docs)


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no control characters, URLs/mentions/digits folded."""
    text = _nfkc(text).lower()
    if _FOLDED.search(text) is None:  # nothing the four substitutions below would change
        return text
    text = _URL.sub("http", _MENTION.sub("@", _CONTROL.sub(" ", text)))
    return _DIGITS.sub("0", text)


# the full-width forms of ASCII (！ ， Ａ １ …) and the ideographic space: what NFKC changes in
# most Chinese comments, each to the one character NFKC gives it
_FULL_WIDTH = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {0x3000: " "}


def _nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, cheaper for text whose only compatibility characters
    are full-width punctuation, letters and digits (most Chinese comments with punctuation):
    NFKC's quick check fails on those, and its decomposition and recomposition of the whole text
    costs about twice what mapping them to their NFKC forms first does (`str.translate`; the
    result is the same: NFKC of a text is NFKC of the text with any character replaced by its
    compatibility decomposition). Text that passes the quick check (most clauses) is as it was."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    text = text.translate(_FULL_WIDTH)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def hash_features(texts: Sequence[str], spec: FeatureSpec, salt: int = 0) -> Features:
    """Features of already-normalised texts (see `normalise`)."""
    docs, keys = _char_ngram_keys(texts, spec.char_ngrams, salt)
    if spec.word_ngrams is not None:
        w_docs, w_keys = _word_ngram_keys(texts, spec.word_ngrams, salt, spec.negation)
        docs, keys = np.concatenate([docs, w_docs]), np.concatenate([keys, w_keys])
    return _unique(docs, _bucket(keys, spec.bits), spec.bits, len(texts))


def salted(features: Features, salt: int, bits: int) -> Features:
    """The same features moved to other buckets: a copy only one group (domain, aspect) uses."""
    keys = features.buckets.astype(np.uint64) + np.uint64(salt) * _PRIME
    return Features(features.docs, _bucket(keys, bits), features.n_docs)


def combine(parts: Sequence[Features], bits: int) -> Features:
    """Union of several feature sets of the same documents."""
    docs = np.concatenate([p.docs for p in parts])
    buckets = np.concatenate([p.buckets for p in parts])
    # each part is sorted already: numpy's stable sort (timsort) merges such runs ~5x faster
    return _unique(docs, buckets, bits, parts[0].n_docs, kind="stable")


def _codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    joined = "".join(f"\x02{t}\x03" for t in texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(
        np.uint64
    )
    docs = np.cumsum(codes == _START) - 1
    return codes, docs


def _char_ngram_keys(
    texts: Sequence[str], ngrams: tuple[int, int], salt: int
) -> tuple[np.ndarray, np.ndarray]:
    codes, docs = _codes(texts)
    all_docs, all_keys = [], []
    for n in range(ngrams[0], ngrams[1] + 1):
        if len(codes) < n:
            break
        length = len(codes) - n + 1
        key = np.full(length, np.uint64(n * 7919 + salt))
        for j in range(n):
            key = key * _PRIME + codes[j : j + length]
        valid = docs[:length] == docs[n - 1 :]
        if n == 1:
            valid &= (codes != _START) & (codes != _END)
        all_docs.append(docs[:length][valid])
        all_keys.append(key[valid])
    return _concat(all_docs, np.int64), _concat(all_keys, np.uint64)


def words(text: str, negation: bool = False) -> list[str]:
    """The words of a normalised text; with `negation`, each word after a negator (not, never,
    a word ending in n't, ...) up to the next punctuation mark or "but" is prefixed "not_"."""
    if not negation:
        return _word_pattern(_WORD).findall(text)
    found: list[str] = []
    negated = False
    for match in _word_pattern(_WORD_OR_STOP).finditer(text.replace("\u2019", "'")):
        word = match.group()
        if match.group("stop") is not None or word in _SCOPE_ENDS:
            negated = False
            if match.group("stop") is None:
                found.append(word)
            continue
        found.append(f"not_{word}" if negated else word)
        if word in _NEGATORS or word.endswith("n't"):
            negated = True
    return found


@cache
def _word_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled word pattern, compiled where words are first read: only English models read
    words, and compiling each costs ~1.5 ms of a Chinese-only process' start-up."""
    return re.compile(pattern)


def _word_ngram_keys(
    texts: Sequence[str], ngrams: tuple[int, int], salt: int, negation: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    ids: dict[str, int] = {}
    token_ids: list[int] = []
    token_docs: list[int] = []
    for doc, text in enumerate(texts):
        for token in ["<s>", *words(text, negation), "</s>"]:
            if token not in ids:
                ids[token] = zlib.crc32(token.encode("utf-8"))
            token_ids.append(ids[token])
            token_docs.append(doc)
    codes = np.array(token_ids, dtype=np.uint64)
    docs = np.array(token_docs, dtype=np.int64)
    all_docs, all_keys = [], []
    for n in range(ngrams[0], ngrams[1] + 1):
        length = len(codes) - n + 1
        if length <= 0:
            break
        key = np.full(length, np.uint64(n * 104729 + salt + 1_000_000))
        for j in range(n):
            key = key * _PRIME + codes[j : j + length]
        valid = docs[:length] == docs[n - 1 :]
        all_docs.append(docs[:length][valid])
        all_keys.append(key[valid])
    return _concat(all_docs, np.int64), _concat(all_keys, np.uint64)


def _bucket(keys: np.ndarray, bits: int) -> np.ndarray:
    mixed = (keys ^ (keys >> np.uint64(29))) * _MIX
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


def _unique(
    docs: np.ndarray,
    buckets: np.ndarray,
    bits: int,
    n_docs: int,
    kind: Literal["quicksort", "stable"] = "quicksort",
) -> Features:
    pairs = (docs.astype(np.int64) << bits) | buckets
    if n_docs << bits <= _INT32_MAX:
        pairs = pairs.astype(np.int32)  # the same order; numpy sorts 4-byte integers faster
    pairs = np.sort(pairs, kind=kind).astype(np.int64)
    if len(pairs) > 1:
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
    mask = (1 << bits) - 1
    return Features(pairs >> bits, pairs & mask, n_docs)


_INT32_MAX = 2**31 - 1


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
