"""Imported feedback rows: the column mapping guessed from headers, and each row checked."""

import datetime as dt

import pytest

from tiyan.domain.access import ROLE_PERMISSIONS, Permission, Role
from tiyan.domain.feedback_rows import (
    MAX_TEXT,
    ColumnMapping,
    FeedbackRecord,
    RowProblem,
    RowRules,
    UnitRef,
    check_row,
    content_hash_id,
    parse_mapping_option,
    parse_time,
    resolve_mapping,
)
from tiyan.domain.responses import Source
from tiyan.errors import InvalidInput

UNITS = {"n1": UnitRef(3, "Asia/Shanghai"), "s1": UnitRef(7, "Asia/Shanghai"),
         "ny": UnitRef(9, "America/New_York")}
RULES = RowRules(source=Source.REVIEW, units=UNITS)
MAPPING = resolve_mapping(["评价内容", "评价时间", "门店编码", "评分", "评论ID", "平台"])


def row(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"评价内容": "服务很好，环境干净", "评价时间": "2026-11-20 10:00",
                               "门店编码": "n1", "评分": "5", "评论ID": "dp-1", "平台": "大众点评"}
    base.update(over)
    return base


def problems_of(result: FeedbackRecord | list[RowProblem]) -> list[tuple[str | None, str]]:
    assert isinstance(result, list), result
    return [(p.column, p.reason) for p in result]


# --- mapping ------------------------------------------------------------------------------

def test_chinese_headers_are_guessed_and_other_columns_kept_as_extra() -> None:
    assert MAPPING.columns == {"text": "评价内容", "time": "评价时间", "unit": "门店编码",
                               "rating": "评分", "external_id": "评论ID"}
    assert MAPPING.extra == ("平台",)


def test_english_headers_are_guessed_whatever_their_case_and_separators() -> None:
    mapping = resolve_mapping(["Review Text", "Created_At", "store-code", "Stars", "Ticket ID"])
    assert mapping.columns == {"text": "Review Text", "time": "Created_At", "unit": "store-code",
                               "rating": "Stars", "external_id": "Ticket ID"}


def test_a_given_mapping_wins_over_guesses() -> None:
    mapping = resolve_mapping(["内容", "备注", "时间", "门店"], {"text": "备注"})
    assert mapping.columns["text"] == "备注"
    assert "内容" in mapping.extra


def test_a_mapped_column_the_file_lacks_is_named_with_the_columns_it_has() -> None:
    with pytest.raises(InvalidInput) as err:
        resolve_mapping(["内容", "时间", "门店"], {"text": "正文"})
    assert "正文" in err.value.message and "内容, 时间, 门店" in err.value.message
    assert err.value.where == "column 正文"


def test_a_missing_required_column_says_how_to_map_it() -> None:
    with pytest.raises(InvalidInput) as err:
        resolve_mapping(["内容", "门店"])
    assert "no time column" in err.value.message and "--map time=COLUMN" in err.value.message


def test_the_unit_column_may_be_missing_when_a_default_unit_is_given() -> None:
    mapping = resolve_mapping(["内容", "时间"], default_unit=True)
    assert "unit" not in mapping.columns


def test_one_column_cannot_be_mapped_to_two_fields() -> None:
    with pytest.raises(InvalidInput, match="both text and customer"):
        resolve_mapping(["内容", "时间", "门店"], {"text": "内容", "customer": "内容"})


def test_mapping_option_parses_and_names_a_bad_entry() -> None:
    assert parse_mapping_option("text=内容, time=时间,") == {"text": "内容", "time": "时间"}
    with pytest.raises(InvalidInput, match="field=column"):
        parse_mapping_option("text")
    with pytest.raises(InvalidInput, match="unknown field 'score'"):
        parse_mapping_option("score=评分")


# --- rows ---------------------------------------------------------------------------------

def test_a_good_row_becomes_a_record_in_utc_with_its_extra_columns() -> None:
    record = check_row(row(), MAPPING, RULES, line=2)
    assert isinstance(record, FeedbackRecord)
    assert record.submitted_at == dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
    assert (record.unit_id, record.rating, record.external_id, record.line) == (3, 5.0, "dp-1", 2)
    assert record.meta == {"columns": {"平台": "大众点评"}}
    assert record.source == Source.REVIEW


def test_naive_times_are_read_in_the_units_timezone() -> None:
    record = check_row(row(门店编码="ny", 评价时间="2026-07-01 09:00"), MAPPING, RULES)
    assert isinstance(record, FeedbackRecord)
    assert record.submitted_at == dt.datetime(2026, 7, 1, 13, 0, tzinfo=dt.UTC)


def test_every_problem_of_a_row_names_its_column() -> None:
    result = check_row(row(评价内容="  ", 评价时间="昨天", 门店编码="zz", 评分="十"),
                       MAPPING, RULES, line=17)
    assert problems_of(result) == [
        ("评价内容", "the text is empty"),
        ("门店编码", "unknown unit code 'zz'"),
        ("评价时间", "unparseable time: not a time this importer understands (e.g. 2026-11-20 "
                     "10:00, 2026/11/20 10:00, 2026-11-20T10:00:00+08:00)"),
        ("评分", "the rating is not a number"),
    ]
    assert all(p.line == 17 for p in result if isinstance(p, RowProblem))


