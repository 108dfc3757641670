"""Importing feedback from elsewhere: a CSV, Excel or JSON Lines file into feedback records.

    open file → mapping (given or guessed) → for each chunk of rows (default 5,000):
        check rows (pure) → drop those already stored (unit + source + external id) → store
        the rest, count the chunk into the import batch, enqueue text analysis and webhooks —
        one transaction per chunk.

A crash leaves whole chunks only; importing the same file again stores what is missing and
counts the rest as duplicates. Rejected rows are listed with line, column and reason (the first
ones on the batch row, every one through `on_problem`). A unit manager imports only into their
own subtree; `unit_code` narrows the import to one unit's subtree and fills empty unit cells.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission, subtree
from tiyan.domain.feedback_rows import (
    FEEDBACK_SOURCES,
    ColumnMapping,
    FeedbackRecord,
    RowProblem,
    RowRules,
    check_row,
    resolve_mapping,
)
from tiyan.domain.responses import Source
from tiyan.errors import Forbidden, InvalidInput, Phrase
from tiyan.services.arrivals import after_feedback_stored
from tiyan.services.table_files import FileRow, TableFile, file_sha256, open_table_file
from tiyan.store import audit
from tiyan.store import feedback as store
from tiyan.store.scoped import parent_map
from tiyan.store.scoped_refs import customer_keys

CHUNK_ROWS = 5000        # rows per transaction: fewer commits and WAL checkpoints (SQLite)
REPORT_PROBLEMS = 1000   # problems kept in the report object (all go to `on_problem`)

Progress = Callable[[int, int], None]   # (bytes read, file size)


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    source: str
    filename: str | None = None          # the uploaded name when `path` is a temporary file
    unit_code: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    encoding: str | None = None
    chunk_rows: int = CHUNK_ROWS


@dataclass
class ImportReport:
    batch_id: int
    import_id: str
    filename: str
    file_format: str
    encoding: str | None
    source: str
    mapping: dict[str, Any]
    rows_total: int = 0
    rows_stored: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0
    status: str = "running"
    unit_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.import_id, "status": self.status, "filename": self.filename,
                "format": self.file_format, "encoding": self.encoding, "source": self.source,
                "mapping": self.mapping, "rows_total": self.rows_total,
                "rows_stored": self.rows_stored, "rows_duplicate": self.rows_duplicate,
                "rows_rejected": self.rows_rejected,
                "problems": [p.as_json() for p in self.problems]}


def check_source(source: str) -> Source:
    named = next((s for s in FEEDBACK_SOURCES if s.value == source.strip().lower()), None)
    if named is None:
        raise InvalidInput("feedback_import.unknown_source", source=source,
                           sources=", ".join(s.value for s in FEEDBACK_SOURCES), where="source")
    return named


def import_rules(ctx: Context, actor: Actor | None, source: Source,
                 unit_code: str | None) -> RowRules:
    """What rows are checked against: the units, and those this import may write to."""
    with ctx.db.read() as conn:
        units = store.unit_refs(conn)
        parents = parent_map(conn)
    allowed: frozenset[int] | None = None
    if actor is not None:
        actor.require(Permission.IMPORT_FEEDBACK)
        allowed = actor.scope.visibility(Permission.IMPORT_FEEDBACK).unit_ids
    if unit_code:
        unit = units.get(unit_code)
        if unit is None:
            raise InvalidInput("feedback_import.unknown_unit_code", unit_code=unit_code,
                               where="unit")
        if allowed is not None and unit.id not in allowed:
            raise Forbidden("feedback_import.unit_outside_your_scope", unit_code=unit_code,
                            where="unit")
        below = subtree(parents, unit.id)
        allowed = below if allowed is None else allowed & below
    return RowRules(source=source, units=units, allowed_unit_ids=allowed, default_unit=unit_code)


def preview(path: Path, *, filename: str | None = None, encoding: str | None = None,
            mapping: Mapping[str, str] | None = None, default_unit: bool = False,
            rows: int = 5) -> dict[str, Any]:
    """The columns, the guessed mapping and the first rows of a file (nothing is stored)."""
    with open_table_file(path, filename=filename, encoding=encoding) as file:
        resolved = resolve_mapping(file.headers, mapping, default_unit=default_unit)
        first = []
        for row in file.rows():
            first.append({"line": row.line, "values": _plain(row.values),
                          "problem": row.problem.reason if row.problem else None})
            if len(first) >= rows:
                break
        return {"format": file.format, "encoding": file.encoding, "columns": file.headers,
                "mapping": dict(resolved.columns), "extra": list(resolved.extra), "rows": first}


def _plain(values: Mapping[str, Any] | None) -> dict[str, str] | None:
    if values is None:
        return None
    return {k: "" if v is None else str(v)[:200] for k, v in values.items()}


def do_import_feedback(ctx: Context, actor: Actor | None, req: ImportRequest, *,
                       progress: Progress | None = None,
                       on_problem: Callable[[RowProblem], None] | None = None,
                       stop_after_chunks: int | None = None,
                       batch_id: int | None = None) -> ImportReport:
    """Import one file; `actor` None is the system (the CLI without --as). See the module doc.
    `batch_id`: go on with a batch `queue_import_feedback` created (the background job)."""
    if req.chunk_rows < 1:
        raise InvalidInput("feedback_import.chunk_size_must_least", where="chunk_rows")
    source = check_source(req.source)
    rules = import_rules(ctx, actor, source, req.unit_code)
    filename = req.filename or req.path.name
    started = time.perf_counter()
    with open_table_file(req.path, filename=filename, encoding=req.encoding) as file:
        mapping = resolve_mapping(file.headers, req.mapping, default_unit=bool(req.unit_code))
        report = (_start(ctx, actor, req, file, mapping, rules, filename) if batch_id is None
                  else _resume(ctx, batch_id, file, filename))
        try:
            for number, chunk in enumerate(_chunks(file.rows(), req.chunk_rows), start=1):
                _import_chunk(ctx, actor, report, chunk, mapping, rules, on_problem)
                if progress is not None:
                    progress(file.bytes_read(), file.size)
                if stop_after_chunks is not None and number >= stop_after_chunks:
                    report.seconds = time.perf_counter() - started
                    return report          # as a crash would leave it (tests)
        except BaseException:
            _finish(ctx, actor, report, "failed", rules)
            raise
        if progress is not None:
            progress(file.size, file.size)
    report.seconds = time.perf_counter() - started
    _finish(ctx, actor, report, "done", rules)
    return report


def _start(ctx: Context, actor: Actor | None, req: ImportRequest, file: TableFile,
           mapping: ColumnMapping, rules: RowRules, filename: str, *,
           status: str = "running",
           then: Callable[[Any, int], None] | None = None) -> ImportReport:
    unit = rules.units.get(req.unit_code) if req.unit_code else None
    described = {"columns": dict(mapping.columns), "extra": list(mapping.extra),
                 "unit": req.unit_code, "encoding": file.encoding}
    sha = file_sha256(req.path)
    with ctx.db.write() as conn:
        batch_id, public_id = store.insert_batch(
            conn, source=str(rules.source), filename=filename, file_format=file.format,
            sha256=sha, mapping=described, created_by=actor.user_id if actor else None,
            now=ctx.now(), unit_id=unit.id if unit else None, bytes_total=file.size,
            status=status)
        if then is not None:
            then(conn, batch_id)     # e.g. the job that runs it, in the same transaction
    return ImportReport(batch_id, public_id, filename, file.format, file.encoding,
                        str(rules.source), described, unit_id=unit.id if unit else None)


def _resume(ctx: Context, batch_id: int, file: TableFile, filename: str) -> ImportReport:
    """A queued batch taken up by its job; counts start again from zero (a job run again after
    a crash finds the rows it stored before as duplicates)."""
    with ctx.db.write() as conn:
        row = store.batch_by_id(conn, batch_id)
        if row is None:
            raise InvalidInput("feedback_import.import_batch_does_not", batch_id=batch_id,
                               where="import")
        store.reset_batch(conn, batch_id)
    return ImportReport(batch_id, row["public_id"], filename, file.format, file.encoding,
                        row["source"], dict(row["mapping"] or {}), unit_id=row["unit_id"])


def _chunks(rows: Iterator[FileRow], size: int) -> Iterator[list[FileRow]]:
    chunk: list[FileRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _import_chunk(ctx: Context, actor: Actor | None, report: ImportReport,
                  chunk: Sequence[FileRow], mapping: ColumnMapping, rules: RowRules,
                  on_problem: Callable[[RowProblem], None] | None) -> None:
    records: list[FeedbackRecord] = []
    problems: list[RowProblem] = []
    for row in chunk:
        if row.problem is not None or row.values is None:
            problems.append(row.problem or RowProblem(
                row.line, None, Phrase("import_rows.row_unreadable")))
            continue
        checked = check_row(row.values, mapping, rules, row.line)
        if isinstance(checked, FeedbackRecord):
            records.append(checked)
        else:
            problems.extend(checked)
    rejected = len(chunk) - len(records)
    for attempt in (1, 2):
        try:
            stored, duplicate = _store_chunk(ctx, actor, report, len(chunk), records, problems)
            break
        except IntegrityError:
            if attempt == 2:       # a concurrent import of the same records twice in a row
                raise
    report.rows_total += len(chunk)
    report.rows_stored += stored
    report.rows_duplicate += duplicate
    report.rows_rejected += rejected
    room = REPORT_PROBLEMS - len(report.problems)
    report.problems.extend(problems[:max(room, 0)])
    if on_problem is not None:
        for problem in problems:
            on_problem(problem)


def _store_chunk(ctx: Context, actor: Actor | None, report: ImportReport, rows: int,
                 records: list[FeedbackRecord], problems: list[RowProblem]) -> tuple[int, int]:
    now = ctx.now()
    with ctx.db.write() as conn:
        fresh = _new_records(conn, records)
        refs = {r.customer for r in fresh if r.customer}
        customers = customer_keys(conn, actor, refs, ctx.settings.phone_region)
        ids = store.insert_records(conn, fresh, batch_public_id=report.import_id,
                                   customers=customers, now=now)
        duplicate = len(records) - len(fresh)
        store.add_to_batch(conn, report.batch_id, total=rows, stored=len(ids),
                           duplicate=duplicate, rejected=rows - len(records),
                           rejections=[p.as_json() for p in problems])
        after_feedback_stored(conn, report.batch_id, ids, now)
    return len(ids), duplicate


def _new_records(conn: Any, records: Sequence[FeedbackRecord]) -> list[FeedbackRecord]:
    """Records not stored yet (by unit, source and external id), each once: the same external
    id at two units is two records (two dealers' own review numbers may coincide)."""
    by_source: dict[str, set[str]] = {}
    for record in records:
        by_source.setdefault(str(record.source), set()).add(record.external_id)
    stored = {(unit_id, source, eid) for source, ids in by_source.items()
              for unit_id, eid in store.existing_keys(conn, source, ids)}
    fresh: list[FeedbackRecord] = []
    for record in records:
        key = (record.unit_id, str(record.source), record.external_id)
        if key not in stored:
            stored.add(key)
            fresh.append(record)
    return fresh


def _finish(ctx: Context, actor: Actor | None, report: ImportReport, status: str,
            rules: RowRules) -> None:
    report.status = status
    now = ctx.now()
    with ctx.db.write() as conn:
        store.finish_batch(conn, report.batch_id, status, now)
        audit.record(conn, at=now, user_id=actor.user_id if actor else None,
                     action="feedback.import", entity="import_batch", entity_id=report.import_id,
                     unit_id=report.unit_id,
                     detail={"filename": report.filename, "source": report.source,
                             "status": status, "stored": report.rows_stored,
                             "duplicate": report.rows_duplicate,
                             "rejected": report.rows_rejected})
