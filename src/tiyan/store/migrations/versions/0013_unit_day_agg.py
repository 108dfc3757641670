"""unit day sums: the day rows of score_agg per unit subtree, for the day and week trends

A database whose responses were already folded gets the table filled from the day rows of
score_agg (which hold exactly the folded responses), each added to its unit and every unit above.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unit_day_agg',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('top', sa.BigInteger(), nullable=False),
    sa.Column('bottom', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', 'bucket', 'item_code', name=op.f('pk_unit_day_agg')),
    sqlite_with_rowid=False,
    )
    op.execute(sa.text(
        "WITH RECURSIVE unit_up(unit_id, ancestor_id) AS ("
        " SELECT id, id FROM org_unit"
        " UNION ALL SELECT unit_up.unit_id, o.parent_id FROM unit_up"
        " JOIN org_unit o ON o.id = unit_up.ancestor_id WHERE o.parent_id IS NOT NULL)"
        " INSERT INTO unit_day_agg (unit_id, bucket, item_code, n, total, total_sq, top, bottom)"
        " SELECT unit_up.ancestor_id, s.bucket, s.item_code, sum(s.n), sum(s.total),"
        " sum(s.total_sq), sum(s.top), sum(s.bottom)"
        " FROM score_agg s JOIN unit_up ON unit_up.unit_id = s.unit_id"
        " WHERE s.grain = 'd' GROUP BY unit_up.ancestor_id, s.bucket, s.item_code"))


def downgrade() -> None:
    op.drop_table('unit_day_agg')
