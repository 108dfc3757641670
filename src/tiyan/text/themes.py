"""New-theme discovery: group similar comments (usually the negative ones) into themes.

Each comment becomes a TF-IDF vector of its content words (jieba for Chinese, one-character words
such as 咸 or 吵 included; a word pattern for English), without words that only say how the customer
feels (差评, 失望, worst …; `dictionaries/theme_generic_words.txt`). The vectors are reduced to a
few dozen dimensions with truncated SVD (LSA) and clustered with k-means (full KMeans up to 3,000
comments, MiniBatchKMeans above). When `k` is not given, the number of themes (2 to 12, at most one
per five comments) with the best cosine silhouette (on a sample for large inputs) is chosen. Words
the taxonomy already covers can be left out, so that what surfaces is what the taxonomy does not
know yet. Labels are the words most over-represented in a theme; quotes are the comments nearest
its centre, short ones first. Everything is seeded: the same input gives the same themes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from tiyan.text.keywords import content_words
from tiyan.text.segment import DICTIONARIES
from tiyan.text.taxonomy import Taxonomy

GENERIC_WORDS_FILE = DICTIONARIES / "theme_generic_words.txt"

SEED = 20240601
MAX_THEMES = 12
MIN_THEME_SIZE = 2
AVERAGE_THEME_SIZE = 5  # when choosing k: no more themes than comments / 5
FULL_KMEANS_LIMIT = 3000  # up to this many comments, full KMeans; above, MiniBatchKMeans
LABEL_TERMS = 5
SINGLE_CHARACTER_LABEL_WEIGHT = 0.5
EXAMPLE_QUOTES = 3
QUOTE_CANDIDATES = 12  # quotes come from this many comments nearest the centre, shorter first
LONG_QUOTE_CHARS = 140
SILHOUETTE_SAMPLE = 2000
SVD_COMPONENTS = 40
LANGUAGES = ("zh", "en")


class ThemeDiscoveryError(ValueError):
    """The arguments of discover_themes cannot work (unknown language, k below 1)."""


@dataclass(frozen=True)
class Theme:
    """A group of similar comments: its most telling words, size, typical quotes and members."""

    label_terms: list[str]
    size: int
    example_quotes: list[str]
    member_indices: list[int]


def discover_themes(
    texts: Sequence[str],
    *,
    k: int | None = None,
    language: str = "zh",
    exclude_aspects: Taxonomy | None = None,
    seed: int = SEED,
) -> list[Theme]:
    """Cluster `texts` into themes, largest first; member_indices index into `texts`."""
    _check_arguments(k, language)
    excluded = exclude_aspects.terms if exclude_aspects is not None else frozenset()
    documents = [_words(text, language, excluded) for text in texts]
    usable = [index for index, words in enumerate(documents) if words]
    if len(usable) < 2 * MIN_THEME_SIZE:
        return _single_theme(texts, documents, usable) if usable else []
    vectorised = _vectorise([documents[index] for index in usable])
    if vectorised is None:  # no word occurs in enough comments
        return _single_theme(texts, documents, usable)
    weights, vocabulary = vectorised
    with threadpool_limits(limits=1):  # small dense problems: threads only add overhead
        points = _reduce(weights, seed)
        labels = _cluster(points, k, seed)
    themes = [
        _theme(texts, usable, weights, points, labels, cluster, vocabulary)
        for cluster in np.unique(labels)
    ]
    return sorted(themes, key=lambda theme: (-theme.size, theme.member_indices[0]))


def _vectorise(documents: list[list[str]]) -> tuple[csr_matrix, np.ndarray] | None:
    vectorizer = TfidfVectorizer(
        analyzer=_identity, min_df=_min_df(len(documents)), sublinear_tf=True
    )
    try:
        weights = vectorizer.fit_transform(documents)
    except ValueError:
        return None
    return weights, vectorizer.get_feature_names_out()


def _check_arguments(k: int | None, language: str) -> None:
    if language not in LANGUAGES:
        raise ThemeDiscoveryError(f"language {language!r} is not supported; use one of {LANGUAGES}")
    if k is not None and k < 1:
        raise ThemeDiscoveryError(f"k must be at least 1, got {k}")


def _identity(words: list[str]) -> list[str]:
    return words


def _words(text: str, language: str, excluded: frozenset[str]) -> list[str]:
    generic = generic_words()
    words = [w for w in content_words(text, None, language, min_han_chars=1) if w not in generic]
    if not excluded:
        return words
    return [word for word in words if not _covered(word, excluded)]


@cache
def generic_words() -> frozenset[str]:
    """Words about feelings rather than topics (差评, 失望, worst …), left out of themes."""
    lines = GENERIC_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _covered(word: str, excluded: frozenset[str]) -> bool:
    """A word the taxonomy covers: one of its terms, or a compound holding a term (价格便宜)."""
    if word in excluded:
        return True
    return len(word) > 2 and any(
        word[i : i + n] in excluded for n in (2, 3) for i in range(len(word) - n + 1)
    )


def _min_df(documents: int) -> int:
    return 2 if documents < 2000 else 3


def _reduce(weights: csr_matrix, seed: int) -> np.ndarray:
    components = min(SVD_COMPONENTS, weights.shape[1] - 1, weights.shape[0] - 1)
    if components < 2:
        return normalize(weights.toarray())
    svd = TruncatedSVD(n_components=components, random_state=seed)
    return normalize(svd.fit_transform(weights))


def _cluster(points: np.ndarray, k: int | None, seed: int) -> np.ndarray:
    distinct = len(np.unique(points.round(6), axis=0))  # k-means cannot make more groups
    if k is not None:
        return _kmeans(points, min(k, distinct, max(1, len(points) // MIN_THEME_SIZE)), seed)
    best_score, best_labels = -2.0, np.zeros(len(points), dtype=int)
    most = min(MAX_THEMES, distinct, max(2, len(points) // AVERAGE_THEME_SIZE))
    for candidate in range(2, most + 1):
        labels = _kmeans(points, candidate, seed)
        if len(np.unique(labels)) < 2:
            continue
        score = _silhouette(points, labels, seed)
        if score > best_score:
            best_score, best_labels = score, labels
    return best_labels


def _kmeans(points: np.ndarray, k: int, seed: int) -> np.ndarray:
    if k <= 1:
        return np.zeros(len(points), dtype=int)
    if len(points) <= FULL_KMEANS_LIMIT:
        return KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(points)
    model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=1024)
    return model.fit_predict(points)


def _silhouette(points: np.ndarray, labels: np.ndarray, seed: int) -> float:
    sample = min(len(points), SILHOUETTE_SAMPLE)
    return float(
        silhouette_score(points, labels, metric="cosine", sample_size=sample, random_state=seed)
    )


def _theme(
    texts: Sequence[str],
    usable: list[int],
    weights: csr_matrix,
    points: np.ndarray,
    labels: np.ndarray,
    cluster: int,
    vocabulary: np.ndarray,
) -> Theme:
    rows = np.flatnonzero(labels == cluster)
    return Theme(
        label_terms=_label_terms(weights, rows, vocabulary),
        size=len(rows),
        example_quotes=_example_quotes(texts, usable, points, rows),
        member_indices=[usable[row] for row in rows],
    )


def _label_terms(weights: csr_matrix, rows: np.ndarray, vocabulary: np.ndarray) -> list[str]:
    inside = np.asarray(weights[rows].mean(axis=0)).ravel()
    overall = np.asarray(weights.mean(axis=0)).ravel()
    score = (inside - overall) * _label_weights(vocabulary)
    order = np.argsort(-score, kind="stable")[:LABEL_TERMS]
    return [str(vocabulary[index]) for index in order if inside[index] > 0]


def _label_weights(vocabulary: np.ndarray) -> np.ndarray:
    """One-character words (号, 月, 小) make poor labels: they need twice the score."""
    single = np.fromiter((len(word) == 1 for word in vocabulary), dtype=bool, count=len(vocabulary))
    return np.where(single, SINGLE_CHARACTER_LABEL_WEIGHT, 1.0)


def _example_quotes(
    texts: Sequence[str], usable: list[int], points: np.ndarray, rows: np.ndarray
) -> list[str]:
    centre = points[rows].mean(axis=0)
    closest = rows[np.argsort(-(points[rows] @ centre), kind="stable")][:QUOTE_CANDIDATES]
    candidates = list(dict.fromkeys(texts[usable[row]].strip() for row in closest))
    candidates.sort(key=lambda quote: len(quote) > LONG_QUOTE_CHARS)  # stable: nearest first
    return candidates[:EXAMPLE_QUOTES]


def _single_theme(
    texts: Sequence[str], documents: list[list[str]], usable: list[int]
) -> list[Theme]:
    counts = Counter(word for index in usable for word in documents[index])
    label = [word for word, _ in counts.most_common(LABEL_TERMS)]
    quotes = list(dict.fromkeys(texts[index].strip() for index in usable))[:EXAMPLE_QUOTES]
    return [Theme(label, len(usable), quotes, list(usable))]
