"""Reading a table out of an uploaded or local .csv / .xlsx file, row by row, with line numbers.

CSV text may be UTF-8 (with or without BOM) or GBK/GB18030 (what Excel on Chinese Windows
writes); anything else is refused with the position of the first byte that is neither, instead
of being imported as mojibake. Shared by the importers (transactions, feedback).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiyan.errors import InvalidInput

FORMATS = (".csv", ".xlsx")


@dataclass
class Table:
    """A file's header, the encoding it was read in, and its rows as (line, {header: value})."""

    header: list[str]
    encoding: str
    rows: Iterator[tuple[int, dict[str, Any]]]


def decode_text(data: bytes, where: str) -> tuple[str, str]:
    """The text of ``data`` and its encoding (``utf-8`` or ``gb18030``)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            raise InvalidInput(
                f"the file is neither UTF-8 nor GBK text (first bad byte at line {line}, "
                f"byte {utf8_error.start}); save it as UTF-8 CSV and import again",
                where=where) from None


def read_table(data: bytes, filename: str) -> Table:
    """The table in ``data``; ``filename`` decides the format by its ending."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return _csv_table(data, filename)
    if suffix == ".xlsx":
        return _xlsx_table(data, filename)
    raise InvalidInput(f"unsupported file type {suffix or '(none)'!r}; use "
                       f"{' or '.join(FORMATS)}", where=filename)


def _csv_table(data: bytes, filename: str) -> Table:
    text, encoding = decode_text(data, filename)
    reader = csv.reader(io.StringIO(text.replace("\0", ""), newline=""))
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        raise InvalidInput("the file is empty (no header line)", where=filename)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            yield line, dict(zip(header, cells, strict=False))

    return Table(header, encoding, rows())


def _xlsx_table(data: bytes, filename: str) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means "not a workbook"
        raise InvalidInput(f"not a readable .xlsx workbook ({type(exc).__name__})",
                           where=filename) from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(values, ())]
    if not any(header):
        workbook.close()
        raise InvalidInput("the workbook's first sheet is empty (no header row)", where=filename)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for line, cells in enumerate(values, start=2):
                if all(cell is None or str(cell).strip() == "" for cell in cells):
                    continue
                yield line, dict(zip(header, cells, strict=False))
        finally:
            workbook.close()

    return Table(header, "xlsx", rows())
