"""import progress: the import batch's unit and bytes read, for imports run in the background

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'unit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('bytes_total', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('bytes_read', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_import_batch_unit_id_org_unit'), 'org_unit',
                                    ['unit_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_import_batch_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batch_unit_id'))
        batch_op.drop_constraint(batch_op.f('fk_import_batch_unit_id_org_unit'),
                                 type_='foreignkey')
        batch_op.drop_column('bytes_read')
        batch_op.drop_column('bytes_total')
        batch_op.drop_column('unit_id')
