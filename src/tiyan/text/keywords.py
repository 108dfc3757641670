"""Keywords of a comment: TF-IDF of its content words against a shipped background IDF table.

Chinese text is segmented with jieba (plus the industry dictionary); English words are found with
a simple regular expression. Stop-words, punctuation, numbers and one-character Chinese words are
not keywords. The background document frequencies come from the train splits of the labelled
corpora (`dictionaries/idf_zh.txt`, `dictionaries/idf_en.txt`; rebuild them with
`python -m tiyan.text.keywords /work/shared/data`); parsed tables are cached next to the jieba
lexicons (see `_lexicon`).
"""

from __future__ import annotations

import csv
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tiyan.text._lexicon import cached_table
from tiyan.text.language import EN, detect_language
from tiyan.text.redact import strip_placeholders
from tiyan.text.segment import DICTIONARIES, segment

IDF_FILES = {"zh": DICTIONARIES / "idf_zh.txt", "en": DICTIONARIES / "idf_en.txt"}
STOP_WORDS_ZH_FILE = DICTIONARIES / "stopwords_zh.txt"
STOP_WORDS_EN_FILE = DICTIONARIES / "stopwords_en.txt"
MIN_DOCUMENT_FREQUENCY = 3

_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_HANDLES_AND_LINKS = re.compile(r"@\w+|https?://\S+|www\.\S+")
# the same pattern string as elsewhere in tiyan.text: compiled once (re caches by string)
_HAS_HAN = re.compile(r"[\u4e00-\u9fff]")


class IdfTableError(ValueError):
    """The shipped IDF table is malformed; the message names the file and line."""


@dataclass(frozen=True)
class IdfTable:
    """Inverse document frequency per word, with a default for words never seen."""

    weights: Mapping[str, float]
    default: float

    def __getitem__(self, word: str) -> float:
        return self.weights.get(word, self.default)


def extract_keywords(
    text: str, industry: str | None = None, k: int = 5, detected: str | None = None
) -> list[str]:
    """The `k` words of `text` with the highest TF-IDF, best first (ties: first seen first).

    `detected` is `detect_language(text)` when the caller already has it.
    """
    if k <= 0 or not text.strip():
        return []
    language = "en" if (detected or detect_language(text)) == EN else "zh"
    words = content_words(text, industry, language)
    if not words:
        return []
    idf = load_idf(language)
    weights, default = idf.weights.get, idf.default
    counts = Counter(words)  # its keys in the order the words are first seen
    # a stable sort of words in first-seen order: ties stay first seen first
    ranked = sorted(counts, key=lambda w: -counts[w] * weights(w, default))
    return ranked[:k]


def content_words(
    text: str, industry: str | None = None, language: str = "zh", min_han_chars: int = 2
) -> list[str]:
    """The words of `text` that can carry meaning, in order (English lower-cased).

    Chinese words shorter than `min_han_chars` are left out (1 keeps 咸, 贵, 吵 …). PII
    placeholders of redacted text ([手机号] …) are not words.
    """
    if "[" in text:
        text = strip_placeholders(text)
    if language == "en":
        return english_words(text)
    stop_words = chinese_stop_words()
    verdicts = _content_verdicts(min_han_chars)
    words = []
    for token in segment(text, industry):
        word = token.lower() if token.isascii() else token
        keep = verdicts.get(word)
        if keep is None:  # the same words come back in comment after comment: decided once
            if len(verdicts) >= _VERDICTS_KEPT:
                verdicts.clear()
            keep = verdicts[word] = _is_content_word(word, stop_words, min_han_chars)
        if keep:
            words.append(word)
    return words


_VERDICTS_KEPT = 200_000


@cache
def _content_verdicts(min_han_chars: int) -> dict[str, bool]:
    """Whether each word seen so far is a content word (`_is_content_word`), per minimum length."""
    return {}


def english_words(text: str) -> list[str]:
    """Lower-cased English words of `text`: no stop-words, one-letter words, @handles, links."""
    text = _HANDLES_AND_LINKS.sub(" ", text)
    words = (match.group().lower().replace("'", "") for match in _ENGLISH_WORD.finditer(text))
    return [word for word in words if len(word) > 1 and not _is_english_stop_word(word)]


