"""The migrations build exactly the schema that tiyan.store.tables describes, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tiyan.store.tables import metadata


def test_migrated_database_matches_the_table_definitions(ctx):
    with ctx.db.read() as conn:
        migration_context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(migration_context, metadata)
    assert differences == []


def test_every_table_of_the_model_exists_after_migration(ctx):
    import sqlalchemy as sa

    with ctx.db.read() as conn:
        existing = set(sa.inspect(conn).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= existing
