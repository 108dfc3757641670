"""Is this installation ready to serve: the database answers, its schema is the one this code
was written for, and how far the background work is behind (per lane)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from tiyan.context import Context
from tiyan.errors import TiyanError
from tiyan.services.buckets import Bucket, BucketSettings
from tiyan.services.jobs import LaneBacklog, job_backlog
from tiyan.store.migrate import MIGRATIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    database: bool
    schema_current: str | None
    schema_head: str
    backlog: tuple[LaneBacklog, ...]
    # None: files are kept in the database; else why the S3 bucket is unusable ("" when fine)
    object_store_problem: str | None = None

    @property
    def schema_ok(self) -> bool:
        """At the expected revision, or at a newer one (the upgrade of a running installation:
        the migrations ran and this process waits for its restart; see docs/deploy.md)."""
        return self.schema_current == self.schema_head or self.schema_newer

    @property
    def schema_newer(self) -> bool:
        return self.schema_current is not None and self.schema_current not in known_revisions()

    @property
    def ready(self) -> bool:
        return self.database and self.schema_ok and not self.object_store_problem


def check_readiness(ctx: Context) -> Readiness:
    """Raises nothing: a database that does not answer gives `database=False`."""
    head = expected_revision()
    try:
        with ctx.db.read() as conn:
            current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - whatever the driver raises, the database is not there
        return Readiness(False, None, head, ())
    state = Readiness(True, current, head, ())
    if not state.schema_ok:
        return state
    return replace(state, backlog=tuple(job_backlog(ctx).values()),
                   object_store_problem=_bucket_problem(ctx))


def _bucket_problem(ctx: Context) -> str | None:
    config = BucketSettings.of(ctx.settings)
    if config is None:
        return None
    try:
        Bucket(config).check()
    except TiyanError as exc:
        log.warning("the object store is not usable: %s", exc.message)
        # the reason without the endpoint's address (readiness answers anyone who asks)
        return "the S3 bucket cannot be reached or refuses tiyan's credentials (see the log)"
    return ""


def expected_revision() -> str:
    """The newest migration this code carries."""
    return _revisions()[0]


def known_revisions() -> frozenset[str]:
    return _revisions()[1]


@functools.cache
def _revisions() -> tuple[str, frozenset[str]]:
    """The head and every revision of this code's migrations (read once per process)."""
    scripts = ScriptDirectory(str(MIGRATIONS))
    head = scripts.get_current_head()
    assert head is not None
    return head, frozenset(rev.revision for rev in scripts.walk_revisions())
