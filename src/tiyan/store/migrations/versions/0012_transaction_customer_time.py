"""transactions by customer and time

The index on `customer_transaction (customer_id)` becomes one on `(customer_id, occurred_at)`:
the behaviour dashboard asks, per customer who bought in the range, whether they bought before
it (their cohort), and the key drivers whether they bought within the window after a response;
both are now one index probe instead of reading the customer's every transaction. The new index
answers everything the old one did.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer_transaction', schema=None) as batch_op:
        batch_op.create_index('ix_customer_transaction_customer_occurred',
                              ['customer_id', 'occurred_at'], unique=False)
        batch_op.drop_index('ix_customer_transaction_customer_id')


def downgrade() -> None:
    with op.batch_alter_table('customer_transaction', schema=None) as batch_op:
        batch_op.create_index('ix_customer_transaction_customer_id', ['customer_id'],
                              unique=False)
        batch_op.drop_index('ix_customer_transaction_customer_occurred')
