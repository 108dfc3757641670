"""Database connections: SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL mode and one writer per process (a lock around write transactions);
PostgreSQL gets a connection pool (behind PgBouncer in transaction mode: without prepared
statements). `Database.check_schema()` refuses a database that is behind or ahead of this version
of tiyan, with a message that says what to do.

Inside a web request (`request_work()`, opened by tiyan.web.transactions) every `write()` block
is a savepoint of one transaction that the request opens at its first write: it commits when the
request succeeds and rolls back, with everything the request wrote, when it fails. A `read()`
after the request's first write reads through that transaction, so it sees what the request wrote.

With a read URL (a streaming replica), a `read()` of a web request that may read there
(`RequestWork.may_use_replica`: a GET or HEAD from a client that has not written in the last
seconds, decided by tiyan.web.transactions) runs on the replica; every other read (jobs, the
CLI, requests that write, a client that just wrote) runs on the primary. See docs/database.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from tiyan.errors import DatabaseError

SUPPORTED = ("sqlite", "postgresql")
PGBOUNCER_OPTION = "pgbouncer"  # `?pgbouncer=true` on a URL: the same as TIYAN_DB_PGBOUNCER
log = logging.getLogger(__name__)


class Database:
    def __init__(self, url: str, *, echo: bool = False, pgbouncer: bool = False,
                 read_url: str | None = None, pool_size: int = 10,
                 max_overflow: int = 10) -> None:
        self.url = url
        pool = {"pool_size": pool_size, "max_overflow": max_overflow}
        self.engine = create_engine(url, echo=echo, pgbouncer=pgbouncer, **pool)
        self.dialect = self.engine.dialect.name
        # the streaming replica that read-only web requests read from (None: all on the primary)
        self.read_engine: Engine | None = None
        if read_url:
            self.read_engine = create_engine(read_url, echo=echo, pgbouncer=pgbouncer, **pool)
            if self.read_engine.dialect.name != self.dialect:
                raise DatabaseError("database.read_url_must_name", where="TIYAN_DB_READ_URL")
        self._write_lock = WriterLock()
        # Lookups of immutable rows (published survey versions), kept for this process.
        self.immutable_cache: dict[object, object] = {}

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        work = _request_work.get()
        if work is not None and work.holds(self):
            yield work.connection(self)
            return
        if self.read_engine is not None and work is not None and work.may_use_replica \
                and not work.wrote:
            replica = self._replica_connection()
            if replica is not None:
                with replica:
                    yield replica
                return
        with self.engine.connect() as conn:
            yield conn

    def _replica_connection(self) -> Connection | None:
        """A connection to the replica, or None when it does not answer (nor is asked again
        for `REPLICA_RETRY_S` seconds): the reads go to the primary, which has it all."""
        assert self.read_engine is not None
        if time.monotonic() < self._replica_down_until:
            return None
        try:
            return self.read_engine.connect()
        except OperationalError as exc:
            self._replica_down_until = time.monotonic() + REPLICA_RETRY_S
            log.warning("the read replica does not answer; reading from the primary for %s s: "
                        "%s", REPLICA_RETRY_S, str(exc.orig or exc).strip().splitlines()[0])
            return None

    _replica_down_until = 0.0

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits on success and rolls back on any error (inside a web
        request: a savepoint of the request's transaction, see `request_work`)."""
        work = _request_work.get()
        if work is not None:
            work.refuse_on_event_loop()
        if work is not None and work.accepts(self):
            work.wrote = True
            conn = work.connection(self)
            with conn.begin_nested():
                yield conn
            return
        owner = threading.get_ident()
        if self.is_sqlite:
            self._write_lock.acquire(owner, yielding=_yielding_writes.get())
        try:
            with self.engine.begin() as conn:
                yield conn
        finally:
            if self.is_sqlite:
                self._write_lock.release(owner)

    @contextmanager
    def write_unflushed(self) -> Iterator[Connection]:
        """`write()` for bookkeeping that a crash of the database server may undo without
        harm (a job's claim, its end, a lease): on PostgreSQL its commit does not wait for the
        write-ahead log to reach the disk (`synchronous_commit` off for this transaction, about
        5 ms saved per commit here). The log keeps its order, so such a commit is lost only
        together with every later one; and any later ordinary commit flushes it. Inside a
        web request's transaction it is an ordinary savepoint."""
        with self.write() as conn:
            if not self.is_sqlite and not conn.in_nested_transaction():
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield conn

    @contextmanager
    def write_apart(self) -> Iterator[Connection]:
        """A transaction of its own, committed when the block ends even inside a web request
        that fails later: for what must outlive the request (a key made on first use and
        cached). On SQLite, once the request has written, the block joins the request's
        transaction instead (a second writer would wait for the first)."""
        work = _request_work.get()
        if work is not None:
            work.refuse_on_event_loop()
            # what is written apart is read back on the primary (the replica may not have it)
            work.may_use_replica = False
        if work is not None and work.holds(self) and self.is_sqlite:
            with self.write() as conn:
                yield conn
            return
        token = _request_work.set(None)
        try:
            with self.write() as conn:
                yield conn
        finally:
            _request_work.reset(token)

    def check_schema(self) -> None:
        from tiyan.store.migrate import schema_status

        status = schema_status(self)
        if status.ahead:
            raise DatabaseError(
                "database.database_schema_revision_which", current=status.current, head=status.head,
                where=self.safe_url,
            )
        if status.current is None:
            raise DatabaseError("database.database_no_tiyan_schema",
                                where=self.safe_url)
        if status.current != status.head:
            raise DatabaseError(
                "database.database_schema_revision_but", current=status.current, head=status.head,
                where=self.safe_url,
            )

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not None:
            self.read_engine.dispose()


