"""a job's failure reason keeps its message key and values

`job.last_error` stays the English text (logs, the command line); `last_error_key` and
`last_error_params` let the jobs page and API say the reason in the reader's language (None for
reasons that are not tiyan's messages, e.g. an unexpected exception, and for older rows).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiyan.store.types import Json

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job') as batch:
        batch.add_column(sa.Column('last_error_key', sa.String(length=120), nullable=True))
        batch.add_column(sa.Column('last_error_params', Json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job') as batch:
        batch.drop_column('last_error_params')
        batch.drop_column('last_error_key')
