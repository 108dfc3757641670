"""Rows of imported feedback (reviews, hotline records, social posts, complaint tickets).

Pure: a column mapping resolved from headers (given or guessed from common 中文/English names),
and one row checked into a `FeedbackRecord` or a list of `RowProblem`s that name the line,
the column and the reason. The stored shape is the same long one as survey responses: the text
is an answer with item_code "comment", the rating an answer with item_code "rating".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tiyan.domain.responses import MAX_TEXT as MAX_RESPONSE_TEXT
from tiyan.domain.responses import Source
from tiyan.errors import InvalidInput, Phrase, error_text, params_json

MAX_TEXT = MAX_RESPONSE_TEXT  # characters of one feedback text, as for a survey comment
MAX_FIELD = 2_000          # characters of any other field
MAX_EXTERNAL_ID = 128
FEEDBACK_SOURCES = (Source.REVIEW, Source.HOTLINE, Source.SOCIAL, Source.COMPLAINT)

TEXT_KEY = "comment"        # question_key and item_code of the text (as in survey comments)
RATING_KEY = "rating"       # question_key and item_code of the rating

FIELDS = ("text", "time", "unit", "customer", "rating", "source", "external_id")
REQUIRED = ("text", "time", "unit")

# Normalised header names (lower case, no spaces, '-' or '_') that each field is guessed from.
HEADER_GUESSES: Mapping[str, tuple[str, ...]] = {
    "text": ("text", "comment", "comments", "content", "review", "reviewtext", "feedback",
             "body", "message", "内容", "评价内容", "评价", "评论", "评论内容", "留言", "反馈",
             "反馈内容", "投诉内容", "来电内容", "正文", "文本", "描述", "问题描述"),
    "time": ("time", "date", "datetime", "timestamp", "createdat", "created", "postedat",
             "submittedat", "时间", "日期", "评价时间", "评论时间", "来电时间", "投诉时间",
             "发布时间", "创建时间", "提交时间"),
    "unit": ("unit", "unitcode", "store", "storecode", "shop", "branch", "dealer", "hotel",
             "门店", "门店编码", "门店代码", "店铺", "网点", "单位", "单位编码", "机构", "经销商"),
    "customer": ("customer", "customerid", "customercode", "user", "userid", "member",
                 "memberid", "客户", "客户编号", "客户id", "会员", "会员号", "用户", "用户id"),
    "rating": ("rating", "score", "stars", "star", "评分", "星级", "分数", "打分"),
    "source": ("source", "来源", "渠道来源"),
    "external_id": ("externalid", "id", "reviewid", "ticketid", "ticket", "recordid",
                    "编号", "工单号", "工单编号", "记录编号", "评价id", "评论id"),
}


def normalise_header(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).strip().lower().lstrip("\ufeff")


@dataclass(frozen=True)
class ColumnMapping:
    """Which file column holds which field; `extra` columns are kept as metadata."""

    columns: Mapping[str, str]           # field -> header
    extra: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {**dict(self.columns), "extra": list(self.extra)}


def parse_mapping_option(text: str | None) -> dict[str, str]:
    """`text=内容,time=时间,unit=门店` -> {"text": "内容", ...}; errors name the bad part."""
    result: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        name = name.strip()
        if not sep or not column.strip():
            raise InvalidInput("common.mapping_entry_must_read", part=part.strip(),
                               where="map")
        if name not in FIELDS and name != "extra":
            raise InvalidInput("feedback_rows.unknown_field_fields_extra", name=name,
                               fields=', '.join(FIELDS),
                               where="map")
        result[name] = column.strip()
    return result


def match_columns(headers: Sequence[Any], given: Mapping[str, str], fields: Sequence[str],
                  guesses: Mapping[str, Sequence[str]]) -> tuple[dict[str, str], list[str]]:
    """Field -> column (the given mapping first, then guesses from the header names), and the
    file's non-empty headers. Shared by every importer; a wrong mapping names the column."""
    present = [str(h) for h in headers if h is not None and str(h).strip()]
    by_norm: dict[str, str] = {}
    for h in present:
        by_norm.setdefault(normalise_header(h), h)
    columns: dict[str, str] = {}
    for name, column in given.items():
        if name not in fields:
            raise InvalidInput("common.unknown_field_fields", name=name, fields=', '.join(fields),
                               where="map")
        actual = column if column in present else by_norm.get(normalise_header(column))
        if actual is None:
            raise InvalidInput("feedback_rows.no_mapped_column", column=column, name=name,
                               present=", ".join(present), where=f"column {column}")
        twice = next((other for other, col in columns.items() if col == actual), None)
        if twice is not None:
            raise InvalidInput("feedback_rows.column_mapped_both", actual=actual, twice=twice,
                               name=name,
                               where=f"column {actual}")
        columns[name] = actual
    used = set(columns.values())
    for name in fields:
        if name in columns:
            continue
        hit = next((by_norm[g] for g in guesses.get(name, ())
                    if g in by_norm and by_norm[g] not in used), None)
        if hit is not None:
            columns[name] = hit
            used.add(hit)
    return columns, present


