"""job lanes, leases and unique keys

Background jobs get a lane (`realtime` or `bulk`: workers claim each lane on its own, so an
import never holds up a detractor's alert), a lease (`lease_until`, renewed by the running
worker's heartbeat; a job whose lease ran out is claimable again, replacing the fixed 10-minute
stale lock) and a unique key (one queued or running row per key: periodic jobs use their kind,
so two processes scheduling them make one row). The index over (status, run_at) becomes one over
(status, lane, run_at), the claim's path.

Backfill: the bulk kinds get lane `bulk`; a running job's lease ends 10 minutes after it was
locked (what the stale lock allowed); the oldest live row of each periodic kind takes the kind as
its key and later duplicates of it end as `done` with a note.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import tiyan.store.types

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

BULK_KINDS = ('feedback.import', 'feedback.uploads_cleanup', 'customers.refresh',
              'retention.apply', 'voc.monthly')
PERIODIC_KINDS = ('feedback.uploads_cleanup', 'customers.refresh', 'retention.apply',
                  'voc.monthly')
OLD_STALE_LOCK = dt.timedelta(minutes=10)


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane', sa.String(16), nullable=False,
                                      server_default='realtime'))
        batch_op.add_column(sa.Column('lease_until', tiyan.store.types.UtcDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('unique_key', sa.String(64), nullable=True))
        batch_op.drop_index('ix_job_status_run_at')
        batch_op.create_index('ix_job_status_lane_run_at', ['status', 'lane', 'run_at'])
    _backfill(op.get_bind())
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ux_job_unique_key', ['unique_key'], unique=True)


def _backfill(conn: sa.Connection) -> None:
    job = sa.table('job', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                   sa.column('status', sa.String), sa.column('lane', sa.String),
                   sa.column('locked_at', tiyan.store.types.UtcDateTime),
                   sa.column('lease_until', tiyan.store.types.UtcDateTime),
                   sa.column('unique_key', sa.String), sa.column('last_error', sa.Text))
    conn.execute(job.update().where(job.c.kind.in_(BULK_KINDS)).values(lane='bulk'))
    running = conn.execute(sa.select(job.c.id, job.c.locked_at)
                           .where(job.c.status == 'running')).all()
    for row in running:
        lease = row.locked_at + OLD_STALE_LOCK if row.locked_at is not None else None
        conn.execute(job.update().where(job.c.id == row.id).values(lease_until=lease))
    for kind in PERIODIC_KINDS:
        live = conn.execute(sa.select(job.c.id).where(
            job.c.kind == kind, job.c.status.in_(('queued', 'running'))).order_by(job.c.id)
        ).scalars().all()
        if live:
            conn.execute(job.update().where(job.c.id == live[0]).values(unique_key=kind))
            conn.execute(job.update().where(job.c.id.in_(live[1:])).values(
                status='done', last_error='a second copy of a periodic job (migration 0023)'))


def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ux_job_unique_key')
        batch_op.drop_index('ix_job_status_lane_run_at')
        batch_op.create_index('ix_job_status_run_at', ['status', 'run_at'])
        batch_op.drop_column('unique_key')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lane')
