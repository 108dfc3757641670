"""Reading imported tables (CSV, Excel .xlsx, JSON Lines) one row at a time, in bounded memory.

The one file reader of every importer (feedback, transactions and visits).
`open_table_file(path)` tells the format from the file name, the CSV encoding from the first
megabyte (UTF-8, UTF-8 with BOM, UTF-16 with BOM, else GB18030, the superset of GBK and GB2312)
and the CSV delimiter from the header line. Its `rows()` yields each record with the line where
it starts (the sheet row for Excel); a row that cannot be read — broken quoting, a wrong number
of fields, bytes that are not in the file's encoding, a JSON line that is no object — comes as a
`RowProblem` and never stops the file. `bytes_read()` follows the reading for a progress bar.
Problems with the whole file (unknown format, no header, unknown encoding) raise `InvalidInput`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tiyan.domain import json_depth
from tiyan.domain.feedback_rows import RowProblem
from tiyan.errors import InvalidInput, Phrase

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl",
           ".ndjson": "jsonl"}
SAMPLE_BYTES = 1 << 20          # how much of a CSV file the encoding is guessed from
JSON_HEADER_RECORDS = 1000      # JSON Lines: columns are the keys of the first records
DELIMITERS = (",", "\t", ";", "|")


@dataclass(frozen=True)
class FileRow:
    """One record of a file: its values by column, or the problem that made it unreadable."""

    line: int
    values: Mapping[str, Any] | None
    problem: RowProblem | None = None


def file_format(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput("table_files.cannot_import_csv_xlsx", filename=filename,
                           suffix=suffix or 'a file without extension', where="file")
    return FORMATS[suffix]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def detect_encoding(sample: bytes, *, final: bool = False, where: str = "file") -> str:
    """The encoding of a CSV file from its first bytes (a cut character at the end is fine
    unless `final`: then `sample` is the whole file)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=final)
    except UnicodeDecodeError as utf8_error:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(sample, final=final)
        except UnicodeDecodeError:
            line = sample[:utf8_error.start].count(b"\n") + 1
            raise InvalidInput(
                "table_files.file_neither_utf_nor", line=line, start=utf8_error.start + 1,
                where=where) from None
        return "gb18030"
    return "utf-8"


def decode_text(data: bytes, where: str) -> tuple[str, str]:
    """The text of a whole small file held in memory, and its encoding."""
    encoding = detect_encoding(data, final=True, where=where)
    return data.decode(encoding), encoding


def check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InvalidInput("table_files.unknown_encoding_utf_gbk", name=name,
                           where="encoding") from None


