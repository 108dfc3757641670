"""Taxonomies as YAML data: loading, validation errors that say where, and term matching."""

from pathlib import Path

import pytest

from tiyan.text.taxonomy import (
    INDUSTRIES,
    Taxonomy,
    TaxonomyError,
    _compile_terms,
    load_taxonomy,
    load_taxonomy_file,
    term_directions,
)

CAR_CORPUS_ASPECTS = (
    "动力",
    "价格",
    "内饰",
    "配置",
    "安全性",
    "外观",
    "操控",
    "油耗",
    "空间",
    "舒适性",
)


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_every_shipped_taxonomy_loads_with_many_terms_per_aspect(industry: str) -> None:
    taxonomy = load_taxonomy(industry)
    assert taxonomy.industry == industry
    assert len(taxonomy.aspects) >= 5
    for aspect in taxonomy.aspects:
        assert len(aspect.terms) >= 15, aspect.code
        assert any(term.isascii() for term in aspect.terms), f"{aspect.code} has no English term"
        assert any(not term.isascii() for term in aspect.terms), (
            f"{aspect.code} has no Chinese term"
        )


def test_car_product_has_exactly_the_ten_aspects_of_the_car_corpus() -> None:
    names = tuple(aspect.name_zh for aspect in load_taxonomy("car_product").aspects)
    assert sorted(names) == sorted(CAR_CORPUS_ASPECTS)


def test_load_taxonomy_is_cached() -> None:
    assert load_taxonomy("hotel") is load_taxonomy("hotel")


def test_mentions_prefer_the_longest_term_and_match_english_as_whole_words() -> None:
    taxonomy = load_taxonomy("car_aftersales")
    text = "服务顾问态度很好，但是工时费太贵了。Service advisor was RUDE; unfixed"
    found = [(m.aspect.code, m.term, text[m.start : m.end]) for m in taxonomy.find_mentions(text)]
    assert ("advisor_attitude", "服务顾问", "服务顾问") in found
    assert ("price", "工时费", "工时费") in found
    assert ("advisor_attitude", "service advisor", "Service advisor") in found
    assert ("advisor_attitude", "rude", "RUDE") in found
    assert all(term != "fixed" for _, term, _ in found)


def test_a_text_without_terms_has_no_mentions() -> None:
    assert load_taxonomy("hotel").find_mentions("今天天气不错") == []


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_may_mention_is_false_only_where_no_term_occurs(industry: str) -> None:
    taxonomy = load_taxonomy(industry)
    texts = [
        "房间隔音差，前台服务好，早餐一般，价格实惠，送餐快，味道好，客服差，信号差，APP卡",
        "Service advisor was RUDE; room staff price",
        "İstanbul room staff price",  # lower() changes the length
        "嗯嗯嗯。。。",
        "12345 !!!",
        "",
    ]
    for text in texts:
        if taxonomy.find_mentions(text):
            assert taxonomy.may_mention(text), text
    assert not taxonomy.may_mention("~~~ ！！！ ...")
    assert not taxonomy.may_mention("")


def test_aspect_lookup_by_code() -> None:
    assert load_taxonomy("hotel").aspect("noise").name_zh == "噪音"
    with pytest.raises(KeyError, match="hotel"):
        load_taxonomy("hotel").aspect("parking_lot")


def test_unknown_industry_is_a_taxonomy_error() -> None:
    with pytest.raises(TaxonomyError, match="unknown industry 'aviation'"):
        load_taxonomy("aviation")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text(body, encoding="utf-8")
    return path


HEADER = "industry: custom\nname_zh: 自定义\nname_en: Custom\naspects:\n"


def test_a_user_taxonomy_file_loads(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER + "  - {code: parking, name_zh: 停车, name_en: Parking, terms: [停车, parking]}\n",
    )
    taxonomy = load_taxonomy_file(path)
    assert [m.aspect.code for m in taxonomy.find_mentions("停车很难")] == ["parking"]


@pytest.mark.parametrize(
    ("aspect_yaml", "message"),
    [
        (
            "{code: parking, name_zh: 停车, name_en: Parking}",
            "aspect 'parking': missing field \"terms\"",
        ),
        (
            "{code: parking, name_zh: 停车, name_en: Parking, terms: []}",
            "aspect 'parking': field \"terms\"",
        ),
        (
            "{code: Parking, name_zh: 停车, name_en: P, terms: [停车]}",
            "field \"code\": 'Parking' is not snake_case",
        ),
        (
            "{code: parking, name_zh: 停车, name_en: P, terms: [停车], colour: red}",
            'unknown field "colour"',
        ),
        (
            "{code: parking, name_zh: '', name_en: P, terms: [停车]}",
            "aspect 'parking': field \"name_zh\"",
        ),
        (
            "{code: parking, name_zh: 停车, name_en: P, terms: [停车, 12378]}",
            "item 2: 12378 is not a term",
        ),
        (
            "{code: parking, name_zh: 停车, name_en: P, terms: [停车], more_is: higher}",
            "field \"more_is\": 'higher' is not one of worse, better",
        ),
        (
            "{code: parking, name_zh: 停车, name_en: P, terms: [停车],"
            " more_is_opposite_for: [停车]}",
            'field "more_is_opposite_for" needs "more_is"',
        ),
        (
            "{code: parking, name_zh: 停车, name_en: P, terms: [停车], more_is: worse,"
            " more_is_opposite_for: [车位]}",
            "field \"more_is_opposite_for\": '车位' is not a term of the aspect",
        ),
        (
            "{code: parking, name_zh: 停车, name_en: P, terms: [停车], defects: [剐蹭]}",
            "field \"defects\": '剐蹭' is not a term of the aspect",
        ),
    ],
)
def test_invalid_aspects_are_rejected_naming_file_aspect_and_field(
    tmp_path: Path, aspect_yaml: str, message: str
) -> None:
    path = _write(tmp_path, HEADER + f"  - {aspect_yaml}\n")
    with pytest.raises(TaxonomyError) as error:
        load_taxonomy_file(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_an_aspect_declares_which_way_a_quantity_of_it_goes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "  - {code: cost, name_zh: 费用, name_en: Cost, terms: [费用, 性价比, Fee],"
        + " more_is: worse, more_is_opposite_for: [性价比]}\n"
        + "  - {code: parking, name_zh: 停车, name_en: Parking, terms: [停车]}\n",
    )
    cost, parking = load_taxonomy_file(path).aspects
    assert cost.more_is == "worse"
    assert cost.direction("费用") == "worse"
    assert cost.direction("FEE") == "worse"
    assert cost.direction("性价比") == "better"
    assert parking.direction("停车") == ""


