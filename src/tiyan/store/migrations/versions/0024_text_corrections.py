"""text corrections: people's corrections of the text analysis, and adaptations fitted on them

`text_correction` holds one correction per (response, question, aspect): the comment's own
sentiment under aspect "", an aspect's sentiment, or an aspect that is not talked about (label
NULL). Re-analysis lays them over the models' reading, so they are never overwritten.
`text_adaptation` holds each adaptation fitted on the corrections (`tiyan text adapt`), so one
can be rolled back to the one before.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiyan.store.types import Json, UtcDateTime

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        'text_correction',
        sa.Column('id', ID, nullable=False),
        sa.Column('response_id', ID, nullable=False),
        sa.Column('question_key', sa.String(130), nullable=False),
        sa.Column('aspect_code', sa.String(64), nullable=False),
        sa.Column('label', sa.String(16)),
        sa.Column('evidence', sa.Text),
        sa.Column('model_label', sa.String(16)),
        sa.Column('text', sa.Text, nullable=False),
        sa.Column('language', sa.String(8), nullable=False),
        sa.Column('industry', sa.String(32)),
        sa.Column('user_id', ID),
        sa.Column('corrected_at', UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_text_correction')),
        sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE',
                                name=op.f('fk_text_correction_response_id_response')),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='SET NULL',
                                name=op.f('fk_text_correction_user_id_app_user')),
        sa.UniqueConstraint('response_id', 'question_key', 'aspect_code',
                            name=op.f('uq_text_correction_response_id_question_key_aspect_code')),
    )
    op.create_table(
        'text_adaptation',
        sa.Column('id', ID, nullable=False),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.Column('created_by', ID),
        sa.Column('corrections', sa.Integer, nullable=False),
        sa.Column('model', sa.LargeBinary, nullable=False),
        sa.Column('summary', Json, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_text_adaptation')),
        sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], ondelete='SET NULL',
                                name=op.f('fk_text_adaptation_created_by_app_user')),
    )


def downgrade() -> None:
    op.drop_table('text_adaptation')
    op.drop_table('text_correction')