# A replica that did not answer is left alone for this long (its reads go to the primary).
REPLICA_RETRY_S = 30.0


# Set while this context writes on behalf of bulk work (a background import and its follow-ups):
# its SQLite write transactions then let every other waiting writer go first (see WriterLock).
_yielding_writes: ContextVar[bool] = ContextVar("tiyan_yielding_writes", default=False)


@contextmanager
def yielding_writes() -> Iterator[None]:
    """Write transactions opened in this block wait, on SQLite, until no other writer of this
    process waits (a web request's or a real-time job's write goes first)."""
    token = _yielding_writes.set(True)
    try:
        yield
    finally:
        _yielding_writes.reset(token)


class WriterLock:
    """SQLite's one writer per process. Reentrant for its owner: a thread, or a web request's
    transaction, which is opened in one worker thread and may end in another.

    A yielding owner (bulk work, `yielding_writes`) takes the lock only when no other owner
    waits for it: a real-time write waits for at most the one bulk transaction under way, never
    behind a queue of them. (Python's lock hand-over is not fair either: a thread that releases
    and re-acquires at once would otherwise often win again.)"""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: object = None
        self._depth = 0
        self._urgent = 0  # owners waiting that do not yield

    def acquire(self, owner: object, *, yielding: bool = False) -> None:
        with self._cond:
            if self._depth and self._owner == owner:
                self._depth += 1
                return
            if yielding:
                while self._depth or self._urgent:
                    self._cond.wait()
            else:
                self._urgent += 1
                try:
                    while self._depth:
                        self._cond.wait()
                finally:
                    self._urgent -= 1
            self._owner, self._depth = owner, 1

    def release(self, owner: object) -> None:
        with self._cond:
            if self._owner != owner or not self._depth:
                raise RuntimeError("the writer lock is not held by this owner")
            self._depth -= 1
            if not self._depth:
                self._owner = None
                self._cond.notify_all()


class RequestWork:
    """The writes of one web request: one transaction, opened at the request's first write,
    committed by `finish()` unless the request failed (`fail()`), else rolled back."""

    def __init__(self, loop_thread: int | None = None) -> None:
        self.failed = False
        self.done = False
        self.loop_thread = loop_thread  # the event loop's thread, for a web request
        # reads may go to the read replica (a read-only request of a client that has not just
        # written); `wrote`: the request has written (its later reads stay on the primary)
        self.may_use_replica = False
        self.wrote = False
        self._db: Database | None = None
        self._conn: Connection | None = None

    @property
    def open(self) -> bool:
        """A transaction was begun and is not ended yet (so `finish()` has work to do)."""
        return not self.done and self._conn is not None

    def refuse_on_event_loop(self) -> None:
        """A request's writes never run on the event loop's thread. The request keeps its
        transaction (and on SQLite the writer lock) until its answer starts, which the loop
        sends: a second request writing on the loop would wait for the first while stopping
        it, forever. Handlers that write are plain functions (FastAPI runs them in its thread
        pool); async code reads its body in a dependency (tiyan.web.bodies)."""
        if self.loop_thread is not None and threading.get_ident() == self.loop_thread:
            raise RuntimeError("a web request wrote to the database on the event loop's "
                               "thread; run it in a worker thread")

    def accepts(self, db: Database) -> bool:
        return not self.done and (self._db is None or self._db is db)

    def holds(self, db: Database) -> bool:
        return not self.done and self._db is db and self._conn is not None

    def connection(self, db: Database) -> Connection:
        if self._conn is None:
            if db.is_sqlite:
                db._write_lock.acquire(self)
            try:
                conn = db.engine.connect()
                conn.begin()
                if db.is_sqlite:  # the driver would begin only at the first INSERT/UPDATE, so
                    conn.exec_driver_sql("BEGIN")  # a first SAVEPOINT's release would commit
            except BaseException:
                if db.is_sqlite:
                    db._write_lock.release(self)
                raise
            self._db, self._conn = db, conn
        return self._conn

    def fail(self) -> None:
        self.failed = True

    def finish(self) -> None:
        """Commit (or roll back a failed request) and give the connection back; idempotent."""
        if self.done:
            return
        self.done = True
        db, conn = self._db, self._conn
        if db is None or conn is None:
            return
        try:
            if self.failed:
                conn.rollback()
            else:
                conn.commit()
        finally:
            conn.close()
            if db.is_sqlite:
                db._write_lock.release(self)


