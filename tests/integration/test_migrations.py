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


def test_the_per_unit_feedback_key_migration_keeps_every_row(ctx, world):
    """0020 copies the response table on SQLite: answers (ON DELETE CASCADE), cases and calls
    that refer to responses are all still there after it, and after undoing it."""
    import sqlalchemy as sa
    from alembic import command

    from tiyan.store import tables as t
    from tiyan.store.migrate import alembic_config, upgrade

    def counts():
        with ctx.db.read() as conn:
            return [conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                    for table in (t.response, t.answer, t.text_analysis)]

    before = counts()
    assert before[0] > 0 and before[1] > 0
    command.downgrade(alembic_config(ctx.db), "0019")
    assert counts() == before
    upgrade(ctx.db)
    assert counts() == before
    with ctx.db.read() as conn:
        uniques = sa.inspect(conn).get_unique_constraints("response")
    assert ["source", "external_id", "unit_id"] in [u["column_names"] for u in uniques]
