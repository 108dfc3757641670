"""Reading comments out of .csv, .jsonl and .xlsx files, one row at a time (bounded memory).

Each row becomes an `InputRow` with its id and either its text or the reason it has none; a bad row
never stops the file. Problems with the file as a whole (unknown format, missing column) raise
`InputFileError`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiyan.domain import json_depth

FORMATS = (".csv", ".jsonl", ".xlsx")


class InputFileError(ValueError):
    """The input file as a whole cannot be read; the message says which file and why."""


@dataclass(frozen=True)
class InputRow:
    """One comment to analyse: `text` is None when the row has no usable text (see `error`)."""

    id: Any
    text: str | None
    error: str | None = None


@dataclass(frozen=True)
class Columns:
    text: str = "text"
    id: str = "id"


def read_rows(path: Path, columns: Columns) -> Iterator[InputRow]:
    """The rows of `path` in file order."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(
            f"{path}: unsupported format {suffix!r}; expected one of {', '.join(FORMATS)}"
        )
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    readers = {".csv": _csv_rows, ".jsonl": _jsonl_rows, ".xlsx": _xlsx_rows}
    return readers[suffix](path, columns)


def count_rows(path: Path) -> int | None:
    """How many rows `path` holds (for the progress bar); None when unknown."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            lines = (line.replace("\0", "") for line in handle)
            return max(sum(1 for _ in csv.reader(lines)) - 1, 0)
    if suffix == ".jsonl":
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            return sum(1 for line in handle if line.strip())
    return None


def to_row(number: int, record: dict[str, Any], columns: Columns) -> InputRow:
    """Check one record's text value; `number` (1-based) stands in for a missing id."""
    row_id = record.get(columns.id)
    if row_id is None or row_id == "":
        row_id = number
    value = record.get(columns.text)
    if columns.text not in record:
        return InputRow(row_id, None, f'row {number}: no column "{columns.text}"')
    if not isinstance(value, str):
        kind = "empty" if value is None else f"not text ({type(value).__name__})"
        return InputRow(row_id, None, f'row {number}, column "{columns.text}": value is {kind}')
    if not value.strip():
        return InputRow(row_id, None, f'row {number}, column "{columns.text}": value is empty')
    return InputRow(row_id, _valid_unicode(value))


def _valid_unicode(text: str) -> str:
    """The text with lone surrogates (possible in JSON input) replaced by U+FFFD."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _csv_rows(path: Path, columns: Columns) -> Iterator[InputRow]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.DictReader(line.replace("\0", "") for line in handle)
        _check_header(path, reader.fieldnames or [], columns)
        for number, record in enumerate(reader, start=1):
            yield to_row(number, record, columns)


def _jsonl_rows(path: Path, columns: Columns) -> Iterator[InputRow]:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        number = 0
        for line in handle:
            if not line.strip():
                continue
            number += 1
            yield _json_row(number, line, columns)


def _json_row(number: int, line: str, columns: Columns) -> InputRow:
    try:
        record = json_depth.loads(line)
    except json.JSONDecodeError as exc:
        return InputRow(number, None, f"row {number}: not valid JSON ({exc.msg})")
    if not isinstance(record, dict):
        return InputRow(
            number, None, f"row {number}: expected a JSON object, got {type(record).__name__}"
        )
    return to_row(number, record, columns)


def _xlsx_rows(path: Path, columns: Columns) -> Iterator[InputRow]:
    from openpyxl import load_workbook  # only xlsx input pays for openpyxl

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = [str(cell) if cell is not None else "" for cell in next(values, ())]
        _check_header(path, header, columns)
        for number, cells in enumerate(values, start=1):
            if all(cell is None for cell in cells):
                continue
            yield to_row(number, dict(zip(header, cells, strict=False)), columns)
    finally:
        workbook.close()


def _check_header(path: Path, header: Sequence[str], columns: Columns) -> None:
    if columns.text not in header:
        found = ", ".join(repr(name) for name in header) or "none"
        raise InputFileError(f'{path}: no text column "{columns.text}" (columns: {found})')
