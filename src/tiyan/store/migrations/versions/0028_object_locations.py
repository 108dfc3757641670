"""stored objects may live in an S3-compatible bucket

`stored_object.location` names the bucket object holding a file's bytes (None: the bytes are the
file's chunks in the database, as before). `stored_object_gone` lists bucket objects that no row
points at any more, removed from the bucket once that is committed. Existing files stay in the
database and stay readable whichever store new files go to (`tiyan storage move` moves them).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stored_object') as batch:
        batch.add_column(sa.Column('location', sa.String(length=600), nullable=True))
    big_id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    op.create_table(
        'stored_object_gone',
        sa.Column('id', big_id, nullable=False),
        sa.Column('location', sa.String(length=600), nullable=False),
        sa.Column('gone_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_object_gone')),
    )


def downgrade() -> None:
    op.drop_table('stored_object_gone')
    with op.batch_alter_table('stored_object') as batch:
        batch.drop_column('location')
