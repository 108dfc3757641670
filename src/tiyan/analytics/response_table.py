"""Responses as a wide table: one row per response, the questions as columns (their text in the
reader's language, the answers in words: option labels, yes/no, scores as numbers) after the
response's facts (time in one named zone, survey, unit, staff, touchpoint, channel, NPS group,
the comments' sentiment and aspects, the comment).

The columns are every question of every survey version the selected responses answered
(newest version first; a question with the same key and text in several versions or surveys is
one column), then the keys answered by responses without a survey (imports). Rows are read in
batches (store.responses), so a table of any length is written in bounded memory (`csv_chunks`,
`xlsx_file`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, RowMapping

from tiyan.analytics.export_cells import append_row, csv_row, drain
from tiyan.domain.access import Actor
from tiyan.domain.answer_labels import ReadAnswer, read_answer
from tiyan.domain.surveys import Question, QuestionType, SurveyDefinition
from tiyan.store import responses as store
from tiyan.store import text_analysis
from tiyan.store.response_slices import SCORE_GROUPS
from tiyan.store.surveys import version_definition

Words = Callable[..., str]  # a translator: message key (and values) -> text
META = ("response", "submitted", "survey", "unit", "staff", "touchpoint", "channel",
        "nps_group", "sentiment", "aspects", "comment")
NPS_GROUPS = ("promoter", "passive", "detractor")


@dataclass(frozen=True)
class WideTable:
    """What a wide export of one selection holds: its columns and how to read its cells."""

    locale: str
    timezone: str
    words: Words
    headers: tuple[str, ...]  # of the answer columns
    column_of: Mapping[tuple[int, str], int]  # (survey version or 0, question key) -> column
    definitions: Mapping[int, SurveyDefinition]
    aspect_names: Callable[[int], Mapping[str, str]]  # unit id -> aspect code -> name
    questions: dict[tuple[int, str], Question | None] = field(default_factory=dict)

    def head(self) -> list[str]:
        meta = [self.words(f"responses.col_{name}") for name in META]
        meta[1] = self.words("responses.col_submitted_in", zone=self.timezone)
        return meta + list(self.headers)


def wide_table(conn: Connection, actor: Actor, f: store.ResponseFilter, *, locale: str,
               timezone: str, words: Words,
               aspect_names: Callable[[int], Mapping[str, str]]) -> WideTable:
    """The columns of the responses `f` selects for `actor`: one per question, a question of
    several surveys (the same key and text, e.g. NPS) in one column."""
    definitions = {v: version_definition(conn, v) for v in store.survey_versions_of(conn, actor, f)}
    columns: dict[tuple[str, str], int] = {}
    column_of: dict[tuple[int, str], int] = {}
    for version, definition in definitions.items():
        for question in definition.questions:
            for key in _keys(question):
                text = read_answer(question, key, {}, locale).question
                column_of[(version, key)] = columns.setdefault((key, text), len(columns))
    for key in store.unversioned_keys(conn, actor, f):
        column_of[(0, key)] = columns.setdefault((key, key), len(columns))
    return WideTable(locale, timezone, words, _distinct(list(columns)), column_of,
                     definitions, aspect_names)


def _keys(question: Question) -> list[str]:
    if question.type == QuestionType.MATRIX and question.rows:
        return [f"{question.key}.{row.code}" for row in question.rows]
    return [question.key]


def _distinct(columns: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Headers as written, a header that several columns share with its key after it."""
    seen: dict[str, int] = {}
    for _, header in columns:
        seen[header] = seen.get(header, 0) + 1
    return tuple(header if seen[header] == 1 else f"{header} ({key})"
                 for key, header in columns)


def wide_rows(conn: Connection, actor: Actor, f: store.ResponseFilter,
              table: WideTable) -> Iterator[list[list[Any]]]:
    """The table's rows, a batch (a list of rows) at a time, newest response first."""
    for page, answers in store.iter_export_batches(conn, actor, f):
        analyses = text_analysis.analyses_for(conn, [r["id"] for r in page])
        yield [_row(table, r, answers[r["id"]], analyses[r["id"]]) for r in page]


