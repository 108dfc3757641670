"""link guard: per-link limits of anonymous links and flagged responses

`survey_link_policy` holds a link's limits (completed responses per device and window, a burst
limit per link); `link_submission` one row per response through an anonymous link with its
device id, a keyed hash of network and user agent, and a digest of the answers; a response
that looked like ballot stuffing is stored with status "flagged" and its `flag_reasons`.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tiyan.store.types import UtcDateTime

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column('id', sa.BigInteger().with_variant(sa.Integer, 'sqlite'), primary_key=True)


def _ref() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer, 'sqlite')


def upgrade() -> None:
    op.create_table(
        'survey_link_policy', _id(),
        sa.Column('link_key', sa.String(64), nullable=False),
        sa.Column('survey_id', _ref(), sa.ForeignKey('survey.id', ondelete='CASCADE',
                                                     name='fk_survey_link_policy_survey_id_survey'),
                  nullable=False),
        sa.Column('unit_id', _ref(), sa.ForeignKey('org_unit.id',
                                                   name='fk_survey_link_policy_unit_id_org_unit'),
                  nullable=False),
        sa.Column('device_limit', sa.Integer, nullable=False),
        sa.Column('device_window_hours', sa.Integer, nullable=False),
        sa.Column('burst_limit', sa.Integer, nullable=False),
        sa.Column('burst_window_minutes', sa.Integer, nullable=False),
        sa.Column('updated_at', UtcDateTime, nullable=False),
        sa.Column('updated_by', _ref(), sa.ForeignKey('app_user.id', ondelete='SET NULL',
                                                      name='fk_survey_link_policy_updated_by_app_user'),
                  nullable=True),
        sa.UniqueConstraint('link_key', name='uq_survey_link_policy_link_key'),
    )
    op.create_index('ix_survey_link_policy_survey_id', 'survey_link_policy', ['survey_id'])
    op.create_table(
        'link_submission', _id(),
        sa.Column('link_key', sa.String(64), nullable=False),
        sa.Column('response_id', _ref(), sa.ForeignKey('response.id', ondelete='CASCADE',
                                                       name='fk_link_submission_response_id_response'),
                  nullable=False),
        sa.Column('device_id', sa.String(32), nullable=True),
        sa.Column('fingerprint', sa.String(64), nullable=False),
        sa.Column('answers_digest', sa.String(64), nullable=False),
        sa.Column('submitted_at', UtcDateTime, nullable=False),
        sa.UniqueConstraint('response_id', name='uq_link_submission_response_id'),
    )
    op.create_index('ix_link_submission_link_submitted', 'link_submission',
                    ['link_key', 'submitted_at'])
    with op.batch_alter_table('response') as batch:
        batch.add_column(sa.Column('flag_reasons', sa.String(64), nullable=True))
        batch.add_column(sa.Column('flag_changed_at', UtcDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('response') as batch:
        batch.drop_column('flag_changed_at')
        batch.drop_column('flag_reasons')
    op.drop_index('ix_link_submission_link_submitted', table_name='link_submission')
    op.drop_table('link_submission')
    op.drop_index('ix_survey_link_policy_survey_id', table_name='survey_link_policy')
    op.drop_table('survey_link_policy')
