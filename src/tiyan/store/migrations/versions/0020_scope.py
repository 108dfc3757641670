"""scope: per-unit feedback de-duplication

An imported feedback record was unique by (source, external_id) across the whole organisation,
so a review that one dealer's platform numbered like another dealer's was dropped as a duplicate.
The unique constraint becomes (source, external_id, unit_id): the same external id at two units
is two records; within one unit a re-import still finds its rows. The lookup by source and
external id still reads the index (its first two columns), now with the unit from it too.

On SQLite the response table is copied (batch mode); env.py turns foreign-key enforcement off
for the migration, or dropping the old table would delete every answer (ON DELETE CASCADE).
The downgrade fails, naming the constraint, while two units hold the same external id.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint('uq_response_source_external_id', type_='unique')
        batch_op.create_unique_constraint('uq_response_source_external_id_unit_id',
                                          ['source', 'external_id', 'unit_id'])


def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint('uq_response_source_external_id_unit_id', type_='unique')
        batch_op.create_unique_constraint('uq_response_source_external_id',
                                          ['source', 'external_id'])
