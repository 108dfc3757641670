"""The sharded jieba lexicon: same words as jieba's full dictionary, loaded a bucket at a time."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tiyan.text._lexicon import Lexicon, LexiconFileError, full_tokenizer, load_or_build, pack
from tiyan.text.segment import Tokenizer, dictionary_path, tokenizer_for

DATA = Path("/work/shared/data")
SAMPLES = [
    "服务顾问很专业，4S店的工时费太贵，钣金喷漆做得不错",
    "送餐超快，味道也不错！！就是米饭有点硬 2.5元的饮料 also OK",
    "The room was dirty, but OK。 房间 很 干净",
    "",
    "  ",
    "一",
    "ａｂｃ１２３ 4S店 2.5元 50% C++ a-b 小区门口的张三丰说嗯嗯嗯",
    "\r\n哈哈\t嘿嘿 𠀀好的，蛮赞滴，老板人灰常nice",
]


def _corpus_texts(corpus: str, limit: int) -> list[str]:
    path = DATA / corpus / f"{corpus}.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for _, row in zip(range(limit), csv.DictReader(handle), strict=False)]


@pytest.mark.parametrize(
    ("industry", "corpus"),
    [(None, "chnsenticorp_htl"), ("restaurant", "waimai_10k"), ("car_aftersales", "waimai_10k")],
)
def test_lazy_lexicon_segments_exactly_like_the_full_dictionary(
    industry: str | None, corpus: str
) -> None:
    texts = SAMPLES + _corpus_texts(corpus, 400)
    full = full_tokenizer(None if industry is None else dictionary_path(industry))
    path = None if industry is None else dictionary_path(industry)
    fresh = Tokenizer(load_or_build(industry or "base", path))
    assert [fresh.cut(text) for text in texts] == [full.lcut(text, HMM=True) for text in texts]


def test_short_texts_load_a_small_part_of_the_dictionary() -> None:
    lexicon = load_or_build("base", None)
    fresh = Tokenizer(lexicon)
    fresh.cut("味道不错，送餐很快")
    assert 0 < len(lexicon.freq) < 5000
    assert lexicon.total > 1_000_000


def test_pack_round_trip_holds_every_word_a_text_can_reach() -> None:
    freq = {"味": 5, "味道": 9, "味道不": 0, "味道不错": 3, "错": 2, "x": 1}
    lexicon = Lexicon(pack(freq, 20, buckets=4))
    lexicon.cover("味道不错")
    assert lexicon.total == 20
    assert {word: lexicon.freq[word] for word in ("味", "味道", "味道不", "味道不错", "错")} == {
        "味": 5,
        "味道": 9,
        "味道不": 0,
        "味道不错": 3,
        "错": 2,
    }


def test_covering_pieces_loads_no_pair_across_two_pieces() -> None:
    freq = {"味": 5, "味道": 9, "道": 4, "道不": 0, "道不错": 2, "不": 7, "不错": 3, "错": 2}
    lexicon = Lexicon(pack(freq, 40))
    lexicon.cover_pieces(["味道", "不错"])  # as a tokenizer cuts "味道，不错"
    assert set(lexicon.freq) == {"味", "味道", "道", "不", "不错", "错"}
    lexicon.cover("道不错")
    assert lexicon.freq["道不错"] == 2


def test_a_truncated_lexicon_file_is_a_clear_error() -> None:
    data = pack({"好": 1}, 1, buckets=2)
    with pytest.raises(LexiconFileError, match="broken.lexicon"):
        Lexicon(data[:12], Path("broken.lexicon"))


def test_a_corrupt_cached_file_is_rebuilt_and_stale_ones_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIYAN_CACHE_DIR", str(tmp_path))
    stale = tmp_path / "jieba-hotel-0123456789abcdef.lexicon"
    stale.write_bytes(b"from an older dictionary")
    first = load_or_build("hotel", dictionary_path("hotel"))
    assert not stale.exists()
    (cached,) = tmp_path.glob("jieba-hotel-*.lexicon")
    cached.write_bytes(b"not a lexicon")
    rebuilt = load_or_build("hotel", dictionary_path("hotel"))
    assert rebuilt.total == first.total
    assert cached.read_bytes() != b"not a lexicon"


def test_tokenizer_for_shares_one_lexicon_per_industry() -> None:
    assert tokenizer_for("hotel").lexicon is tokenizer_for("hotel").lexicon
    assert tokenizer_for("hotel").lexicon is not tokenizer_for(None).lexicon
