"""robot mentions: the mobile numbers a chat robot @-mentions in a user's notifications

Chat robots (WeCom, DingTalk) mention people by mobile number; the numbers are kept with the
user's notification setting for that robot. A robot's signing secret (加签) is kept in the
existing `secret` column.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiyan.store.types import Json

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notification_preference') as batch:
        batch.add_column(sa.Column('mentions', Json, nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('notification_preference') as batch:
        batch.drop_column('mentions')
