"""Schema migrations with Alembic, run from code so the CLI needs no alembic.ini."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tiyan.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    ahead: bool


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["database"] = db
    return cfg


def schema_status(db: Database) -> SchemaStatus:
    scripts = ScriptDirectory.from_config(alembic_config(db))
    head = scripts.get_current_head()
    assert head is not None
    with db.read() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    known = {rev.revision for rev in scripts.walk_revisions()}
    return SchemaStatus(current, head, current is not None and current not in known)


def upgrade(db: Database, revision: str = "head") -> SchemaStatus:
    status = schema_status(db)
    if status.ahead:
        db.check_schema()
    if status.current != status.head:
        log.info("migrating the database schema", extra={"from_revision": status.current,
                                                         "to_revision": status.head})
    command.upgrade(alembic_config(db), revision)
    done = schema_status(db)
    if done.current != status.current:
        log.info("database schema migrated", extra={"revision": done.current})
    return done