def resolve_mapping(headers: Sequence[str], given: Mapping[str, str] | None = None, *,
                    default_unit: bool = False, keep_extra: bool = True) -> ColumnMapping:
    """Map fields to the file's headers: the given mapping first, then guesses from names.

    A mapped column that the file lacks, or a required field (text, time, unit unless a default
    unit is given) that nothing maps to, is an error at file level that names the column.
    """
    given = dict(given or {})
    extra_given = [c.strip() for c in given.pop("extra", "").split("|") if c.strip()]
    columns, present = match_columns(headers, given, FIELDS, HEADER_GUESSES)
    for name in REQUIRED:
        if name in columns or (name == "unit" and default_unit):
            continue
        raise InvalidInput(
            "common.file_no_column_name", name=name, present=', '.join(present) or 'none',
            where=f"column {name}")
    for column in extra_given:
        if column not in present:
            raise InvalidInput("feedback_rows.file_no_column_listed", column=column,
                               where=f"column {column}")
    extra = tuple(extra_given) if extra_given else (
        tuple(h for h in present if h not in set(columns.values())) if keep_extra else ())
    return ColumnMapping(columns, extra)


@dataclass(frozen=True)
class RowProblem:
    """A rejected row: its line, the file's column, why (a Phrase of the error catalogue, said
    in the reader's language) and the value (an excerpt)."""

    line: int | None
    column: str | None
    why: Phrase
    value: str | None = None

    @property
    def reason(self) -> str:
        """Why, in English (the command line, and stored for readers of older versions)."""
        return self.text("en")

    def text(self, locale: str) -> str:
        return error_text(self.why.key, locale, self.why.params)

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason,
                "value": self.value, "key": self.why.key,
                "params": params_json(self.why.params)}


class Unreadable(ValueError):
    """A cell a row cannot use, with why as a Phrase of the error catalogue; its str() is the
    English text."""

    def __init__(self, why: Phrase) -> None:
        super().__init__(why)
        self.why = why

    def __str__(self) -> str:
        return error_text(self.why.key, "en", self.why.params)


def time_problem(exc: Exception) -> Phrase:
    """Why a time could not be read: `parse_time` says it with a Phrase, Python in its words."""
    why: object = exc.why if isinstance(exc, Unreadable) else str(exc)
    return Phrase("import_rows.unparseable_time", {"why": why})


@dataclass(frozen=True)
class UnitRef:
    id: int
    timezone: str


@dataclass(frozen=True)
class RowRules:
    """What a row is checked against (all of it known before the file is read)."""

    source: Source
    units: Mapping[str, UnitRef]
    allowed_unit_ids: frozenset[int] | None = None   # None: every unit
    default_unit: str | None = None
    rating_min: float = 1
    rating_max: float = 5
    max_text: int = MAX_TEXT
    default_timezone: str = "Asia/Shanghai"
    sources_allowed: tuple[Source, ...] = FEEDBACK_SOURCES


