"""INSERTs of the hot write paths, sent to the driver as plain SQL with positional parameters.

A Core `insert()` costs Python work per row on every execution (a parameter dictionary, its
processing against the compiled statement). For the few statements that run on every
submission, `driver_insert` builds the SQL once per dialect and converts each value with its
column type's own bind processor (the same conversion Core applies), so the stored rows are
exactly what a Core insert would store. `insert_rows` / `insert_returning` run it on a cursor
of the connection's own driver connection — inside the caller's transaction, without the
per-statement execution context of the engine — and raise driver errors as the SQLAlchemy
exceptions a Core statement would (an IntegrityError stays an IntegrityError).

    ANSWER = ("response_id", "question_key", "item_code", "value_num", "value_text")
    spec = driver_insert(conn.dialect, t.answer, ANSWER)
    insert_rows(conn, spec, [spec.row(values) for values in rows])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class DriverInsert:
    sql: str
    # (position, bind processor, whether the processor leaves None as it is)
    convert: tuple[tuple[int, Convert, bool], ...]

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """The driver's parameters for one row given in the spec's column order."""
        if not self.convert:
            return tuple(values)
        out = list(values)
        for position, convert, keeps_none in self.convert:
            value = out[position]
            if value is not None or not keeps_none:
                out[position] = convert(value)
        return tuple(out)


@functools.lru_cache(maxsize=64)
def driver_insert(dialect: Dialect, table: sa.Table, columns: tuple[str, ...],
                  returning: str | None = None) -> DriverInsert:
    """INSERT INTO table (columns) VALUES (…) [RETURNING returning], in the dialect's
    parameter style, with the bind processors of the columns' types."""
    if dialect.paramstyle == "qmark":
        mark = "?"
    elif dialect.paramstyle in ("format", "pyformat"):
        mark = "%s"
    else:
        raise ValueError(f"driver_insert does not support the {dialect.paramstyle} style")
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join(mark for _ in columns)})")
    if returning is not None:
        sql += f" RETURNING {quote(returning)}"
    convert = []
    for position, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            convert.append((position, processor, processor(None) is None))
    return DriverInsert(sql, tuple(convert))


def insert_rows(conn: Connection, spec: DriverInsert, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run `spec` once per row (executemany) in the transaction of `conn`."""
    if rows:
        _run(conn, spec.sql, list(rows), many=True)


def insert_returning(conn: Connection, spec: DriverInsert, row: tuple[Any, ...]) -> Any:
    """Run `spec` (built with `returning=`) for one row; returns the RETURNING value."""
    return _run(conn, spec.sql, row, many=False)


@dataclass(frozen=True)
class DriverSelect:
    sql: str
    names: tuple[str, ...] | None  # bind names in positional order; None: named parameters
    columns: tuple[str, ...]


@functools.lru_cache(maxsize=64)
def driver_select(dialect: Dialect, query: sa.Select[Any]) -> DriverSelect:
    """`query` compiled once for the dialect, to run on the driver by `select_one`. Only for
    queries whose columns the driver already returns as Python wants them (ids, codes)."""
    compiled = query.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ()) if compiled.positional else None
    return DriverSelect(str(compiled), names, tuple(c.name for c in query.selected_columns))


def select_one(conn: Connection, spec: DriverSelect, params: dict[str, Any]) -> dict[str, Any]:
    """The single row of `spec` as a dict, read in the transaction of `conn`."""
    bound = tuple(params[n] for n in spec.names) if spec.names is not None else params
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.cursor()
    try:
        cursor.execute(spec.sql, bound)
        row = cursor.fetchone()
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(spec.sql, bound, exc, dbapi.Error,
                                         dialect=conn.dialect) from exc
    finally:
        cursor.close()
    if row is None:
        raise RuntimeError(f"{spec.sql!r} returned no row")
    return dict(zip(spec.columns, row, strict=True))


def _run(conn: Connection, sql: str, params: Any, *, many: bool) -> Any:
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
            return None
        cursor.execute(sql, params)
        returned = cursor.fetchone()
        if returned is None:
            raise RuntimeError(f"{sql!r} returned no row")
        return returned[0]
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=conn.dialect,
                                         ismulti=many) from exc
    finally:
        cursor.close()