def _is_content_word(word: str, stop_words: frozenset[str], min_han_chars: int) -> bool:
    if word in stop_words:
        return False
    if _HAS_HAN.search(word):
        return len(word) >= min_han_chars
    return word.isascii() and word.isalpha() and len(word) > 1 and not _is_english_stop_word(word)


def _is_english_stop_word(word: str) -> bool:
    return word in english_stop_words()


@cache
def chinese_stop_words() -> frozenset[str]:
    """The shipped Chinese stop-word list."""
    return _word_list(STOP_WORDS_ZH_FILE)


@cache
def english_stop_words() -> frozenset[str]:
    """The shipped English stop-word list (lower case, apostrophes dropped)."""
    return _word_list(STOP_WORDS_EN_FILE)


def _word_list(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@cache
def load_idf(language: str = "zh") -> IdfTable:
    """The shipped IDF table of `language` ("zh" or "en"); unseen words get the median IDF."""
    path = IDF_FILES[language]
    weights = cached_table(f"idf-{language}", path, lambda: parse_idf(path))
    ordered = sorted(weights.values())
    return IdfTable(weights, ordered[len(ordered) // 2])


def parse_idf(path: Path) -> dict[str, float]:
    """The `word idf` lines of an IDF table file (`#` lines are comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = [line.rpartition(" ") for line in lines if line.strip() and not line.startswith("#")]
    try:
        weights = {word: float(value) for word, _, value in entries}
    except ValueError:
        raise _idf_error(path, lines) from None
    if not weights:
        raise IdfTableError(f"{path}: no entries")
    return weights


def _idf_error(path: Path, lines: list[str]) -> IdfTableError:
    """The error naming the first line of an IDF table whose value is not a number."""
    for number, line in enumerate(lines, start=1):
        value = line.rpartition(" ")[2]
        if line.strip() and not line.startswith("#"):
            try:
                float(value)
            except ValueError:
                return IdfTableError(f"{path}, line {number}: {value!r} is not a number")
    return IdfTableError(f"{path}: unreadable")


# --- building the background tables --------------------------------------------------------------

# corpus folder -> industry dictionary used to segment it
ZH_CORPORA = {
    "chnsenticorp_htl": "hotel",
    "waimai_10k": "restaurant",
    "online_shopping_10_cats": "retail",
    "car_aspects_ccf2018": "car_product",
}
EN_CORPORA = {"twitter_airline": None}


def document_frequencies(documents: Iterable[list[str]]) -> tuple[Counter[str], int]:
    """How many documents contain each word, and how many documents there were."""
    frequencies: Counter[str] = Counter()
    total = 0
    for words in documents:
        frequencies.update(set(words))
        total += 1
    return frequencies, total


def idf_lines(
    frequencies: Counter[str], total: int, min_df: int = MIN_DOCUMENT_FREQUENCY
) -> list[str]:
    """`word idf` lines (smoothed IDF, ln((1+N)/(1+df))+1) for words seen in >= min_df documents."""
    kept = [(word, df) for word, df in frequencies.items() if df >= min_df and " " not in word]
    kept.sort(key=lambda item: (-item[1], item[0]))
    return [f"{word} {math.log((1 + total) / (1 + df)) + 1:.4f}" for word, df in kept]


def _train_texts(data: Path, corpus: str) -> Iterable[str]:
    with open(data / corpus / f"{corpus}.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["split"] == "train":
                yield row["text"]


def build_idf_files(data: Path) -> None:
    """Recompute idf_zh.txt and idf_en.txt from the train splits of the corpora under `data`."""
    tables: dict[str, dict[str, str | None]] = {"zh": dict(ZH_CORPORA), "en": dict(EN_CORPORA)}
    for language, corpora in tables.items():
        documents = (
            content_words(text, industry, language)
            for corpus, industry in corpora.items()
            for text in _train_texts(data, corpus)
        )
        frequencies, total = document_frequencies(documents)
        sources = ", ".join(corpora)
        header = f"# word idf; {total} train documents of {sources}; df >= {MIN_DOCUMENT_FREQUENCY}"
        IDF_FILES[language].write_text(
            "\n".join([header, *idf_lines(frequencies, total)]) + "\n", encoding="utf-8"
        )
        print(f"{IDF_FILES[language].name}: {total} documents, {len(frequencies)} words")


if __name__ == "__main__":
    build_idf_files(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))
