"""text aggregates: aspect mentions and analysed comments per day and month; quotes index

Databases that already hold text-analysis results get the setting `text_agg.stale`: until
`tiyan aggregates rebuild` (or the catch-up after `tiyan generate`/`demo`) fills the aggregate,
the text pages keep reading the results themselves.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import tiyan.store.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('text_agg',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('aspect_code', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'bucket', 'unit_id', 'survey_id', 'touchpoint_id',
                            'channel', 'aspect_code', 'label', name=op.f('pk_text_agg')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('text_aspect', schema=None) as batch_op:
        batch_op.create_index('ix_text_aspect_label_score', ['label', 'score'], unique=False)
    has_results = op.get_bind().execute(sa.text("SELECT 1 FROM text_analysis LIMIT 1")).first()
    if has_results is not None:
        setting = sa.table('app_setting', sa.column('key', sa.String()),
                           sa.column('value', tiyan.store.types.Json),
                           sa.column('updated_at', tiyan.store.types.UtcDateTime()))
        op.bulk_insert(setting, [{'key': 'text_agg.stale', 'value': True,
                                  'updated_at': dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM app_setting WHERE key = 'text_agg.stale'"))
    with op.batch_alter_table('text_aspect', schema=None) as batch_op:
        batch_op.drop_index('ix_text_aspect_label_score')
    op.drop_table('text_agg')
