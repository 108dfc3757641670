"""Alembic environment: runs against the Database passed in by tiyan.store.migrate."""

from __future__ import annotations

from alembic import context

from tiyan.store.tables import metadata

config = context.config
database = config.attributes.get("database")


def run_migrations() -> None:
    if database is None:
        from tiyan.store.db import Database

        db = Database(config.get_main_option("sqlalchemy.url") or "")
    else:
        db = database
    with db.engine.begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            render_as_batch=db.is_sqlite,
            compare_type=True,
        )
        context.run_migrations()


run_migrations()
