"""accounts: API token scopes and expiry; a sign-in limiter shared by all processes

`api_token` gets `scope` (read, write or admin) and `expires_at` (none: never). Tokens made
before this revision could do everything their user may and never expired, so they become
`admin` tokens without an expiry: nothing that works today stops working; `tiyan token list`
shows them for review. `signin_failure` holds one row per failed sign-in, counted per account
and per client address by every process over the same database.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tiyan.store.types

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('expires_at', tiyan.store.types.UtcDateTime(timezone=True),
                                      nullable=True))
    op.execute(sa.text("UPDATE api_token SET scope = 'admin'"))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('scope', existing_type=sa.String(length=16), nullable=False)

    op.create_table('signin_failure',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', tiyan.store.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('account', sa.String(length=320), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_failure'))
    )
    with op.batch_alter_table('signin_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_failure_at'), ['at'], unique=False)
        batch_op.create_index('ix_signin_failure_account_at', ['account', 'at'], unique=False)
        batch_op.create_index('ix_signin_failure_address_at', ['address', 'at'], unique=False)


def downgrade() -> None:
    op.drop_table('signin_failure')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scope')
