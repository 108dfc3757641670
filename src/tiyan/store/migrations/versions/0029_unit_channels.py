"""unit channels: a unit's own e-mail addresses and chat robots

`unit_channel` keeps the channels of a unit (a store's WeCom, DingTalk, Feishu or Slack robot,
with its signing secret and the mobiles it @-mentions, or an e-mail address); they are told of
the cases and alerts of the unit and the units below it. A notification sent to one names it in
`notification.unit_channel_id`.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiyan.store.types import Json, UtcDateTime

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        'unit_channel',
        sa.Column('id', ID, nullable=False),
        sa.Column('unit_id', ID, nullable=False),
        sa.Column('channel', sa.String(16), nullable=False),
        sa.Column('target', sa.String(1000), nullable=False),
        sa.Column('secret', sa.String(100), nullable=True),
        sa.Column('mentions', Json, nullable=False),
        sa.Column('events', Json, nullable=False),
        sa.Column('locale', sa.String(16), server_default='zh-CN', nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_channel')),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ondelete='CASCADE',
                                name=op.f('fk_unit_channel_unit_id_org_unit')),
    )
    op.create_index(op.f('ix_unit_channel_unit_id'), 'unit_channel', ['unit_id'])
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('unit_channel_id', ID, nullable=True))
        batch.create_foreign_key(op.f('fk_notification_unit_channel_id_unit_channel'),
                                 'unit_channel', ['unit_channel_id'], ['id'],
                                 ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('notification') as batch:
        batch.drop_constraint(op.f('fk_notification_unit_channel_id_unit_channel'),
                              type_='foreignkey')
        batch.drop_column('unit_channel_id')
    op.drop_index(op.f('ix_unit_channel_unit_id'), table_name='unit_channel')
    op.drop_table('unit_channel')
