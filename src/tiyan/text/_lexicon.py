"""jieba's prefix dictionary, stored in buckets on disk so that a process loads only what it reads.

jieba segments a text with a dictionary of words and their prefixes; every key it looks up is a
substring of the text, so each key is either one character of the text or starts with two
consecutive characters of it. A `Lexicon` therefore keeps its entries in buckets hashed by that
character or character pair, and `cover(text)` loads the buckets of `text`'s characters and
character pairs before jieba reads the text: the words are exactly those of the full dictionary,
but a batch of short comments touches a few percent of it (milliseconds instead of the ~0.7 s jieba
needs to load all of it).

The bucketed file is built once per industry (from jieba's dictionary plus the industry dictionary)
and kept in a cache folder (`$TIYAN_CACHE_DIR`, else `$XDG_CACHE_HOME/tiyan`, else
`~/.cache/tiyan`; a per-user temporary folder when that is not writable). Its name carries a digest
of its sources, so an edited dictionary or another jieba version gets a new file (and the old one
is removed). Parsed tables such as the keyword IDF live there too (`cached_table`).

File layout: 8-byte header length, marshal of (FORMAT, total, number of buckets), buckets + 1
offsets (native unsigned 4-byte integers; bucket b spans offsets b to b + 1), then one marshal
block {word: frequency} per bucket. A word lives in the bucket of the CRC-32 of its first two
characters (one for one-character words). 2^20 buckets for jieba's ~500,000 entries: with fewer,
a bucket a text needs often also holds words of an unrelated character pair that hashes to it
(2^18 buckets loaded 104,000 entries for the hotel test split, 2^20 71,000; loading costs per
entry).
"""

from __future__ import annotations

import importlib.util
import marshal
import mmap
import os
import re
import sys
import threading
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import add
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

# hashlib (OpenSSL), tempfile (shutil, bz2, lzma, random) and logging are imported where they are
# needed, not here: every `tiyan text analyze` process imports this module, and only a process
# that builds a cache file needs them.

T = TypeVar("T", bound=dict[str, Any])

FORMAT = 3
BUCKETS = 1 << 20
_HEADER = 8
_OFFSET = array("I").itemsize  # 4 bytes on every platform CPython supports


class LexiconFileError(RuntimeError):
    """A cached lexicon file cannot be read; the message names the file."""


class Lexicon:
    """A word-frequency table filled bucket by bucket, shared with a jieba tokenizer as its FREQ."""

    def __init__(self, data: bytes | mmap.mmap, path: Path | None = None) -> None:
        try:
            size = int.from_bytes(data[:_HEADER], "little")
            version, total, buckets = marshal.loads(data[_HEADER : _HEADER + size])
        except (ValueError, EOFError, TypeError) as exc:
            raise LexiconFileError(f"lexicon {path}: unreadable ({exc})") from exc
        if version != FORMAT:
            raise LexiconFileError(f"lexicon {path}: format {version}, expected {FORMAT}")
        start = _HEADER + size
        self.total: int = total
        self.freq: dict[str, int] = {}
        self._view = memoryview(data)
        self._offsets = self._view[start : start + _OFFSET * (buckets + 1)].cast("I")
        self._blocks_start = start + _OFFSET * (buckets + 1)
        self._mask = buckets - 1
        self._seen: set[str] = set()
        self._loaded: set[int] = set()
        self._lock = threading.Lock()

    def cover(self, text: str) -> None:
        """Load every entry that segmenting `text` can look up."""
        self.cover_pieces((text,))

    def cover_pieces(self, pieces: Iterable[str]) -> None:
        """Load every entry that segmenting each of `pieces` can look up: a tokenizer looks up
        substrings of the blocks it cuts a text into, never a pair of characters across two
        blocks (the pairs around punctuation load nothing any lookup needs)."""
        keys: set[str] = set()
        for piece in pieces:
            keys.update(piece)
            keys.update(map(add, piece, piece[1:]))  # the character pairs (a C loop, no slicing)
        missing = keys - self._seen
        if not missing:
            return
        mask, crc32 = self._mask, zlib.crc32
        with self._lock:
            buckets = {crc32(key.encode("utf-8", "surrogatepass")) & mask for key in missing}
            buckets -= self._loaded
            self._loaded |= buckets
            offsets, view, start = self._offsets, self._view, self._blocks_start
            update = self.freq.update
            for bucket in buckets:
                begin, end = offsets[bucket], offsets[bucket + 1]
                if end > begin:
                    update(marshal.loads(view[start + begin : start + end]))
            self._seen |= missing


