"""staff sums: NPS and CSAT answers per staff member, for the staff scorecards

Databases that already hold folded responses get the setting `staff_agg.stale`: until
`tiyan aggregates rebuild` (or the catch-up after `tiyan generate`/`demo`) fills the table, the
scorecards read the responses.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import tiyan.store.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_agg',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('top', sa.BigInteger(), nullable=False),
    sa.Column('bottom', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'bucket', 'staff_id', 'unit_id', 'touchpoint_id',
                            'channel', 'item_code', name=op.f('pk_staff_agg')),
    sqlite_with_rowid=False,
    )
    folded = op.get_bind().execute(sa.text("SELECT 1 FROM score_agg LIMIT 1")).first()
    if folded is not None:
        setting = sa.table('app_setting', sa.column('key', sa.String()),
                           sa.column('value', tiyan.store.types.Json),
                           sa.column('updated_at', tiyan.store.types.UtcDateTime()))
        op.bulk_insert(setting, [{'key': 'staff_agg.stale', 'value': True,
                                  'updated_at': dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM app_setting WHERE key = 'staff_agg.stale'"))
    op.drop_table('staff_agg')