class TableFile:
    """An open table file; use as a context manager, then read `headers` and `rows()`."""

    format: str
    encoding: str | None = None
    headers: list[str]

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size

    def rows(self) -> Iterator[FileRow]:
        raise NotImplementedError

    def bytes_read(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> TableFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table_file(path: Path, *, filename: str | None = None,
                    encoding: str | None = None) -> TableFile:
    """Open `path` (named `filename` when it is an upload) for reading its rows."""
    kind = file_format(filename or path.name)
    if not path.is_file():
        raise InvalidInput("table_files.no_such_file", path=path, where="file")
    size = path.stat().st_size
    if kind == "csv":
        return CsvFile(path, size, encoding)
    if kind == "jsonl":
        return JsonLinesFile(path, size)
    return XlsxFile(path, size)


def _undecodable(text: str) -> bool:
    """Whether a cell holds bytes its encoding could not decode (kept as lone surrogates)."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _ByteStream(TableFile):
    """A file read through one binary handle: progress is the handle's position."""

    _raw: IO[bytes]

    @staticmethod
    def _bad(line: int, reason: Phrase) -> FileRow:
        return FileRow(line, None, RowProblem(line, None, reason))

    def bytes_read(self) -> int:
        return self._raw.tell() if not self._raw.closed else self.size

    def close(self) -> None:
        self._raw.close()


class CsvFile(_ByteStream):
    format = "csv"

    def __init__(self, path: Path, size: int, encoding: str | None) -> None:
        super().__init__(path, size)
        self._raw = path.open("rb")
        try:
            sample = self._raw.read(SAMPLE_BYTES)
            self.encoding = check_encoding(encoding) if encoding else detect_encoding(sample)
            self._raw.seek(0)
            self._text = io.TextIOWrapper(self._raw, encoding=self.encoding,
                                          errors="surrogateescape", newline="")
            first = self._text.readline()
            delimiter = max(DELIMITERS, key=first.count)
            header = next(csv.reader([first], delimiter=delimiter), [])
        except BaseException:
            self._raw.close()
            raise
        self.headers = [h.strip().lstrip("\ufeff") for h in header]
        if not any(self.headers):
            self._raw.close()
            raise InvalidInput("table_files.file_empty_first_line",
                               where="line 1")
        if any(_undecodable(h) for h in self.headers):
            self._raw.close()
            raise InvalidInput("table_files.column_names_not_valid", encoding=self.encoding,
                               where="line 1")
        self._reader = csv.reader(self._text, delimiter=delimiter, strict=True)
        self._line = 1

    def rows(self) -> Iterator[FileRow]:
        reader, width = self._reader, len(self.headers)
        while True:
            start = self._line + reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield self._bad(start, _csv_problem(exc))
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != width:
                yield self._bad(start, Phrase("import_rows.field_count",
                                              {"count": len(cells), "width": width}))
                continue
            bad = next((i for i, c in enumerate(cells) if _undecodable(c)), None)
            if bad is not None:
                yield FileRow(start, None, RowProblem(
                    start, self.headers[bad],
                    Phrase("import_rows.cell_not_encoding", {"encoding": self.encoding})))
                continue
            yield FileRow(start, dict(zip(self.headers, cells, strict=True)))

def _csv_problem(exc: csv.Error) -> Phrase:
    """Why Python's csv reader stopped on a row, in words of the catalogue where it is one of
    its usual complaints (else its own words)."""
    detail = str(exc)
    if detail == "unexpected end of data":
        return Phrase("import_rows.csv_open_quote")
    if detail.startswith("field larger than field limit"):
        return Phrase("import_rows.csv_field_too_large")
    if detail.endswith("expected after '\"'"):
        return Phrase("import_rows.csv_after_quote")
    return Phrase("import_rows.csv_quoting", {"detail": detail})


class JsonLinesFile(_ByteStream):
    format = "jsonl"
    encoding = "utf-8"

    def __init__(self, path: Path, size: int) -> None:
        super().__init__(path, size)
        self._raw = path.open("rb")
        seen: dict[str, None] = {}
        for _, values in zip(range(JSON_HEADER_RECORDS), self._objects(), strict=False):
            seen.update(dict.fromkeys(str(k) for k in values))
        self.headers = list(seen)
        self._raw.seek(0)
        if not self.headers:
            self._raw.close()
            raise InvalidInput("table_files.file_holds_no_json", where="line 1")

    def _objects(self) -> Iterator[dict[str, Any]]:
        for row in self.rows():
            if row.values is not None:
                yield dict(row.values)

    def rows(self) -> Iterator[FileRow]:
        for number, raw in enumerate(self._raw, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if not raw.strip():
                continue
            try:
                values = json_depth.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield self._bad(number, Phrase("import_rows.json_not_utf8"))
                continue
            except json.JSONDecodeError as exc:
                yield self._bad(number, Phrase("import_rows.json_not_valid",
                                                {"detail": exc.msg, "position": exc.pos + 1}))
                continue
            if not isinstance(values, dict):
                yield self._bad(number, Phrase("import_rows.json_not_object",
                                                {"kind": type(values).__name__}))
                continue
            yield FileRow(number, values)

class XlsxFile(TableFile):
    format = "xlsx"

    def __init__(self, path: Path, size: int) -> None:
        from openpyxl import load_workbook  # only Excel imports pay for openpyxl

        super().__init__(path, size)
        # a file object, not the path: an upload is saved without its name's .xlsx, which
        # openpyxl would refuse for the name alone
        self._file = path.open("rb")
        try:
            self._book = load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure: not a readable workbook
            self._file.close()
            raise InvalidInput("table_files.not_readable_xlsx_workbook", name=path.name, exc=exc,
                               where="file") from None
        sheet = self._book.worksheets[0]
        self._total = max(int(sheet.max_row or 1), 1)
        self._values = sheet.iter_rows(values_only=True)
        header = next(self._values, ())
        self.headers = ["" if h is None else str(h).strip() for h in header]
        self._row = 1
        if not any(self.headers):
            self.close()
            raise InvalidInput("table_files.first_sheet_first_row",
                               where="row 1")

    def rows(self) -> Iterator[FileRow]:
        names = self.headers
        for cells in self._values:
            self._row += 1
            if all(c is None or c == "" for c in cells):
                continue
            values = {n: c for n, c in zip(names, cells, strict=False) if n}
            yield FileRow(self._row, values)

    def bytes_read(self) -> int:
        return min(self.size, self.size * self._row // self._total)

    def close(self) -> None:
        self._book.close()
        self._file.close()
