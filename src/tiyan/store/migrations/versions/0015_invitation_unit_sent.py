"""invitations by unit and send time

The index on `invitation (unit_id)` becomes one on `(unit_id, sent_at, completed_at)`: the
dashboards' response rate counts, per unit of the user's scope, the invitations sent in a date
range and those of them completed, and with this index that count is a range read of the index
alone instead of reading every invitation of the unit. The new index answers everything the old
one did.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_unit_sent', ['unit_id', 'sent_at', 'completed_at'],
                              unique=False)
        batch_op.drop_index('ix_invitation_unit_id')


def downgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_unit_id', ['unit_id'], unique=False)
        batch_op.drop_index('ix_invitation_unit_sent')
