"""webhook message unique: one delivery per endpoint and message id

A webhook message's id is now derived from what it carries (the event, its time, its records and
the endpoint), so an emit job that runs again after a crash finds the deliveries it made and
adds none: a receiver sees each message once, under one `webhook-id`. The unique index holds
that; ids made before were random and are unique already.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ux_webhook_delivery_endpoint_message', 'webhook_delivery',
                    ['endpoint_id', 'message_id'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_webhook_delivery_endpoint_message', table_name='webhook_delivery')
