"""discover_themes: deterministic clusters of similar comments with labels and quotes."""

import pytest

from tiyan.text.taxonomy import load_taxonomy
from tiyan.text.themes import ThemeDiscoveryError, discover_themes

DELIVERY = [
    "送餐太慢了，等了两个小时",
    "配送超时一个小时，饭都凉了",
    "骑手送餐太慢，超时很久",
    "等了一个半小时才送到，太慢",
    "送餐速度太慢，超时了",
    "外卖超时两个小时还没送到",
]
HAIR = [
    "菜里吃出头发，太恶心了",
    "饭里有头发，恶心",
    "吃出一根头发，卫生太差",
    "汤里有头发和虫子，恶心死了",
    "米饭里有头发",
    "头发都吃出来了，恶心",
]
SALTY = [
    "菜太咸了，根本没法吃",
    "太咸了，齁死了",
    "咸得要命，放了多少盐",
    "每个菜都太咸",
    "咸死了，再也不点",
    "口味太咸，盐放多了",
]


def test_distinct_complaints_fall_into_distinct_themes() -> None:
    texts = DELIVERY + HAIR + SALTY
    themes = discover_themes(texts, k=3)
    assert sorted(theme.size for theme in themes) == [6, 6, 6]
    groups = {frozenset(theme.member_indices) for theme in themes}
    assert groups == {frozenset(range(0, 6)), frozenset(range(6, 12)), frozenset(range(12, 18))}
    hair = next(theme for theme in themes if 6 in theme.member_indices)
    assert "头发" in hair.label_terms
    assert len(hair.example_quotes) == 3 and set(hair.example_quotes) <= set(HAIR)


def test_k_is_chosen_by_silhouette_when_not_given() -> None:
    themes = discover_themes(DELIVERY + HAIR + SALTY)
    assert 2 <= len(themes) <= 6
    assert sum(theme.size for theme in themes) == 18


def test_same_input_gives_the_same_themes() -> None:
    texts = (DELIVERY + HAIR + SALTY) * 3
    assert discover_themes(texts) == discover_themes(texts)


def test_terms_the_taxonomy_covers_are_left_out_of_labels() -> None:
    restaurant = load_taxonomy("restaurant")
    themes = discover_themes(DELIVERY + HAIR + SALTY, k=3, exclude_aspects=restaurant)
    labels = {term for theme in themes for term in theme.label_terms}
    assert not labels & restaurant.terms


def test_english_comments_cluster_too() -> None:
    texts = [
        "flight delayed three hours",
        "delayed flight again, hours late",
        "my flight was delayed for hours",
        "lost my luggage",
        "they lost my bag and luggage",
        "luggage lost at the airport",
    ]
    themes = discover_themes(texts, k=2, language="en")
    assert {frozenset(t.member_indices) for t in themes} == {
        frozenset({0, 1, 2}),
        frozenset({3, 4, 5}),
    }


def test_texts_without_content_words_are_left_out_and_tiny_inputs_make_one_theme() -> None:
    assert discover_themes(["", "。。。", "😀"]) == []
    themes = discover_themes(["太慢了吧送餐", "", "送餐太慢"])
    assert len(themes) == 1 and themes[0].member_indices == [0, 2]


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ThemeDiscoveryError, match="language 'fr'"):
        discover_themes(DELIVERY, language="fr")
    with pytest.raises(ThemeDiscoveryError, match="k must be at least 1"):
        discover_themes(DELIVERY, k=0)


def test_feeling_words_do_not_label_themes() -> None:
    texts = [t + "，差评，失望" for t in DELIVERY + HAIR]
    labels = {term for theme in discover_themes(texts, k=2) for term in theme.label_terms}
    assert not labels & {"差评", "失望"}


def test_short_quotes_are_preferred_over_long_ones() -> None:
    long_one = "送餐太慢了，" + "真的等了很久很久，" * 20
    themes = discover_themes([long_one, *DELIVERY], k=1)
    assert long_one not in themes[0].example_quotes


def test_identical_comments_make_one_theme_even_when_more_are_asked_for() -> None:
    themes = discover_themes(["送餐太慢"] * 30, k=5)
    assert [(theme.size, theme.example_quotes) for theme in themes] == [(30, ["送餐太慢"])]
    two = discover_themes(["送餐太慢"] * 15 + ["头发恶心"] * 15)
    assert sorted(theme.size for theme in two) == [15, 15]
