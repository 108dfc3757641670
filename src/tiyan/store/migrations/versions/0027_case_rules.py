"""case rules: every alert rule a case's response matched

A response that meets several rules opens one case; `case_rule` lists each of those rules (in
the order they were evaluated), so the case page, the inbox's rule filter and the deletion of a
rule see all of them. Existing cases get their one rule.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        'case_rule',
        sa.Column('case_id', ID, nullable=False),
        sa.Column('rule_id', ID, nullable=False),
        sa.Column('position', sa.Integer, server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cx_case.id'], ondelete='CASCADE',
                                name=op.f('fk_case_rule_case_id_cx_case')),
        sa.ForeignKeyConstraint(['rule_id'], ['alert_rule.id'],
                                name=op.f('fk_case_rule_rule_id_alert_rule')),
        sa.PrimaryKeyConstraint('case_id', 'rule_id', name=op.f('pk_case_rule')),
    )
    op.create_index(op.f('ix_case_rule_rule_id'), 'case_rule', ['rule_id'])
    op.execute("INSERT INTO case_rule (case_id, rule_id, position) "
               "SELECT id, rule_id, 0 FROM cx_case WHERE rule_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f('ix_case_rule_rule_id'), table_name='case_rule')
    op.drop_table('case_rule')
