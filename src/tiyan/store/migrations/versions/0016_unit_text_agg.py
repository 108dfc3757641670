"""text sums per unit subtree, and the negative quotes read in (score, newest) order

`unit_text_agg` holds the rows of text_agg added up per unit subtree over survey, touchpoint and
channel; a database that already holds results gets it filled from text_agg. The index on
text_aspect (label, score) gains the id, newest first, so the most negative quotes are read in
their final order and the read stops after the first matches.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unit_text_agg',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('bucket', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('aspect_code', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('unit_id', 'grain', 'bucket', 'aspect_code', 'label',
                            name=op.f('pk_unit_text_agg')),
    sqlite_with_rowid=False,
    )
    op.execute(sa.text(
        "WITH RECURSIVE unit_up(unit_id, ancestor_id) AS ("
        " SELECT id, id FROM org_unit"
        " UNION ALL SELECT unit_up.unit_id, o.parent_id FROM unit_up"
        " JOIN org_unit o ON o.id = unit_up.ancestor_id WHERE o.parent_id IS NOT NULL)"
        " INSERT INTO unit_text_agg (unit_id, grain, bucket, aspect_code, label, n, total)"
        " SELECT unit_up.ancestor_id, s.grain, s.bucket, s.aspect_code, s.label, sum(s.n),"
        " sum(s.total) FROM text_agg s JOIN unit_up ON unit_up.unit_id = s.unit_id"
        " GROUP BY unit_up.ancestor_id, s.grain, s.bucket, s.aspect_code, s.label"))
    op.drop_index('ix_text_aspect_label_score', table_name='text_aspect')
    op.create_index('ix_text_aspect_label_score_id', 'text_aspect',
                    ['label', 'score', sa.text('id DESC')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_text_aspect_label_score_id', table_name='text_aspect')
    op.create_index('ix_text_aspect_label_score', 'text_aspect', ['label', 'score'],
                    unique=False)
    op.drop_table('unit_text_agg')