def test_a_rating_outside_the_scale_is_rejected() -> None:
    assert problems_of(check_row(row(评分="7"), MAPPING, RULES)) == [
        ("评分", "the rating is outside 1–5")]


def test_a_unit_outside_the_allowed_subtree_is_rejected() -> None:
    rules = RowRules(source=Source.REVIEW, units=UNITS, allowed_unit_ids=frozenset({3}))
    assert problems_of(check_row(row(门店编码="s1"), MAPPING, rules)) == [
        ("门店编码", "unit 's1' is outside your scope")]


def test_the_default_unit_fills_an_empty_unit_cell() -> None:
    rules = RowRules(source=Source.REVIEW, units=UNITS, default_unit="s1")
    record = check_row(row(门店编码=""), MAPPING, rules)
    assert isinstance(record, FeedbackRecord) and record.unit_id == 7


def test_a_text_longer_than_the_limit_is_rejected_with_its_length() -> None:
    result = check_row(row(评价内容="好" * (MAX_TEXT + 1)), MAPPING, RULES)
    assert isinstance(result, list)
    assert result[0].reason == f"the text has {MAX_TEXT + 1:,} characters; the limit is " \
                               f"{MAX_TEXT:,}"
    assert result[0].value is not None and len(result[0].value) < 120


def test_emoji_and_mixed_scripts_are_kept_whole() -> None:
    text = "服务👍 great ドライブ 😀\n第二行"
    record = check_row(row(评价内容=text + "\r\n"), MAPPING, RULES)
    assert isinstance(record, FeedbackRecord) and record.text == text


def test_nul_characters_and_undecodable_bytes_are_rejected() -> None:
    assert problems_of(check_row(row(评价内容="a\x00b"), MAPPING, RULES)) == [
        ("评价内容", "the text contains a NUL character")]
    assert problems_of(check_row(row(评价内容="bad \udcb7 byte"), MAPPING, RULES))[0][1] \
        .startswith("the text contains characters that are not valid Unicode")


def test_without_an_external_id_the_content_hash_finds_the_record_again() -> None:
    mapping = resolve_mapping(["内容", "时间", "门店"])
    raw = {"内容": "太慢了", "时间": "2026-11-20 10:00", "门店": "n1"}
    first, again = check_row(raw, mapping, RULES), check_row(dict(raw), mapping, RULES)
    assert isinstance(first, FeedbackRecord) and isinstance(again, FeedbackRecord)
    assert first.external_id == again.external_id
    assert first.external_id.startswith("sha256:") and len(first.external_id) <= 128
    other = check_row({**raw, "内容": "太慢了!"}, mapping, RULES)
    assert isinstance(other, FeedbackRecord) and other.external_id != first.external_id


def test_content_hash_depends_on_source_unit_time_and_text() -> None:
    at = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    base = content_hash_id("review", "n1", at, "x")
    assert base != content_hash_id("hotline", "n1", at, "x")
    assert base != content_hash_id("review", "n2", at, "x")
    assert base != content_hash_id("review", "n1", at + dt.timedelta(seconds=1), "x")


def test_a_source_column_may_name_another_feedback_source_but_not_survey() -> None:
    mapping = resolve_mapping(["内容", "时间", "门店", "来源"])
    raw = {"内容": "x", "时间": "2026-11-20", "门店": "n1", "来源": "Hotline"}
    record = check_row(raw, mapping, RULES)
    assert isinstance(record, FeedbackRecord) and record.source == Source.HOTLINE
    assert problems_of(check_row({**raw, "来源": "survey"}, mapping, RULES))[0][0] == "来源"


def test_extra_mapping_keeps_only_the_listed_columns() -> None:
    mapping = resolve_mapping(["内容", "时间", "门店", "平台", "城市"], {"extra": "城市"})
    assert mapping.extra == ("城市",)
    assert isinstance(mapping, ColumnMapping) and mapping.as_json()["extra"] == ["城市"]


# --- times --------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2026-11-20T10:00:00+08:00", dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)),
    ("2026-11-20T02:00:00Z", dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)),
    ("2026/11/20 10:00", dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)),
    ("2026年11月20日 10:00", dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)),
    ("20261120", dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)),
    ("1795140000", dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)),
    (1795140000000, dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)),
    (46346.5, dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)),
    (dt.datetime(2026, 11, 20, 10, 0), dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)),
    (dt.date(2026, 11, 20), dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)),
])
def test_times_in_the_shapes_files_carry(value: object, expected: dt.datetime) -> None:
    assert parse_time(value, "Asia/Shanghai") == expected


@pytest.mark.parametrize("value", ["", None, "明天", "1800-01-01", -5, float("nan"), True])
def test_values_that_are_not_times(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        parse_time(value, "Asia/Shanghai")


def test_who_may_import_feedback() -> None:
    may = {role for role in Role if Permission.IMPORT_FEEDBACK in ROLE_PERMISSIONS[role]}
    assert may == {Role.ADMIN, Role.CX_MANAGER, Role.UNIT_MANAGER, Role.ANALYST}