def pack(freq: dict[str, int], total: int, buckets: int = BUCKETS) -> bytes:
    """The bucketed file of a full jieba FREQ table and its total (`buckets`: a power of two)."""
    by_bucket: dict[int, dict[str, int]] = defaultdict(dict)
    for word, count in freq.items():
        by_bucket[_bucket(word, buckets)][word] = count
    # one growing buffer and a packed offset table: a list of a million small blocks and
    # their offsets as Python ints would add ~100 MB to building a lexicon
    offsets, blocks = array("I", [0]), bytearray()
    for bucket in range(buckets):
        words = by_bucket.get(bucket)
        if words:
            blocks += marshal.dumps(words)
            if len(blocks) >= 1 << (8 * _OFFSET):
                raise ValueError(f"a lexicon over {len(blocks)} bytes: too big for its offsets")
        offsets.append(len(blocks))
    header = marshal.dumps((FORMAT, total, buckets))
    return b"".join([len(header).to_bytes(_HEADER, "little"), header, offsets.tobytes(), blocks])


def _bucket(word: str, buckets: int) -> int:
    """The bucket of a word: that of its first one or two characters (the keys `cover` uses)."""
    return zlib.crc32(word[:2].encode("utf-8", "surrogatepass")) & (buckets - 1)


def load_or_build(name: str, user_dictionary: Path | None) -> Lexicon:
    """The lexicon of jieba's dictionary plus `user_dictionary`, from the cache or built now."""
    path = cache_dir() / f"jieba-{name}-{_digest(user_dictionary)}.lexicon"
    if path.is_file():
        try:
            return Lexicon(_mapped(path), path)
        except (OSError, ValueError, LexiconFileError):
            pass  # rebuilt and rewritten below
    tokenizer = full_tokenizer(user_dictionary)
    data = pack(tokenizer.FREQ, tokenizer.total)
    _write_atomically(path, data)
    for stale in path.parent.glob(f"jieba-{name}-*.lexicon"):
        if stale != path:
            stale.unlink(missing_ok=True)  # built from an older dictionary or jieba
    return Lexicon(data, path)


def _mapped(path: Path) -> mmap.mmap:
    """The file mapped read-only: only the pages of buckets a process reads are read from disk."""
    with path.open("rb") as handle:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def cached_table(name: str, source: Path, build: Callable[[], T]) -> T:
    """`build()` (a dict of plain values), kept in the cache folder (marshal) until the content
    of `source` changes."""
    content = source.read_bytes()
    path = cache_dir() / f"{name}-{digest(content)}.marshal"
    try:
        value = marshal.loads(path.read_bytes())
        if isinstance(value, dict):
            return value  # type: ignore[return-value]  # what build() gave and marshal kept
    except (OSError, ValueError, EOFError, TypeError):
        pass  # missing or unreadable: built and written below
    table = build()
    _write_atomically(path, marshal.dumps(table))
    for stale in path.parent.glob(f"{name}-*.marshal"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return table


def full_tokenizer(user_dictionary: Path | None) -> Any:
    """A jieba tokenizer with its whole dictionary loaded (slow: used to build lexicons)."""
    import logging

    jieba = import_jieba()
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache_dir())
    tokenizer.initialize()
    if user_dictionary is not None:
        with user_dictionary.open("rb") as handle:  # jieba leaves files it opens itself unclosed
            tokenizer.load_userdict(handle)
    return tokenizer


def import_jieba() -> ModuleType:
    """jieba, imported without pkg_resources (~80 ms; jieba falls back to plain file access)."""
    if "jieba" in sys.modules:
        return sys.modules["jieba"]
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes its import fail
    try:
        import jieba
    finally:
        if blocked and sys.modules.get("pkg_resources", 0) is None:
            del sys.modules["pkg_resources"]
    return jieba