_request_work: ContextVar[RequestWork | None] = ContextVar("tiyan_request_work", default=None)


def enter_request_work(*, on_event_loop: bool = False,
                       ) -> tuple[RequestWork, Token[RequestWork | None]]:
    """Make every `Database.write()` from here on, in this context, part of one transaction
    (ended by `RequestWork.finish()` and `leave_request_work(token)`). A web request's work is
    entered on the event loop (`on_event_loop`), whose thread may then not write."""
    work = RequestWork(threading.get_ident() if on_event_loop else None)
    return work, _request_work.set(work)


def leave_request_work(token: Token[RequestWork | None]) -> None:
    _request_work.reset(token)


def fail_request() -> None:
    """The current web request has failed: roll back what it wrote (no-op outside requests)."""
    work = _request_work.get()
    if work is not None:
        work.fail()


@contextmanager
def committed_now(db: Database) -> Iterator[Connection]:
    """A write of its own, committed when the block ends even inside a web request that fails
    later (a failed password check counts though its request answers 401). It must come before
    the request's own first write to `db` (after it, on SQLite, `write_apart` would join the
    request's transaction, which a failed request rolls back): it refuses then."""
    outer = _request_work.get()
    if outer is not None and outer.holds(db):
        raise RuntimeError("committed_now() after the request's first write to this database")
    with db.write_apart() as conn:
        yield conn


def database_answers(db: Database) -> None:
    """Raise unless the database answers a query on tiyan's schema (a health check: a lost
    server, a wrong password, or a SQLite file that is gone all raise)."""
    with db.read() as conn:
        conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just wrote."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the statement did not insert a row")
    return int(key[0])


def create_engine(url: str, *, echo: bool = False, pgbouncer: bool = False,
                  pool_size: int = 10, max_overflow: int = 10) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            "database.not_database_url_expected", url=url,
            where="--db",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise DatabaseError(
            "database.database_not_supported_sqlite", backend=backend, where="--db"
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if PGBOUNCER_OPTION in parsed.query:
        pgbouncer = pgbouncer or _truthy(parsed.query[PGBOUNCER_OPTION], parsed)
        parsed = parsed.difference_update_query([PGBOUNCER_OPTION])
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed, echo)
        return _postgres_engine(parsed, echo, pgbouncer=pgbouncer, pool_size=pool_size,
                                max_overflow=max_overflow)
    except NoSuchModuleError as exc:
        raise DatabaseError("database.no_driver", drivername=parsed.drivername, exc=exc,
                            where="--db") from exc


# A pooled PostgreSQL connection idle for longer than this is pinged before use (a restarted
# server or a dropped connection is then replaced unnoticed); one back in use sooner is not,
# which spares a round trip per transaction on a busy write path.
PING_AFTER_IDLE_S = 1.0


def _truthy(value: str | tuple[str, ...], parsed: sa.URL) -> bool:
    text = (value[-1] if isinstance(value, tuple) else value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise DatabaseError("database.url_must_true_false", pgbouncer_option=PGBOUNCER_OPTION,
                        text=text,
                        where=parsed.render_as_string(hide_password=True))


def _postgres_engine(parsed: sa.URL, echo: bool, *, pgbouncer: bool, pool_size: int,
                     max_overflow: int) -> Engine:
    # PgBouncer in transaction mode hands each transaction to any server connection, where a
    # statement that psycopg prepared on another one is missing (or, named alike, already
    # there: DuplicatePreparedStatement): prepare_threshold=None never prepares.
    connect_args: dict[str, Any] = {"prepare_threshold": None} if pgbouncer else {}
    engine = sa.create_engine(parsed, echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                              connect_args=connect_args)
    dialect = engine.dialect

    def checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure: the pool takes a fresh one
            raise sa.exc.DisconnectionError(f"pooled connection is gone: {exc}") from exc

    sa.event.listen(engine.pool, "checkin", checkin)
    sa.event.listen(engine.pool, "checkout", checkout)
    return engine


def _sqlite_engine(parsed: sa.URL, echo: bool) -> Engine:
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise DatabaseError("database.folder_does_not_exist", folder=folder, where="--db")
    engine = sa.create_engine(parsed, echo=echo, connect_args={"check_same_thread": False})
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def connect_or_explain(url: str, *, pgbouncer: bool = False, read_url: str | None = None,
                       pool_size: int = 10, max_overflow: int = 10) -> Database:
    """Open a database and prove it answers, translating driver errors into one clear message."""
    db = Database(url, pgbouncer=pgbouncer, read_url=read_url, pool_size=pool_size,
                  max_overflow=max_overflow)
    try:
        with db.read() as conn:
            conn.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        db.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError("database.cannot_connect", reason=reason, where=db.safe_url) from exc
    return db
