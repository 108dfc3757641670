"""driver aspects: the parts of the item x aspect and aspect x aspect pair sums per month

Databases that already hold text-analysis results get the setting `driver_aspect_agg.stale`:
until `tiyan aggregates rebuild` (or the catch-up after `tiyan generate`/`demo`) fills the
aggregate, the drivers page with comment aspects keeps reading the responses.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import tiyan.store.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('driver_aspect_agg',
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('item_a', sa.String(length=80), nullable=False),
    sa.Column('item_b', sa.String(length=80), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('sum_a', sa.Float(), nullable=False),
    sa.Column('sum_b', sa.Float(), nullable=False),
    sa.Column('sum_aa', sa.Float(), nullable=False),
    sa.Column('sum_bb', sa.Float(), nullable=False),
    sa.Column('sum_ab', sa.Float(), nullable=False),
    sa.Column('top_a', sa.BigInteger(), nullable=False),
    sa.Column('top_b', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'unit_id', 'survey_id', 'touchpoint_id', 'channel',
                            'item_a', 'item_b', name=op.f('pk_driver_aspect_agg')),
    sqlite_with_rowid=False,
    )
    has_results = op.get_bind().execute(sa.text("SELECT 1 FROM text_analysis LIMIT 1")).first()
    if has_results is not None:
        setting = sa.table('app_setting', sa.column('key', sa.String()),
                           sa.column('value', tiyan.store.types.Json),
                           sa.column('updated_at', tiyan.store.types.UtcDateTime()))
        op.bulk_insert(setting, [{'key': 'driver_aspect_agg.stale', 'value': True,
                                  'updated_at': dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM app_setting WHERE key = 'driver_aspect_agg.stale'"))
    op.drop_table('driver_aspect_agg')
