"""transaction unit unique: per-unit de-duplication of imported transactions

An imported transaction was unique by (kind, external_id) across the whole organisation, so
an order number that one dealer's system gave like another dealer's was counted as already
imported and dropped. The unique constraint becomes (kind, external_id, unit_id): the same
external id at two units is two transactions; within one unit a re-import still finds its rows.

On SQLite the customer_transaction table is copied (batch mode; env.py runs the migration with
foreign keys off and checks them before committing). The downgrade fails, naming the
constraint, while two units hold the same kind and external id.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer_transaction', schema=None) as batch_op:
        batch_op.drop_constraint('uq_customer_transaction_kind_external_id', type_='unique')
        batch_op.create_unique_constraint('uq_customer_transaction_kind_external_id_unit_id',
                                          ['kind', 'external_id', 'unit_id'])


def downgrade() -> None:
    with op.batch_alter_table('customer_transaction', schema=None) as batch_op:
        batch_op.drop_constraint('uq_customer_transaction_kind_external_id_unit_id',
                                 type_='unique')
        batch_op.create_unique_constraint('uq_customer_transaction_kind_external_id',
                                          ['kind', 'external_id'])
