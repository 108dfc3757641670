"""Rows of imported transactions and visits (purchases, repairs, stays …).

Pure: headers are mapped to fields (given or guessed from common 中文/English names), and each
row is checked into a `TransactionRecord` or a list of `RowProblem`s naming line, column and
reason. Amounts may not be negative (a refund is kind "refund" with a positive amount), times
may not lie in the future, the customer must be known and inside the importer's scope (one
outside it reads as unknown), the unit one the importer may write to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tiyan.domain.feedback_rows import (
    RowProblem,
    UnitRef,
    Unreadable,
    cell_text,
    excerpt,
    find_unit,
    match_columns,
    parse_time,
    time_problem,
)
from tiyan.errors import InvalidInput, Phrase

FIELDS = ("customer", "time", "amount", "kind", "unit", "external_id", "currency")
REQUIRED = ("customer", "time", "amount")
MAX_AMOUNT = Decimal("1000000000")
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
FUTURE_SLACK = dt.timedelta(minutes=5)

HEADER_GUESSES: Mapping[str, tuple[str, ...]] = {
    "customer": ("customer", "customerid", "customercode", "member", "memberid", "phone",
                 "mobile", "客户", "客户编号", "客户id", "会员", "会员号", "手机", "手机号"),
    "time": ("time", "date", "datetime", "occurredat", "visitedat", "purchasedat",
             "transactiontime", "时间", "日期", "交易时间", "消费时间", "到店时间", "发生时间"),
    "amount": ("amount", "total", "value", "spend", "price", "金额", "消费金额", "交易金额",
               "实付金额"),
    "kind": ("kind", "type", "transactiontype", "类型", "交易类型", "消费类型"),
    "unit": ("unit", "unitcode", "store", "storecode", "门店", "门店编码", "单位", "网点"),
    "external_id": ("externalid", "id", "transactionid", "orderid", "order", "orderno",
                    "编号", "订单号", "交易号", "流水号", "单号"),
    "currency": ("currency", "币种", "货币"),
}


@dataclass(frozen=True)
class CustomerRef:
    id: int
    unit_id: int


@dataclass(frozen=True)
class TransactionRules:
    """What a row is checked against, known before the file is read."""

    # (key, the row's unit or None) -> the customer the key names there, if the importer may
    # see and import for them (tiyan.store.scoped_refs.CustomerKeys.at)
    customer_at: Callable[[str, int | None], CustomerRef | None]
    units: Mapping[str, UnitRef]
    unit_codes: Mapping[int, str]
    now: dt.datetime
    allowed_unit_ids: frozenset[int] | None = None  # None: every unit
    default_kind: str = "purchase"
    default_timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class TransactionRecord:
    customer_id: int
    unit_id: int
    kind: str
    external_id: str
    amount: Decimal
    currency: str
    occurred_at: dt.datetime
    line: int | None = None


def resolve_columns(headers: Sequence[str], given: Mapping[str, str] | None = None
                    ) -> dict[str, str]:
    """Field -> header: the given mapping first, then guesses from the header names."""
    columns, present = match_columns(headers, given or {}, FIELDS, HEADER_GUESSES)
    for name in REQUIRED:
        if name not in columns:
            raise InvalidInput("common.file_no_column_name", name=name,
                               present=', '.join(present) or 'none',
                               where=f"column {name}")
    return columns


_cell = cell_text


MAX_AMOUNT = Decimal(10) ** 13  # stored as whole cents in a 64-bit integer


def parse_amount(value: Any) -> Decimal:
    """A money amount: 1234.5, "1,234.50", "¥88", "88元"; raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("not an amount")
    text = _cell(value).replace(",", "").replace("，", "")
    text = text.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    if not text:
        raise Unreadable(Phrase("import_rows.amount_missing"))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Unreadable(Phrase("import_rows.amount_not_number")) from None
    if not amount.is_finite():
        raise Unreadable(Phrase("import_rows.amount_not_finite"))
    if abs(amount) >= MAX_AMOUNT:
        raise Unreadable(Phrase("import_rows.amount_too_large", {"limit": int(MAX_AMOUNT) - 1}))
    return amount.quantize(Decimal("0.01"))


