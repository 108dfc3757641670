"""Importing transactions and visits: file or API rows checked one by one, good rows stored in
batches (one database transaction each), bad rows reported with line, column and reason.

Idempotent: a row's (kind, external id) is stored once; importing the same file again stores
nothing new and counts the rows as already imported.
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
from tiyan.domain.contacts import refs_by_form
from tiyan.domain.feedback_rows import RowProblem, UnitRef
from tiyan.domain.transaction_rows import (
    CustomerRef,
    TransactionRecord,
    TransactionRules,
    check_transaction,
    resolve_columns,
)
from tiyan.services.table_files import FileRow
from tiyan.store import audit
from tiyan.store import tables as t

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
        known = _customers(conn, keys - {""}, ctx.settings.phone_region)
        rules = TransactionRules(known, units, unit_codes, now,
                                 allowed_unit_ids=allowed, default_kind=default_kind)
        records: list[TransactionRecord] = []
        for row in batch:
            if row.values is None:
                part.rejected += 1
                part.problems.append(row.problem or RowProblem(row.line, None, "unreadable row"))
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


def _customers(conn: Connection, keys: set[str], region: str) -> dict[str, CustomerRef]:
    """Customers named by external id, public id or an identity value (phone, e-mail; however
    it is written: tiyan.domain.contacts)."""
    if not keys:
        return {}
    C, CI = t.customer, t.customer_identity
    forms = refs_by_form(keys, region)
    ordered = sorted(forms)
    found: dict[str, CustomerRef] = {}
    queries = [sa.select(column, C.c.id, C.c.unit_id).where(column.in_(ordered),
                                                            C.c.erased_at.is_(None))
               for column in (C.c.public_id, C.c.external_id)]
    queries.append(sa.select(CI.c.value, C.c.id, C.c.unit_id).join(C, C.c.id == CI.c.customer_id)
                   .where(CI.c.value.in_(ordered), C.c.erased_at.is_(None)))
    for query in queries:
        for value, cid, unit_id in conn.execute(query):
            for key in forms[str(value)]:
                found.setdefault(key, CustomerRef(int(cid), int(unit_id)))
    return found


def _store(conn: Connection, records: list[TransactionRecord]) -> tuple[int, int]:
    """Insert the records not stored before; (stored, already there or repeated in the batch)."""
    if not records:
        return 0, 0
    T = t.customer_transaction
    wanted = {(r.kind, r.external_id) for r in records}
    existing: set[tuple[str, str]] = set()
    for kind in {r.kind for r in records}:
        ids = sorted(e for k, e in wanted if k == kind)
        for start in range(0, len(ids), 500):
            query = sa.select(T.c.kind, T.c.external_id).where(
                T.c.kind == kind, T.c.external_id.in_(ids[start:start + 500]))
            existing.update((k, e) for k, e in conn.execute(query))
    fresh: dict[tuple[str, str], TransactionRecord] = {}
    for record in records:
        key = (record.kind, record.external_id)
        if key not in existing and key not in fresh:
            fresh[key] = record
    if fresh:
        conn.execute(sa.insert(T), [
            {"customer_id": r.customer_id, "unit_id": r.unit_id, "kind": r.kind,
             "external_id": r.external_id, "amount": r.amount, "currency": r.currency,
             "occurred_at": r.occurred_at,
             "attributes": {"line": r.line} if r.line is not None else {}}
            for r in fresh.values()])
    return len(fresh), len(records) - len(fresh)
