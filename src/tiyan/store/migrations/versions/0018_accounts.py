"""accounts: API token names, scopes and expiry; user deactivation; a shared sign-in limiter

(filled in by the accounts work; empty until then)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
