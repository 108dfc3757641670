"""Alembic environment: runs against the Database passed in by tiyan.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tiyan.store.tables import metadata

config = context.config
database = config.attributes.get("database")


def run_migrations() -> None:
    if database is None:
        from tiyan.store.db import Database

        db = Database(config.get_main_option("sqlalchemy.url") or "")
    else:
        db = database
    with db.engine.connect() as conn:
        if db.is_sqlite:
            _foreign_keys(conn, on=False)
        try:
            with conn.begin():
                if db.is_sqlite:  # the driver begins only at the first INSERT/UPDATE: a
                    conn.exec_driver_sql("BEGIN")  # failed copy would leave its new table
                context.configure(
                    connection=conn,
                    target_metadata=metadata,
                    render_as_batch=db.is_sqlite,
                    compare_type=True,
                )
                context.run_migrations()
                if db.is_sqlite:
                    _check_foreign_keys(conn)
        finally:
            if db.is_sqlite:
                _foreign_keys(conn, on=True)


def _foreign_keys(conn: Connection, *, on: bool) -> None:
    """SQLite batch mode copies a table, drops the old one and renames the copy: with foreign
    keys enforced, the drop deletes the rows that refer to it (ON DELETE CASCADE: every answer
    of `response`) or fails. SQLite changes the setting only outside a transaction."""
    conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    conn.commit()


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        raise RuntimeError(f"the migration left table {broken[0]} row {broken[1]} referring "
                           f"to a missing row of {broken[2]}")


run_migrations()