def check_transaction(raw: Mapping[str, Any], columns: Mapping[str, str],
                      rules: TransactionRules, line: int | None = None
                      ) -> TransactionRecord | list[RowProblem]:
    """One row checked; every problem names its column."""
    problems: list[RowProblem] = []

    def cell(name: str) -> Any:
        return raw.get(columns[name]) if name in columns else None

    def problem(name: str, reason: Phrase, value: Any = None) -> None:
        problems.append(RowProblem(line, columns.get(name, name), reason,
                                   None if value is None else excerpt(value)))

    unit_id: int | None = None
    unit_code = _cell(cell("unit"))
    if unit_code:
        unit, why = find_unit(unit_code, rules.units, rules.allowed_unit_ids)
        if unit is None:
            problem("unit", why or Phrase("import_rows.unknown_unit", {"code": unit_code}),
                    unit_code)
        else:
            unit_id = unit.id
    customer_key = _cell(cell("customer"))
    customer = rules.customer_at(customer_key, unit_id) if customer_key else None
    if not customer_key:
        problem("customer", Phrase("import_rows.no_customer"))
    elif customer is None:
        problem("customer", Phrase("import_rows.unknown_customer", {"customer": customer_key}),
                customer_key)
    elif unit_id is None:
        unit_id = customer.unit_id
    timezone = rules.default_timezone
    code = rules.unit_codes.get(unit_id) if unit_id is not None else None
    if code is not None and code in rules.units:
        timezone = rules.units[code].timezone

    occurred_at: dt.datetime | None = None
    try:
        occurred_at = parse_time(cell("time"), timezone)
    except (ValueError, OverflowError, OSError) as exc:
        problem("time", time_problem(exc), cell("time"))
    else:
        if occurred_at > rules.now + FUTURE_SLACK:
            problem("time", Phrase("import_rows.time_in_future", {
                "now": rules.now.isoformat(timespec="minutes")}), cell("time"))

    amount: Decimal | None = None
    try:
        amount = parse_amount(cell("amount"))
    except ValueError as exc:
        why = exc.why if isinstance(exc, Unreadable) else Phrase("import_rows.amount_not_number")
        problem("amount", why, cell("amount"))
    else:
        if amount < 0:
            problem("amount", Phrase("import_rows.amount_negative"), cell("amount"))
        elif amount > MAX_AMOUNT:
            problem("amount", Phrase("import_rows.amount_too_large", {"limit": int(MAX_AMOUNT)}),
                    cell("amount"))

    kind = _cell(cell("kind")).lower() or rules.default_kind
    if not KIND_PATTERN.match(kind):
        problem("kind", Phrase("import_rows.bad_kind"), cell("kind"))
    currency = _cell(cell("currency")).upper() or "CNY"
    if not CURRENCY_PATTERN.match(currency):
        problem("currency", Phrase("import_rows.bad_currency"), cell("currency"))
    external = _cell(cell("external_id"))
    if len(external) > 128:
        problem("external_id", Phrase("import_rows.external_id_too_long", {"limit": 128}),
                external)

    if problems:
        return problems
    assert customer is not None and unit_id is not None
    assert occurred_at is not None and amount is not None
    external = external or content_id(customer_key, kind, occurred_at, amount)
    return TransactionRecord(customer.id, unit_id, kind, external, amount, currency,
                             occurred_at, line)


def content_id(customer: str, kind: str, at: dt.datetime, amount: Decimal) -> str:
    """The external id of a row whose file carries none: importing it again finds it again."""
    digest = hashlib.sha256("\x1f".join((customer, kind, at.isoformat(), str(amount)))
                            .encode("utf-8")).hexdigest()
    return "sha256:" + digest[:48]
