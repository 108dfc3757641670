"""scope: per-unit feedback de-duplication and other scope fixes

(filled in by the scope work if it needs a schema change; empty until then)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
