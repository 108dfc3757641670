"""transactions by unit and time

An index on `customer_transaction (unit_id, occurred_at)`: the behaviour dashboard reads the
purchases of a set of units over a date range, which the index on unit_id alone answers by
reading every transaction the units ever had.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer_transaction', schema=None) as batch_op:
        batch_op.create_index('ix_customer_transaction_unit_occurred',
                              ['unit_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_transaction', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_transaction_unit_occurred')
