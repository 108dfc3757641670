"""one survey session per invitation: the invitation_id index becomes unique

Two first opens of one invitation at the same moment could each insert a session; the unique
index makes the second insert fail, and the code then reads the first one. Sessions already
duplicated keep the oldest (the one every lookup returned) unless a later one holds the response.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text(
        "DELETE FROM survey_session WHERE invitation_id IS NOT NULL AND response_id IS NULL "
        "AND id > (SELECT MIN(s2.id) FROM survey_session s2 "
        "WHERE s2.invitation_id = survey_session.invitation_id)"))
    op.execute(sa.text(
        "DELETE FROM survey_session WHERE invitation_id IS NOT NULL AND id < (SELECT MAX(s2.id) "
        "FROM survey_session s2 WHERE s2.invitation_id = survey_session.invitation_id)"))
    with op.batch_alter_table('survey_session', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_session_invitation_id')
        batch_op.create_index('ix_survey_session_invitation_id', ['invitation_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('survey_session', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_session_invitation_id')
        batch_op.create_index('ix_survey_session_invitation_id', ['invitation_id'], unique=False)
