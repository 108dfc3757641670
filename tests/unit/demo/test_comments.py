"""The demo comments: deterministic, consistent with the scores, varied, with a little PII."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping

import pytest

from tiyan.demo import _phrases_after_sales, _phrases_hotel_en, _phrases_hotel_zh, _phrases_sales
from tiyan.demo._phrases_base import Phrasebook
from tiyan.demo.comments import (
    ScoreOutOfRange,
    UnknownLanguage,
    UnknownScoreCode,
    after_sales_comment,
    hotel_comment,
    sales_comment,
)

AFTER_SALES = _phrases_after_sales.BOOK
HOTEL_ZH, HOTEL_EN = _phrases_hotel_zh.BOOK, _phrases_hotel_en.BOOK
SALES = _phrases_sales.BOOK

# Words that only ever appear when a customer complains, in the phrasings of the phrase books.
# fmt: off
COMPLAINT_WORDS_ZH = (
    # judgement and anger
    "差", "失望", "不满意", "不推荐", "不会推荐", "不会再", "再也不", "后悔", "投诉", "整改",
    "重视", "糟", "气死", "踩雷", "名不副实", "别来", "慎", "坑", "离谱", "无语", "恶心", "反感",
    "烦人", "敷衍", "糊弄", "不爽", "不舒服", "不放心",
    # middling
    "一般", "中规中矩", "马马虎虎", "有待提高", "提升空间", "就那样", "不算好",
    # waiting and time
    "慢", "等了", "干等", "排队", "拖", "催", "耽误", "晚了", "延误", "一推再推", "大半天",
    "一个星期", "一天才", "第二天才", "一个小时才", "四十分钟", "跑了两趟", "请了一天假",
    "修完再看",
    # things not done
    "没人", "没有", "没给", "没说", "没修", "没洗", "没做", "没换", "没看", "没让", "没带", "没提",
    "没安排", "没睡", "没准备", "没处理", "没讲", "没介绍", "没感受", "没法", "没了", "没个",
    "没等到", "没解释", "没预约", "没好", "没刷", "没倒", "没敲门", "没送来", "没交代", "什么都没",
    "啥也没", "漏", "少做", "照收", "还是旧的", "自己去", "说去问", "石沉大海", "打太极", "不回",
    "不说", "不提醒", "不陪", "不管", "说不准", "不干净", "不接受", "打不通", "一问三不知", "占线",
    "无视",
    # staff
    "不专业", "不知道", "不耐烦", "不想", "不熟悉", "爱答不理", "冷冰冰", "冷漠", "傲慢", "凶",
    "冷淡", "冲", "玩手机", "支支吾吾", "含糊", "听不懂", "说不明白", "不清楚", "一头雾水",
    # money
    "贵", "低", "不值", "虚高", "翻倍", "多收", "扣了", "乱收费", "吓一跳", "不一样",
    # the car and the work
    "异响", "又亮", "又犯", "返工", "老毛病", "白跑", "还在", "隐患", "脚印", "划痕", "繁琐",
    "草率", "异味", "快没了",
    # rooms, food, facilities
    "脏", "吵", "闷", "点乱", "些乱", "抽烟", "烟味", "霉", "污渍", "水垢", "头发", "发黄", "又硬",
    "塌陷", "怪味", "粗糙", "腰疼", "噪音", "施工", "大声", "车声", "嗡嗡", "一清二楚", "不制冷",
    "不给力", "打不开", "睡不着", "睡不下", "调不了", "热得", "冻得", "滴水", "单调", "腻",
    "少得可怜", "不像样", "凉的", "凉了", "咸", "刷锅水", "稀烂", "难吃", "空盘", "坏", "挤",
    "老旧", "维修关闭", "约不上", "用不上", "算错", "空的", "饿", "难受", "不对劲", "浪费", "太小",
    "太短", "太长", "太少", "太冷",
)
COMPLAINT_WORDS_EN = (
    r"not\b", r"\w*n't\b", r"never\b", r"nobody", r"neither", r"bad\b", r"poor", r"worst",
    r"terrible", r"disappoint", r"let down", r"avoid", r"save your money", r"fix\b", r"average",
    r"could be better", r"nothing special", r"so-so", r"mediocre", r"needs some work",
    r"mixed feelings", r"room for improvement", r"hope they improve", r"nothing went right",
    r"nothing more", r"dirty", r"stain", r"gross", r"hair\b", r"grey", r"dust", r"musty", r"mould",
    r"hard\b", r"sore", r"flat\b", r"lumpy", r"sagged", r"strange smell", r"too small", r"rough",
    r"worn", r"broken", r"freezing", r"stuffy", r"dripping", r"switching off", r"paper thin",
    r"noise", r"noisy", r"shouting", r"awake", r"buzzing", r"limited", r"boring", r"almost no\b",
    r"anything left", r"uninspiring", r"bland", r"cold", r"greasy", r"tasteless", r"undrinkable",
    r"overcooked", r"soggy", r"waited", r"slow", r"over an hour", r"long waits", r"three times",
    r"tiny", r"too early", r"cramped", r"crowded", r"cloudy", r"without notice", r"too short",
    r"expensive", r"amateurish", r"impossible", r"far from", r"pushing", r"dated", r"shabby",
    r"half an hour", r"unhelpful", r"wrong", r"queue", r"for ages", r"without knocking", r"useless",
    r"next day", r"rude", r"indifferent", r"unfriendly", r"impatient", r"arrogant", r"ignor",
    r"unpleasant", r"overpriced", r"ridiculous", r"better for less", r"without warning",
    r"confusing", r"different from", r"sneaky", r"zero recognition", r"reeked", r"deducted",
    r"weeks", r"only mentioned", r"no air",
)
# fmt: on
_COMPLAINT_EN = re.compile(r"\b(?:" + "|".join(COMPLAINT_WORDS_EN) + ")", re.IGNORECASE)

PII_PATTERN = re.compile(
    r"1[3-9]\d[ -]?\d{4}[ -]?\d{4}"  # mobile number, as typed
    r"|[\w.]+@[\w.]+\.[a-z]{2,}"  # e-mail address
    r"|[粤京沪湘桂][A-Z]·?[A-Z0-9]{5,6}"  # licence plate
)


PLATE = re.compile(r"[粤京沪湘桂][A-Z]·?[A-Z0-9]{5,6}")


def is_chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", PLATE.sub("", text)))


def complains(text: str) -> bool:
    if is_chinese(text):
        return any(word in text for word in COMPLAINT_WORDS_ZH)
    return bool(_COMPLAINT_EN.search(text))


# --- score factories -------------------------------------------------------------------------


def realistic_scores(rng: random.Random, book: Phrasebook) -> dict[str, int | bool]:
    """A response as the demo world makes them: a mood per customer, items scattered around it."""
    mood = rng.choice((1.8, 3.0, 3.8, 4.3, 4.6, 4.8))
    scores: dict[str, int | bool] = {
        code: max(1, min(5, round(rng.gauss(mood, 0.8)))) for code in book.ratings
    }
    scores.update({code: rng.random() < 0.3 + mood / 7 for code in book.processes})
    mean = sum(int(scores[code]) for code in book.ratings) / len(book.ratings)
    scores["csat"] = max(1, min(5, round(mean + rng.gauss(0, 0.4))))
    scores["nps"] = max(0, min(10, round((mean - 1) * 2.5 + rng.gauss(0, 1.2))))
    return scores


def uniform_scores(book: Phrasebook, rating: int, done: bool, nps: int) -> dict[str, int | bool]:
    scores: dict[str, int | bool] = {code: rating for code in book.ratings}
    scores.update({code: done for code in book.processes})
    scores.update({"csat": rating, "nps": nps})
    return scores


Writer = Callable[[random.Random, Mapping[str, int | bool]], str | None]
WRITERS: dict[str, tuple[Phrasebook, Writer]] = {
    "after-sales": (AFTER_SALES, lambda rng, s: after_sales_comment(rng, s, advisor_name="王晓静")),
    "hotel-zh": (HOTEL_ZH, lambda rng, s: hotel_comment(rng, s)),
    "hotel-en": (HOTEL_EN, lambda rng, s: hotel_comment(rng, s, language="en")),
    "sales": (SALES, lambda rng, s: sales_comment(rng, s, consultant_name="欧阳娜")),
}


def comments(survey: str, seed: int, count: int) -> list[str | None]:
    book, write = WRITERS[survey]
    rng = random.Random(seed)
    return [write(rng, realistic_scores(rng, book)) for _ in range(count)]


def written(survey: str, seed: int, count: int) -> list[str]:
    """The first `count` non-empty comments of a realistic stream of responses."""
    book, write = WRITERS[survey]
    rng = random.Random(seed)
    texts: list[str] = []
    while len(texts) < count:
        text = write(rng, realistic_scores(rng, book))
        if text is not None:
            texts.append(text)
    return texts


# --- determinism -----------------------------------------------------------------------------


@pytest.mark.parametrize("survey", WRITERS)
def test_same_seed_gives_the_same_comments(survey: str) -> None:
    assert comments(survey, seed=11, count=300) == comments(survey, seed=11, count=300)


@pytest.mark.parametrize("survey", WRITERS)
def test_another_seed_gives_other_comments(survey: str) -> None:
    assert comments(survey, seed=11, count=300) != comments(survey, seed=12, count=300)


def test_the_order_of_the_score_mapping_does_not_change_the_comment() -> None:
    scores = realistic_scores(random.Random(5), AFTER_SALES)
    reversed_scores = dict(reversed(list(scores.items())))
    first = [after_sales_comment(random.Random(seed), scores) for seed in range(50)]
    assert first == [
        after_sales_comment(random.Random(seed), reversed_scores) for seed in range(50)
    ]


# --- consistency with the scores ------------------------------------------------------------


def test_a_detractor_with_poor_work_quality_always_complains() -> None:
    scores = uniform_scores(AFTER_SALES, rating=5, done=True, nps=2)
    scores.update({"sat_work_quality": 1, "csat": 2})
    texts = [after_sales_comment(random.Random(seed), scores) for seed in range(1500)]
    written_texts = [text for text in texts if text is not None]
    assert len(written_texts) > 900
    assert all(complains(text) for text in written_texts), [
        t for t in written_texts if not complains(t)
    ][:5]


@pytest.mark.parametrize("survey", WRITERS)
def test_a_promoter_who_gave_all_fives_never_complains(survey: str) -> None:
    book, write = WRITERS[survey]
    scores = uniform_scores(book, rating=5, done=True, nps=10)
    texts = [write(random.Random(seed), scores) for seed in range(1500)]
    written_texts = [text for text in texts if text is not None]
    assert len(written_texts) > 800
    assert not [text for text in written_texts if complains(text)]


@pytest.mark.parametrize("survey", ["hotel-zh", "hotel-en", "sales"])
def test_a_detractor_who_gave_ones_always_complains(survey: str) -> None:
    book, write = WRITERS[survey]
    scores = uniform_scores(book, rating=1, done=False, nps=0)
    texts = [write(random.Random(seed), scores) for seed in range(800)]
    assert all(complains(text) for text in texts if text is not None)


def test_a_missed_follow_up_call_is_the_complaint_when_nothing_else_went_wrong() -> None:
    scores = uniform_scores(AFTER_SALES, rating=4, done=True, nps=5)
    scores["proc_followup_call"] = False
    texts = [after_sales_comment(random.Random(seed), scores) for seed in range(400)]
    written_texts = [text for text in texts if text is not None]
    assert all("回访" in text or "跟进" in text for text in written_texts)


def test_promoters_praise_the_items_they_rated_five() -> None:
    scores = uniform_scores(HOTEL_ZH, rating=4, done=True, nps=10)
    scores["fac_pool"] = 5
    texts = [hotel_comment(random.Random(seed), scores) for seed in range(400)]
    written_texts = [text for text in texts if text is not None]
    assert sum("泳池" in text for text in written_texts) / len(written_texts) > 0.9


# --- every phrase keeps to its polarity -----------------------------------------------------


def _rendered(template: str, book: Phrasebook) -> list[str]:
    """The template with every slot filled by each of its words in turn."""
    slots = set(re.findall(r"\{(\w+)\}", template)) - {"noun"}
    widest = max((len(book.slots[slot]) for slot in slots), default=1)
    texts = []
    for index in range(widest):
        text = template
        for slot in slots:
            text = text.replace("{" + slot + "}", book.slots[slot][index % len(book.slots[slot])])
        texts.append(text.replace("{noun}", "X"))
    return texts


@pytest.mark.parametrize(
    "book", [AFTER_SALES, HOTEL_ZH, HOTEL_EN, SALES], ids=lambda b: f"{b.survey}-{b.language}"
)
def test_every_complaint_phrase_reads_as_a_complaint_and_no_praise_does(book: Phrasebook) -> None:
    aspects = {**book.ratings, **book.processes}
    negative = [t for a in aspects.values() for t in a.negative] + list(book.mild_negative)
    negative += [
        t
        for part in ("openers", "closers", "general")
        for t in getattr(book.tones, part)["detractor"]
    ]
    positive = [t for a in aspects.values() for t in a.positive] + list(book.mild_positive)
    positive += [
        t
        for part in ("openers", "closers", "general")
        for t in getattr(book.tones, part)["promoter"]
    ]
    positive += list(book.staff_thanks)
    assert [t for t in negative if not all(complains(text) for text in _rendered(t, book))] == []
    assert [t for t in positive if any(complains(text) for text in _rendered(t, book))] == []


@pytest.mark.parametrize(
    "book", [AFTER_SALES, HOTEL_ZH, HOTEL_EN, SALES], ids=lambda b: f"{b.survey}-{b.language}"
)
def test_every_aspect_has_at_least_six_phrasings_each_way(book: Phrasebook) -> None:
    for code, aspect in {**book.ratings, **book.processes}.items():
        assert len(set(aspect.positive)) >= 6, code
        assert len(set(aspect.negative)) >= 6, code
    assert all(aspect.nouns for aspect in book.ratings.values())


def test_the_phrase_books_cover_exactly_the_survey_codes() -> None:
    assert set(AFTER_SALES.ratings) == {
        "sat_reception_wait",
        "sat_lounge",
        "sat_explanation",
        "sat_charges_fair",
        "sat_car_clean",
        "sat_work_time",
        "sat_work_quality",
        "sat_advisor",
    }
    assert len(AFTER_SALES.processes) == 9
    assert set(HOTEL_ZH.ratings) == set(HOTEL_EN.ratings)
    assert len(HOTEL_ZH.ratings) == 16
    assert set(SALES.ratings) == {
        "lead_response",
        "consultation",
        "test_drive",
        "delivery",
        "aftersales_intro",
    }


# --- variety, silence, names, PII -----------------------------------------------------------


@pytest.mark.parametrize("survey", WRITERS)
def test_five_thousand_comments_are_mostly_distinct(survey: str) -> None:
    texts = written(survey, seed=3, count=5000)
    assert len(set(texts)) / len(texts) >= 0.8


def test_about_a_third_write_nothing_and_passives_most_often() -> None:
    rng = random.Random(8)
    silent: dict[str, list[bool]] = {"promoter": [], "passive": [], "detractor": []}
    for _ in range(6000):
        scores = realistic_scores(rng, AFTER_SALES)
        group = (
            "promoter" if scores["nps"] >= 9 else "passive" if scores["nps"] >= 7 else "detractor"
        )
        silent[group].append(after_sales_comment(rng, scores) is None)
    overall = sum(sum(flags) for flags in silent.values()) / 6000
    share = {group: sum(flags) / len(flags) for group, flags in silent.items()}
    assert 0.28 <= overall <= 0.42
    assert share["passive"] > share["promoter"] > share["detractor"]


def test_comments_are_short_and_long() -> None:
    lengths = sorted(len(text) for text in written("after-sales", seed=4, count=2000))
    assert lengths[200] <= 18
    assert lengths[1800] >= 50


def test_the_advisor_is_sometimes_named_and_never_invented() -> None:
    named = written("after-sales", seed=6, count=3000)
    share = sum("晓静" in text or "小王" in text or "王顾问" in text for text in named) / len(named)
    assert 0.02 <= share <= 0.3
    rng = random.Random(6)
    anonymous = [after_sales_comment(rng, realistic_scores(rng, AFTER_SALES)) for _ in range(2000)]
    assert not any(text and ("晓静" in text or "王顾问" in text) for text in anonymous)


def test_about_one_comment_in_a_hundred_carries_pii() -> None:
    texts = written("after-sales", seed=9, count=10000) + written("hotel-en", seed=9, count=10000)
    with_pii = [text for text in texts if PII_PATTERN.search(text)]
    assert 0.005 <= len(with_pii) / len(texts) <= 0.016
    kinds = {"mobile": r"1[3-9]\d[ -]?\d{4}", "email": "@", "plate": r"[粤京沪湘桂][A-Z]"}
    assert all(any(re.search(pattern, text) for text in with_pii) for pattern in kinds.values())


def test_english_hotel_comments_are_english_sentences() -> None:
    texts = written("hotel-en", seed=10, count=2000)
    assert not [text for text in texts if is_chinese(text)]
    assert sum(text[0].isupper() for text in texts) / len(texts) > 0.9


def test_some_comments_carry_an_emoji() -> None:
    texts = written("hotel-zh", seed=12, count=3000)
    share = sum(bool(re.search(r"[\U0001F300-\U0001FAFF\u2764]", text)) for text in texts) / len(
        texts
    )
    assert 0.02 <= share <= 0.12


def test_skipped_questions_are_fine() -> None:
    rng = random.Random(1)
    assert all(
        isinstance(sales_comment(rng, {"test_drive": 1, "nps": 3}) or "", str) for _ in range(50)
    )
    texts = [sales_comment(random.Random(seed), {"test_drive": 1, "nps": 3}) for seed in range(200)]
    assert all("试驾" in text for text in texts if text is not None)


# --- errors ----------------------------------------------------------------------------------


def test_an_unknown_score_code_is_named_in_the_error() -> None:
    with pytest.raises(UnknownScoreCode, match="sat_coffee"):
        after_sales_comment(random.Random(1), {"sat_coffee": 3, "nps": 8})


@pytest.mark.parametrize(
    "scores",
    [
        {"nps": 11},
        {"csat": 0},
        {"sat_lounge": 6},
        {"sat_lounge": True},
        {"proc_on_time": 2},
        {"sat_lounge": 3.5},
    ],
)
def test_a_score_off_its_scale_is_refused(scores: dict[str, object]) -> None:
    with pytest.raises(ScoreOutOfRange, match=next(iter(scores))):
        after_sales_comment(random.Random(1), scores)  # type: ignore[arg-type]


def test_an_unsupported_hotel_language_is_refused() -> None:
    with pytest.raises(UnknownLanguage, match="fr"):
        hotel_comment(random.Random(1), {"nps": 9}, language="fr")
