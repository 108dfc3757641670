"""dashboard slices: score sums per customer segment; responses by staff and time

`segment_agg` holds the score sums of `score_agg` once more per customer segment, so a
dashboard sliced by segment reads sums instead of the responses; the index on
`response (staff_id, submitted_at)` serves a staff member's slice. Databases that already hold
folded responses get the setting `segment_agg.stale`: until `tiyan aggregates rebuild` (or the
catch-up after `tiyan generate`/`demo`) fills the table, segment slices read the responses.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import tiyan.store.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('segment_agg',
    sa.Column('segment', sa.String(length=64), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('top', sa.BigInteger(), nullable=False),
    sa.Column('bottom', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('segment', 'grain', 'bucket', 'unit_id', 'survey_id',
                            'touchpoint_id', 'channel', 'item_code', name=op.f('pk_segment_agg')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_staff_submitted', ['staff_id', 'submitted_at'],
                              unique=False)
    folded = op.get_bind().execute(sa.text("SELECT 1 FROM score_agg LIMIT 1")).first()
    if folded is not None:
        setting = sa.table('app_setting', sa.column('key', sa.String()),
                           sa.column('value', tiyan.store.types.Json),
                           sa.column('updated_at', tiyan.store.types.UtcDateTime()))
        op.bulk_insert(setting, [{'key': 'segment_agg.stale', 'value': True,
                                  'updated_at': dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM app_setting WHERE key = 'segment_agg.stale'"))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_staff_submitted')
    op.drop_table('segment_agg')