def test_an_aspect_lists_the_terms_that_name_something_gone_wrong(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "  - {code: repair, name_zh: 维修, name_en: Repair, terms: [维修, 异响, Noise],"
        + " defects: [异响, noise]}\n",
    )
    [repair] = load_taxonomy_file(path).aspects
    assert repair.is_defect("异响") and repair.is_defect("NOISE")
    assert not repair.is_defect("维修")
    assert load_taxonomy("telecom").aspect("network_quality").is_defect("断网")


def test_the_shipped_taxonomies_give_cost_like_aspects_their_direction() -> None:
    car = load_taxonomy("car_aftersales")
    assert car.aspect("waiting").direction("排队") == "worse"
    assert car.aspect("price").direction("收费") == "worse"
    assert car.aspect("price").direction("透明") == "better"
    assert car.aspect("timeliness").direction("效率") == "better"
    hotel = load_taxonomy("hotel")
    assert hotel.aspect("price").direction("价格") == "worse"
    assert hotel.aspect("price").direction("性价比") == "better"
    assert hotel.aspect("noise").direction("噪音") == "worse"
    assert load_taxonomy("car_product").aspect("fuel_consumption").direction("油耗") == "worse"
    assert load_taxonomy("banking").aspect("queue_wait").direction("排队") == "worse"
    # a term's direction across all taxonomies, as training gives it to corpus terms
    directions = term_directions()
    assert directions["价格"] == directions["油耗"] == directions["等待"] == "worse"
    assert directions["性价比"] == directions["效率"] == "better"
    assert "外观" not in directions  # no taxonomy says which way a quantity of it goes


def test_a_term_in_two_aspects_is_rejected(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEADER
        + "  - {code: parking, name_zh: 停车, name_en: Parking, terms: [停车]}\n"
        + "  - {code: access, name_zh: 交通, name_en: Access, terms: [交通, 停车]}\n",
    )
    with pytest.raises(
        TaxonomyError,
        match="aspect 'access': field \"terms\": '停车' is already a term of aspect 'parking'",
    ):
        load_taxonomy_file(path)


def test_broken_yaml_and_missing_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy_file(_write(tmp_path, "aspects: [unclosed\n"))
    with pytest.raises(TaxonomyError, match="missing.yaml: cannot read"):
        load_taxonomy_file(tmp_path / "missing.yaml")
    with pytest.raises(TaxonomyError, match='missing field "aspects"'):
        load_taxonomy_file(_write(tmp_path, "industry: x\nname_zh: 一\nname_en: X\n"))


def _regex_mentions(taxonomy: Taxonomy, text: str) -> list[tuple[str, int, int]]:
    """The reference matcher: one regex of all terms, longest first, case-insensitive."""
    pattern = _compile_terms(sorted(taxonomy.terms))
    return [(match.group().lower(), match.start(), match.end()) for match in pattern.finditer(text)]


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_the_term_scanner_finds_what_the_reference_regex_finds(industry: str) -> None:
    taxonomy = load_taxonomy(industry)
    texts = [
        "Bed bedding BED, room-service 4S店4s店 WiFi wifi2 ROOM; staff1 staff",
        "服务顾问态度很好，但是工时费太贵了。Service advisor was RUDE; unfixed",
        "房间隔音差，前台服务好，早餐一般，价格实惠，送餐快，味道好，客服差，信号差，APP卡",
        "İstanbul room staff price",  # lower() changes the length: the regex path
        "",
    ]
    for text in texts:
        found = [(m.term.lower(), m.start, m.end) for m in taxonomy.find_mentions(text)]
        assert found == _regex_mentions(taxonomy, text), text


def test_english_terms_do_not_match_inside_longer_words() -> None:
    terms = {m.term for m in load_taxonomy("hotel").find_mentions("bedding roomy BED")}
    assert "bed" in {term.lower() for term in terms}
    assert all(m.start >= 14 for m in load_taxonomy("hotel").find_mentions("bedding roomy BED"))
