"""Importing transactions and visits: file or API rows checked one by one, good rows stored in
batches (one database transaction each), bad rows reported with line, column and reason.

Idempotent: a row's (kind, external id) is stored once per unit; importing the same file again
stores nothing new and counts the rows as already imported. Two units' rows may carry the same
external id (each dealer's own order numbers, 0021). A row's customer is looked up only among
the customers the importer may see and import for (tiyan.store.scoped_refs.customer_keys).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tiyan.context import Context
from tiyan.domain.access import Actor, Permission
from tiyan.domain.feedback_rows import RowProblem, UnitRef
from tiyan.domain.transaction_rows import (
    TransactionRecord,
    TransactionRules,
    check_transaction,
    resolve_columns,
)
from tiyan.errors import Phrase
from tiyan.services.table_files import FileRow
from tiyan.store import audit
from tiyan.store import tables as t
from tiyan.store.scoped_refs import customer_keys

BATCH = 1000
MAX_REPORTED_PROBLEMS = 1000


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    rejected: int = 0
    encoding: str | None = None
    problems: list[RowProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported,
                "already_imported": self.already_imported, "rejected": self.rejected,
                "encoding": self.encoding,
                "problems": [p.as_json() for p in self.problems[:MAX_REPORTED_PROBLEMS]]}


def import_transactions(
    ctx: Context, actor: Actor | None, rows: Iterable[FileRow],
    headers: list[str], *, mapping: Mapping[str, str] | None = None,
    default_kind: str = "purchase", encoding: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check and store ``rows`` (as `table_files` reads them, or built from API records);
    rows the reader could not read are rejected with their problem. Returns the report."""
    if actor is not None:
        actor.require(Permission.IMPORT_FEEDBACK)
    columns = resolve_columns(headers, mapping)
    allowed = (None if actor is None
               else actor.scope.visibility(Permission.IMPORT_FEEDBACK).unit_ids)
    with ctx.db.read() as conn:
        units, unit_codes = _units(conn)
    report = ImportReport(encoding=encoding)
    iterator: Iterator[FileRow] = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        keys = {_key(row.values.get(columns["customer"])) for row in batch if row.values}
        args = (ctx, actor, batch, columns, keys, units, unit_codes, allowed, default_kind)
        try:
            part = _import_batch(*args)
        except IntegrityError:  # a concurrent import stored some of these rows first
            part = _import_batch(*args)
        report.rows += part.rows
        report.imported += part.imported
        report.already_imported += part.already_imported
        report.rejected += part.rejected
        report.problems.extend(part.problems)
        if progress is not None:
            progress(len(batch))
    return report


def _key(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _import_batch(ctx: Context, actor: Actor | None, batch: list[FileRow],
                  columns: Mapping[str, str], keys: set[str], units: Mapping[str, UnitRef],
                  unit_codes: Mapping[int, str], allowed: frozenset[int] | None,
                  default_kind: str) -> ImportReport:
    part = ImportReport(rows=len(batch))
    now = ctx.now()
    with ctx.db.write() as conn:
        known = customer_keys(conn, actor, keys - {""}, ctx.settings.phone_region)
        rules = TransactionRules(known.at, units, unit_codes, now,
                                 allowed_unit_ids=allowed, default_kind=default_kind)
        records: list[TransactionRecord] = []
        for row in batch:
            if row.values is None:
                part.rejected += 1
                part.problems.append(row.problem or RowProblem(
                    row.line, None, Phrase("import_rows.row_unreadable")))
                continue
            checked = check_transaction(row.values, columns, rules, row.line)
            if isinstance(checked, list):
                part.rejected += 1
                part.problems.extend(checked)
            else:
                records.append(checked)
        part.imported, part.already_imported = _store(conn, records)
        if part.imported:
            audit.record(conn, at=now, user_id=actor.user_id if actor else None,
                         action="transactions.import", entity="customer_transaction",
                         detail={"imported": part.imported,
                                 "already_imported": part.already_imported,
                                 "rejected": part.rejected})
    return part


def _units(conn: Connection) -> tuple[dict[str, UnitRef], dict[int, str]]:
    rows = conn.execute(sa.select(t.org_unit.c.id, t.org_unit.c.code, t.org_unit.c.timezone))
    units, codes = {}, {}
    for row in rows:
        units[row.code] = UnitRef(int(row.id), row.timezone)
        codes[int(row.id)] = row.code
    return units, codes


def _store(conn: Connection, records: list[TransactionRecord]) -> tuple[int, int]:
    """Insert the records not stored before; (stored, already there or repeated in the batch)."""
    if not records:
        return 0, 0
    existing = _stored_keys(conn, records)
    fresh: dict[tuple[str, str, int], TransactionRecord] = {}
    for record in records:
        key = (record.kind, record.external_id, record.unit_id)
        if key not in existing and key not in fresh:
            fresh[key] = record
    if fresh:
        conn.execute(sa.insert(t.customer_transaction), [
            {"customer_id": r.customer_id, "unit_id": r.unit_id, "kind": r.kind,
             "external_id": r.external_id, "amount": r.amount, "currency": r.currency,
             "occurred_at": r.occurred_at,
             "attributes": {"line": r.line} if r.line is not None else {}}
            for r in fresh.values()])
    return len(fresh), len(records) - len(fresh)


def _stored_keys(conn: Connection, records: list[TransactionRecord]
                 ) -> set[tuple[str, str, int]]:
    """(kind, external id, unit) of the stored transactions with the records' kinds and ids."""
    T = t.customer_transaction
    found: set[tuple[str, str, int]] = set()
    for kind in {r.kind for r in records}:
        ids = sorted({r.external_id for r in records if r.kind == kind})
        for start in range(0, len(ids), 500):
            query = sa.select(T.c.kind, T.c.external_id, T.c.unit_id).where(
                T.c.kind == kind, T.c.external_id.in_(ids[start:start + 500]))
            found.update((k, e, int(u)) for k, e, u in conn.execute(query))
    return found