def cache_dir() -> Path:
    """A writable folder for cached lexicons (created when missing)."""
    configured = os.environ.get("TIYAN_CACHE_DIR")
    if configured:
        base = Path(configured)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tiyan"
    for folder in (base, None):
        if folder is None:  # the per-user temporary folder (tempfile probes it: only when needed)
            import tempfile

            folder = Path(tempfile.gettempdir()) / f"tiyan-cache-{_user()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise LexiconFileError(f"no writable cache folder: tried {base} and the temporary folder")


def _digest(user_dictionary: Path | None) -> str:
    folder = jieba_folder()
    source = folder / "dict.txt"
    key = f"{FORMAT} {_jieba_version(folder)} {source.stat().st_size}".encode()
    if user_dictionary is not None:
        key += user_dictionary.read_bytes()
    return digest(key)


def digest(data: bytes) -> str:
    """16 hex digits that change with `data` (names cache files after their sources; zlib's
    checksums, which need no OpenSSL to be loaded, are enough to notice an edited source)."""
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def jieba_folder() -> Path:
    """jieba's package folder, found without importing jieba (~45 ms with its HMM tables)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return Path(str(import_jieba().__file__)).parent  # raises jieba's own ImportError
    return Path(spec.origin).parent


def _jieba_version(folder: Path) -> str:
    source = (folder / "__init__.py").read_text("utf-8")
    found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", source)
    return found.group(1) if found else "unknown"


def dictionary_tags(words: Iterable[str]) -> dict[str, str]:
    """jieba's part-of-speech tag of each of `words` that its dictionary holds ("价格": "n",
    "干净": "a", "保养": "v"), kept in the cache folder for that set of words: the first time
    costs a pass over the 5 MB dictionary."""
    wanted = sorted(set(words))
    folder = jieba_folder()
    source = folder / "dict.txt"
    key = f"{FORMAT} {_jieba_version(folder)} {source.stat().st_size}\n" + "\n".join(wanted)
    try:
        path: Path | None = cache_dir() / f"jieba-tags-{digest(key.encode())}.marshal"
    except LexiconFileError:
        path = None  # no cache folder: read the dictionary every time
    if path is not None:
        try:
            value = marshal.loads(path.read_bytes())
            if isinstance(value, dict):
                return value
        except (OSError, ValueError, EOFError, TypeError):
            pass  # missing or unreadable: built and written below
    looked_for = set(wanted)
    tags: dict[str, str] = {}
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[0] in looked_for:
                tags[parts[0]] = parts[2]
    if path is not None:
        _write_atomically(path, marshal.dumps(tags))
    return tags


Table = dict[str, float]
HiddenMarkovTables = tuple[Table, dict[str, Table], dict[str, Table]]


def hidden_markov_tables() -> HiddenMarkovTables:
    """jieba's HMM probabilities (start, transition, emission), kept in the cache folder so that
    a process does not import jieba to read them."""
    folder = jieba_folder()
    emit = folder / "finalseg" / "prob_emit.py"
    key = f"{FORMAT} {_jieba_version(folder)} {emit.stat().st_size}"
    path = cache_dir() / f"jieba-hmm-{digest(key.encode())}.marshal"
    try:
        value = marshal.loads(path.read_bytes())
        if isinstance(value, tuple) and len(value) == 3:
            return value
    except (OSError, ValueError, EOFError, TypeError):
        pass  # missing or unreadable: built and written below
    finalseg = import_jieba().finalseg
    tables: HiddenMarkovTables = (finalseg.start_P, finalseg.trans_P, finalseg.emit_P)
    _write_atomically(path, marshal.dumps(tables))
    for stale in path.parent.glob("jieba-hmm-*.marshal"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return tables


def _write_atomically(path: Path, data: bytes) -> None:
    import tempfile

    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    except OSError:
        return  # a read-only cache only costs the next process the build
    try:
        with os.fdopen(handle, "wb") as sink:
            sink.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


def _user() -> int:
    return os.getuid() if hasattr(os, "getuid") else 0