def _row(table: WideTable, r: RowMapping, answers: Sequence[Mapping[str, Any]],
         analyses: Sequence[Mapping[str, Any]]) -> list[Any]:
    zh = table.locale == "zh-CN"
    cells: list[Any] = [""] * len(table.headers)
    comments = []
    version = r["survey_version_id"] or 0
    for a in answers:
        key = str(a["question_key"])
        read = read_answer(_question(table, r["survey_version_id"], key), key, a, table.locale)
        column = table.column_of.get((version, key))
        if column is not None:
            cells[column] = _cell(read)
        if read.is_comment and read.value:
            comments.append(read.value)
    names = table.aspect_names(r["unit_id"])
    aspects = [f"{names.get(x['aspect'], x['aspect'])} ({_label(table, x['label'])})"
               for a in analyses for x in a["aspects"]]
    meta = [r["public_id"], _local(r["submitted_at"], table.timezone), r["survey_name"] or "",
            r["unit_name_zh"] if zh else r["unit_name_en"], r["staff_name"] or "",
            (r["touchpoint_name_zh"] if zh else r["touchpoint_name_en"]) or "",
            table.words(f"channel.{r['channel']}"), _nps_group(table, answers),
            "; ".join(dict.fromkeys(_label(table, a["sentiment_label"]) for a in analyses)),
            "; ".join(aspects), "\n".join(comments)]
    return meta + cells


def _question(table: WideTable, version_id: int | None, key: str) -> Question | None:
    found = table.questions.get((version_id or 0, key), False)
    if found is not False:
        return found  # type: ignore[return-value]
    definition = table.definitions.get(version_id) if version_id is not None else None
    question = None
    if definition is not None:
        by_key = {q.key: q for q in definition.questions}
        question = by_key.get(key) or by_key.get(key.split(".", 1)[0])
    table.questions[(version_id or 0, key)] = question
    return question


def _cell(read: ReadAnswer) -> Any:
    """A score as a number (a whole one without decimals), anything else in words."""
    if read.score is not None:
        return int(read.score) if float(read.score).is_integer() else read.score
    return read.value


def _nps_group(table: WideTable, answers: Sequence[Mapping[str, Any]]) -> str:
    for a in answers:
        if a["item_code"] == "nps" and a["value_num"] is not None:
            for group in NPS_GROUPS:
                _, low, high = SCORE_GROUPS[group]
                if low <= a["value_num"] <= high:
                    return table.words(f"responses.score_{group}")
    return ""


def _label(table: WideTable, label: str) -> str:
    return table.words(f"insight.label_{label}")


def _local(value: dt.datetime | None, timezone: str) -> dt.datetime | str:
    """The time in `timezone`, without a zone (spreadsheets keep none; the header names it)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)


# --- files ----------------------------------------------------------------------------------

def csv_chunks(head: Sequence[str], batches: Iterator[list[list[Any]]]) -> Iterator[str]:
    """A CSV file a batch at a time: UTF-8 with a byte order mark (so Excel reads Chinese),
    text that a spreadsheet would run as a formula written as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_row(head))
    yield "\ufeff" + drain(buffer)
    for batch in batches:
        writer.writerows(csv_row(v for v in row) for row in batch)
        yield drain(buffer)



SPOOL_BYTES = 8 * 1024 * 1024  # an Excel file up to this size stays in memory, else on disk


def xlsx_file(head: Sequence[str], batches: Iterator[list[list[Any]]],
              sheet_name: str) -> IO[bytes]:
    """An .xlsx workbook of these rows, written by openpyxl in write-only mode (rows go to a
    temporary file as they come) into a spooled file, rewound for reading."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name[:31])
    sheet.freeze_panes = "B2"
    append_row(sheet, head)
    for batch in batches:
        for row in batch:
            append_row(sheet, row)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    book.save(out)
    out.seek(0)
    return out  # type: ignore[return-value]


def file_chunks(file: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """A file's bytes in chunks, closing it at the end."""
    with file:
        while chunk := file.read(size):
            yield chunk
