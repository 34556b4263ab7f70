"""Engine and sessions. One engine per process: a forked Celery child makes its own."""

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY = "kq_readonly"  # execution option of read-only sessions


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in, aware UTC out, also on SQLite (which stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # The driver's own transaction handling is off so that "begin" below decides
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets the API read while workers write; the busy timeout makes writers queue
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # A writer takes the lock up front (IMMEDIATE): a deferred transaction that reads and
        # then writes fails at once with SQLITE_BUSY when another process wrote in between.
        # Readers never write, so they stay deferred and never wait for the workers.
        readonly = connection.get_execution_options().get(READONLY, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


# A pooled connection idle this long is checked (a round trip) before it is handed out
PING_AFTER_IDLE_S = 1.0
# A database host that does not answer at all (a failover, a lost network) fails a connection
# attempt after this, instead of the operating system's minutes: the API answers 503 and a
# task retries, rather than both hanging
CONNECT_TIMEOUT_S = 10


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, but only for connections idle PING_AFTER_IDLE_S or more.
    Under load a connection comes back within milliseconds, and a ping on every checkout would
    add a third to a status poll's round trips; after a pause (or a database restart, which
    takes longer) connections are checked as before, and a dead one is replaced."""

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection, record):
        record.info["kq_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["kq_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("kq_idle_since", 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the driver's error for a closed connection
            # The pool drops this connection and hands out a fresh one
            raise DisconnectionError(f"stale pooled connection: {error}") from error


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url, pool_size=10, max_overflow=20, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )
    _ping_when_idle(engine)
    return engine


_engines: dict[tuple[int, str], Engine] = {}
# The API's first requests arrive together, each on a thread of its own: one engine (one pool)
# per URL, not one each
_making = threading.Lock()


def get_engine(url: str) -> Engine:
    """The engine for ``url`` in this process; a forked child never reuses its parent's."""
    key = (os.getpid(), url)
    if key not in _engines:
        with _making:
            if key not in _engines:
                _engines[key] = make_engine(url)
    return _engines[key]


_factories: dict[tuple[int, str, bool], sessionmaker[Session]] = {}


def session_factory(url: str, *, readonly: bool = False) -> sessionmaker[Session]:
    """Sessions on ``url``; ``readonly`` ones (status polls, lists, reports) never take SQLite's
    write lock, and on PostgreSQL run in autocommit: no BEGIN and ROLLBACK round trips, and the
    same visibility (READ COMMITTED takes a snapshot per statement either way). Made once per
    process: an API request asks for one or two."""
    key = (os.getpid(), url, readonly)
    factory = _factories.get(key)
    if factory is None:
        engine = get_engine(url)
        if readonly:
            options: dict = {READONLY: True}
            if engine.dialect.name == "postgresql":
                options["isolation_level"] = "AUTOCOMMIT"
            engine = engine.execution_options(**options)
        factory = _factories.setdefault(key, sessionmaker(bind=engine, expire_on_commit=False))
    return factory


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on error."""
    with session_factory(url).begin() as session:
        yield session