@dataclass(frozen=True)
class FeedbackRecord:
    source: Source
    external_id: str
    unit_id: int
    submitted_at: dt.datetime
    text: str
    rating: float | None = None
    customer: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None


def cell_text(value: Any) -> str:
    """A cell as trimmed text (an Excel number 12.0 reads "12")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_cell = cell_text


def find_unit(code: str, units: Mapping[str, UnitRef],
              allowed: frozenset[int] | None) -> tuple[UnitRef | None, Phrase | None]:
    """The unit a row names by code, or why it cannot be used (unknown, outside the scope)."""
    unit = units.get(code)
    if unit is None:
        return None, Phrase("import_rows.unknown_unit", {"code": code})
    if allowed is not None and unit.id not in allowed:
        return None, Phrase("import_rows.unit_outside_scope", {"code": code})
    return unit, None


def excerpt(value: Any, limit: int = 80) -> str:
    text = _cell(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text):,} characters)"


_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
            "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d",
            "%Y%m%d %H:%M:%S", "%Y%m%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
            "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S.%f")


def parse_time(value: Any, timezone: str) -> dt.datetime:
    """A record's time in UTC. Naive times are in `timezone` (the unit's); accepts ISO 8601
    with or without offset, 2026/11/20 10:00, 2026年11月20日, Excel dates (a datetime cell or a
    serial number like 46346.42) and Unix seconds or milliseconds. Raises ValueError."""
    zone = ZoneInfo(timezone)
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = _from_number(float(value))
    else:
        text = _cell(value)
        if not text:
            raise Unreadable(Phrase("import_rows.time_missing"))
        moment = _from_text(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    result = moment.astimezone(dt.UTC)
    if not 1990 <= result.year <= 2100:
        raise Unreadable(Phrase("import_rows.time_year", {"year": result.year}))
    return result


def _from_number(number: float) -> dt.datetime:
    if not math.isfinite(number) or number <= 0:
        raise Unreadable(Phrase("import_rows.time_not_a_time"))
    if number < 200_000:                       # an Excel serial day number
        return _EXCEL_EPOCH + dt.timedelta(days=number)
    if 1e9 <= number < 1e10:                   # Unix seconds
        return dt.datetime.fromtimestamp(number, dt.UTC)
    if 1e12 <= number < 1e13:                  # Unix milliseconds
        return dt.datetime.fromtimestamp(number / 1000, dt.UTC)
    raise Unreadable(Phrase("import_rows.time_excel_or_unix"))


def _from_text(text: str) -> dt.datetime:
    if re.fullmatch(r"\d+(\.\d+)?", text) and not re.fullmatch(r"\d{8}", text):
        return _from_number(float(text))
    candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        return dt.datetime.fromisoformat(candidate)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise Unreadable(Phrase("import_rows.time_format"))


def content_hash_id(source: str, unit_code: str, at: dt.datetime, text: str) -> str:
    """The external id of a record whose file carries none: re-importing finds it again."""
    digest = hashlib.sha256("\x1f".join((source, unit_code, at.isoformat(), text))
                            .encode("utf-8")).hexdigest()
    return "sha256:" + digest[:48]


def _clean_text(value: Any) -> str:
    return _cell(value).replace("\r\n", "\n")


def _bad_characters(text: str) -> Phrase | None:
    if "\x00" in text:
        return Phrase("import_rows.text_nul")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Phrase("import_rows.text_surrogates")
    return None


def check_row(raw: Mapping[str, Any], mapping: ColumnMapping, rules: RowRules,
              line: int | None = None) -> FeedbackRecord | list[RowProblem]:
    """One row of a file (or one JSON record) checked; every problem names its column."""
    cols = mapping.columns
    problems: list[RowProblem] = []

    def problem(name: str, reason: Phrase, value: Any = None) -> None:
        column = cols.get(name, name)
        problems.append(RowProblem(line, column, reason,
                                   None if value is None else excerpt(value)))

    text = _clean_text(raw.get(cols["text"])) if "text" in cols else ""
    if not text:
        problem("text", Phrase("import_rows.text_empty"))
    elif len(text) > rules.max_text:
        problem("text", Phrase("import_rows.text_too_long",
                               {"length": len(text), "limit": rules.max_text}), text)
    elif (bad := _bad_characters(text)) is not None:
        problem("text", bad)

    source = rules.source
    if "source" in cols and (raw_source := _cell(raw.get(cols["source"]))):
        named = next((s for s in rules.sources_allowed if s.value == raw_source.lower()), None)
        if named is None:
            problem("source", Phrase("import_rows.unknown_source", {
                "sources": ", ".join(str(s) for s in rules.sources_allowed)}), raw_source)
        else:
            source = named

    unit_code = _cell(raw.get(cols["unit"])) if "unit" in cols else ""
    unit_code = unit_code or (rules.default_unit or "")
    unit: UnitRef | None = None
    if not unit_code:
        problem("unit", Phrase("import_rows.no_unit"))
    else:
        unit, why = find_unit(unit_code, rules.units, rules.allowed_unit_ids)
        if why is not None:
            problem("unit", why, unit_code)

    at: dt.datetime | None = None
    raw_time = raw.get(cols["time"]) if "time" in cols else None
    try:
        at = parse_time(raw_time, unit.timezone if unit else rules.default_timezone)
    except (ValueError, OverflowError, OSError) as exc:
        problem("time", time_problem(exc), raw_time)

    rating: float | None = None
    raw_rating = raw.get(cols["rating"]) if "rating" in cols else None
    if _cell(raw_rating):
        try:
            rating = float(_cell(raw_rating))
            if not math.isfinite(rating):
                raise ValueError
        except ValueError:
            problem("rating", Phrase("import_rows.rating_not_number"), raw_rating)
        else:
            if not rules.rating_min <= rating <= rules.rating_max:
                problem("rating", Phrase("import_rows.rating_out_of_range", {
                    "low": rules.rating_min, "high": rules.rating_max}), raw_rating)

    customer = _cell(raw.get(cols["customer"])) if "customer" in cols else ""
    if len(customer) > MAX_FIELD:
        problem("customer", Phrase("import_rows.customer_too_long", {"limit": MAX_FIELD}),
                customer)

    external = _cell(raw.get(cols["external_id"])) if "external_id" in cols else ""
    if len(external) > MAX_EXTERNAL_ID:
        problem("external_id", Phrase("import_rows.external_id_too_long",
                                      {"limit": MAX_EXTERNAL_ID}), external)

    meta: dict[str, Any] = {}
    for column in mapping.extra:
        value = raw.get(column)
        if value is None or value == "":
            continue
        value = value if isinstance(value, (int, float, bool)) else _cell(value)
        if isinstance(value, str) and len(value) > MAX_FIELD:
            problem(column, Phrase("import_rows.cell_too_long", {"limit": MAX_FIELD}), value)
        meta[column] = value

    if problems:
        return problems
    assert unit is not None and at is not None
    external = external or content_hash_id(str(source), unit_code, at, text)
    return FeedbackRecord(source=source, external_id=external, unit_id=unit.id, submitted_at=at,
                          text=text, rating=rating, customer=customer or None,
                          meta={"columns": meta} if meta else {}, line=line)


def check_rows(rows: Iterable[tuple[int, Mapping[str, Any]]], mapping: ColumnMapping,
               rules: RowRules) -> Iterable[FeedbackRecord | list[RowProblem]]:
    for line, raw in rows:
        yield check_row(raw, mapping, rules, line)
