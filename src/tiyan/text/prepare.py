"""`tiyan text prepare`: build the cache files `tiyan text analyze` reads, as an installation step.

The analysis reads jieba's dictionary as a bucketed lexicon per industry, jieba's HMM tables, the
keyword IDF tables, the parsed taxonomies and their terms' parts of speech from the cache folder
(`_lexicon.cache_dir`). A process that finds one missing builds it (a lexicon takes a second or two
of CPU), so without this step the first `analyze` on a fresh machine is several times slower than
every later one. `make setup` runs it; it is quick when everything is in place (it only checks the
files' names, which carry a digest of their sources), so it is safe to run again after an upgrade.

    from tiyan.text.prepare import prepare_caches
    report = prepare_caches()          # every industry
    report = prepare_caches(["hotel"]) # jieba's own dictionary and the hotel one
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tiyan.text._lexicon import cache_dir, hidden_markov_tables, load_or_build
from tiyan.text.keywords import IDF_FILES, load_idf
from tiyan.text.segment import available_industries, dictionary_path
from tiyan.text.taxonomy import INDUSTRIES, load_taxonomy, term_tags


@dataclass(frozen=True)
class PrepareReport:
    """What `prepare_caches` left in the cache folder, and how long it took."""

    folder: Path
    lexicons: tuple[str, ...]
    taxonomies: tuple[str, ...]
    seconds: float
    built: tuple[str, ...]
    """Names of the files written by this call (empty when everything was in place)."""


def prepare_caches(
    industries: Iterable[str] | None = None, log: Callable[[str], None] | None = None
) -> PrepareReport:
    """Build every cache file the analysis of `industries` reads (None: every industry).

    jieba's own dictionary (the lexicon of `analyze` without `--industry`) is always included.
    Raises `ValueError` for a name that is not one of INDUSTRIES.
    """
    chosen = tuple(INDUSTRIES if industries is None else industries)
    unknown = [name for name in chosen if name not in INDUSTRIES]
    if unknown:
        expected = ", ".join(INDUSTRIES)
        raise ValueError(f"unknown industry {unknown[0]!r}; expected one of {expected}")
    say = log or (lambda line: None)
    started = time.perf_counter()
    folder = cache_dir()
    before = _files(folder)
    with_dictionary = set(available_industries())
    lexicons = ("base", *(name for name in chosen if name in with_dictionary))
    for name in lexicons:
        say(f"lexicon {name}")
        load_or_build(name, None if name == "base" else dictionary_path(name))
    say("HMM tables")
    hidden_markov_tables()
    # the loaders keep what they read for the rest of the process (functools.cache), so a
    # process that read a table before would not look at the cache folder again: their undecorated
    # functions read the cache file, or write it
    for language in IDF_FILES:
        say(f"IDF table {language}")
        load_idf.__wrapped__(language)
    for name in chosen:
        say(f"taxonomy {name}")
        load_taxonomy.__wrapped__(name)
        term_tags.__wrapped__(name)
    built = tuple(sorted(_files(folder) - before))
    return PrepareReport(folder, lexicons, chosen, time.perf_counter() - started, built)


def _files(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir() if path.is_file()}
