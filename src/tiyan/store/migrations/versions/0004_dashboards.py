"""dashboards: score aggregates per day and month, question facts, folded responses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('score_agg',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('top', sa.BigInteger(), nullable=False),
    sa.Column('bottom', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'bucket', 'unit_id', 'survey_id', 'touchpoint_id',
                            'channel', 'item_code', name=op.f('pk_score_agg')),
    sqlite_with_rowid=False,
    )
    op.create_table('score_agg_question',
    sa.Column('survey_version_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=130), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=True),
    sa.Column('top_from', sa.Float(), nullable=True),
    sa.Column('bottom_to', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('survey_version_id', 'question_key',
                            name=op.f('pk_score_agg_question')),
    )
    op.create_table('score_agg_folded',
    sa.Column('response_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('response_id', name=op.f('pk_score_agg_folded')),
    )


def downgrade() -> None:
    op.drop_table('score_agg_folded')
    op.drop_table('score_agg_question')
    op.drop_table('score_agg')
