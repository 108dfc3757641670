"""stored objects: files in the database instead of one host's folders

Uploaded import files, case attachments and trained churn models were files on the disk of the
process that wrote them (the system's temporary folder, TIYAN_DATA_DIR), and a job carried their
path: a worker on another host (or in another container, or under systemd's PrivateTmp) could
not read them. They are now rows every process reads: `stored_object` (key, size, expiry) and
its chunks of at most 1 MiB in `stored_object_chunk`.

Files written before are adopted where this migration runs: a case attachment found under
TIYAN_FILES_DIR (or TIYAN_DATA_DIR/files)/cases/<case>/<file> and the current churn model at the
path the database recorded are copied in. One that is not found on this host stays missing
(its download answers 404; a missing model says to train again).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

CHUNK = 1 << 20


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    op.create_table(
        'stored_object',
        sa.Column('id', big_id, nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('size', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('chunks', sa.Integer(), server_default='0', nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_object')),
        sa.UniqueConstraint('key', name=op.f('uq_stored_object_key')),
    )
    op.create_index(op.f('ix_stored_object_expires_at'), 'stored_object', ['expires_at'])
    op.create_table(
        'stored_object_chunk',
        sa.Column('object_id', big_id, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['object_id'], ['stored_object.id'], ondelete='CASCADE',
                                name=op.f('fk_stored_object_chunk_object_id_stored_object')),
        sa.PrimaryKeyConstraint('object_id', 'seq', name=op.f('pk_stored_object_chunk')),
    )
    _adopt_files()


def downgrade() -> None:
    op.drop_table('stored_object_chunk')
    op.drop_index(op.f('ix_stored_object_expires_at'), table_name='stored_object')
    op.drop_table('stored_object')


def _adopt_files() -> None:
    """Copy the attachments and the current churn model this host has into the new tables."""
    from tiyan.settings import load_settings
    from tiyan.store.types import Json

    settings = load_settings()
    conn = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    cases = settings.files_path().expanduser().resolve() / "cases"
    events = conn.execute(sa.text(
        "SELECT c.public_id, e.detail FROM case_event e JOIN cx_case c ON c.id = e.case_id "
        "WHERE e.kind = 'attachment'")).all()
    for public_id, detail in events:
        detail = _json(detail)
        file_id = str(detail.get("file_id") or "")
        if not file_id or detail.get("erased") or "/" in file_id or ".." in file_id:
            continue
        path = cases / str(public_id) / file_id
        if path.is_file():
            _copy(conn, f"cases/{public_id}/{file_id}", path, now)
    setting = sa.table("app_setting", sa.column("key", sa.String), sa.column("value", Json))
    value = conn.execute(sa.select(setting.c.value)
                         .where(setting.c.key == "churn_model")).scalar()
    info = _json(value)
    path = Path(str(info.get("path") or "."))
    if info.get("version") and path.is_file():
        key = f"models/churn/{info['version']}.joblib"
        _copy(conn, key, path, now)
        conn.execute(setting.update().where(setting.c.key == "churn_model")
                     .values(value={**info, "object": key}))


def _json(value: object) -> dict:  # type: ignore[type-arg]
    import json

    if isinstance(value, str):
        value = json.loads(value)
    return dict(value) if isinstance(value, dict) else {}


def _copy(conn: sa.Connection, key: str, path: Path, now: dt.datetime) -> None:
    from tiyan.store.types import UtcDateTime

    big_id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    objects = sa.table("stored_object", sa.column("id", big_id), sa.column("key", sa.String),
                       sa.column("size", sa.BigInteger), sa.column("chunks", sa.Integer),
                       sa.column("created_at", UtcDateTime))
    chunks = sa.table("stored_object_chunk", sa.column("object_id", big_id),
                      sa.column("seq", sa.Integer), sa.column("data", sa.LargeBinary))
    object_id = conn.execute(objects.insert().values(key=key, size=0, chunks=0, created_at=now)
                             .returning(objects.c.id)).scalar_one()
    size = seq = 0
    with path.open("rb") as source:
        while data := source.read(CHUNK):
            conn.execute(chunks.insert().values(object_id=object_id, seq=seq, data=data))
            size, seq = size + len(data), seq + 1
    conn.execute(objects.update().where(objects.c.id == object_id)
                 .values(size=size, chunks=seq))
