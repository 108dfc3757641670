"""Cells of exported spreadsheets that open safely (CSV and Excel formula injection).

A spreadsheet program runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or
carriage return before them) as a formula: a comment `=HYPERLINK("http://x","y")` would become
a live link, `=cmd|…` worse. Every export writes such text as text: in CSV with a leading
single quote (`'=HYPERLINK(…)`), in Excel as a string cell marked "quote prefix" (shown as
written, never run). Only text is changed: numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """`value` for a CSV cell: text that a spreadsheet would run gets a leading `'`."""
    return "'" + value if starts_like_formula(value) else value


def drain(buffer: io.StringIO) -> str:
    """What a streamed CSV's writer put in `buffer` since the last drain (the buffer emptied)."""
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append `values` to an openpyxl worksheet (write-only or not), text that starts like a
    formula as a quote-prefixed string cell."""
    sheet.append([_excel_cell(sheet, v) for v in values])


def _excel_cell(sheet: Any, value: Any) -> Any:
    if not starts_like_formula(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
