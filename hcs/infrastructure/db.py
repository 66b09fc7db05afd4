"""Engines and sessions, usable from Flask, the CLI, workers and tests alike."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from hcs.infrastructure import json_columns, writers
from hcs.infrastructure.commits import commits_as_it_runs, watch_commits


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN: savepoints and locking then behave.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(writers.BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ = "hcs_read"
AUTOCOMMIT = "AUTOCOMMIT"


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front: a transaction that read and then writes can never
    # fail half-way on a snapshot another writer moved (SQLite has one writer at a time anyway).
    # A transaction opened by `begin_read` only reads: a plain BEGIN, a snapshot and no lock.
    # Writers first queue on the database's writers file (`hcs.infrastructure.writers`).
    if connection.get_execution_options().get(READ):
        connection.exec_driver_sql("BEGIN")
    else:
        _begin_immediate(connection)


def _begin_immediate(connection: Connection) -> None:
    """SQLite's write transaction, once this connection's turn to write has come."""
    writers.begin_writing(
        connection.connection.dbapi_connection,
        lambda: connection.exec_driver_sql("BEGIN IMMEDIATE"),
    )


def begin_read(session: Session) -> None:
    """Open the session's next transaction for reading only; `end_read` closes it.

    On SQLite it takes no write lock, so a request's lookups and validation do not keep other
    writers waiting; writing inside it is a mistake (end it first). Elsewhere it changes nothing.
    """
    if not session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={READ: True})


def end_read(session: Session) -> None:
    """Close a transaction `begin_read` opened, so that the next one may write."""
    if session.in_transaction() and session.connection().get_execution_options().get(READ):
        session.commit()


def autocommit_next(session: Session) -> bool:
    """On PostgreSQL, run the session's next transaction in autocommit; whether it will.

    For a request that reads, then writes one statement (a single send): each statement
    commits as it ends, so the request costs the server two round trips instead of four (no
    `BEGIN`, no `COMMIT`; README, "How fast it accepts and sends"). Under READ COMMITTED each
    statement saw a snapshot of its own anyway. `write_next` begins a real transaction when more
    than one statement writes, and marks a lost connection during the one statement as an
    unknown outcome (`hcs.infrastructure.commits`). Not once a transaction is under way, nor on
    SQLite.
    """
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return False
    session.connection(execution_options={"isolation_level": AUTOCOMMIT})
    return True


def write_next(session: Session, *, statements: int = 2) -> Connection:
    """End the read `begin_read` opened and begin the write that follows it at once; the
    session's connection, ready to write `statements` statements (2: several).

    On SQLite the read's snapshot is committed and `BEGIN IMMEDIATE` (after this connection's
    turn to write, `hcs.infrastructure.writers`) starts the write on the same connection, in the
    session's same transaction: nothing goes back to the pool and out again between the two
    (`end_read` and a new transaction cost a send about 5% more). Its commit or rollback is the
    session's. In a transaction `autocommit_next` opened, a write of several statements begins
    a real one (the session's commit ends it), and one statement is its own commit. Elsewhere,
    or with no read open, it changes nothing: the write joins the transaction as it is.
    """
    connection = session.connection()
    options = connection.get_execution_options()
    if options.get(READ):
        connection.exec_driver_sql("COMMIT")
        connection.execution_options(**{READ: False})
        _begin_immediate(connection)
    elif options.get("isolation_level") == AUTOCOMMIT:
        if statements > 1:
            connection.exec_driver_sql("BEGIN")
        else:
            commits_as_it_runs(connection)
    return connection


def _sqlite_engine(url: URL, options: dict[str, Any]) -> Engine:
    database = url.database or ""
    if not database or database == ":memory:":
        # A database of its own on each thread's one connection: no pool to size.
        unpooled = {k: v for k, v in options.items() if k not in ("pool_size", "max_overflow")}
        engine = create_engine(url, **unpooled)
    else:  # a file: its connections queue their writers (`hcs.infrastructure.writers`)
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"factory": writers.WritingConnection, **options.get("connect_args", {})}
        engine = create_engine(url, **{**options, "connect_args": connect_args})

        def attach(dbapi_connection: Any, connection_record: Any) -> None:
            if isinstance(dbapi_connection, writers.WritingConnection):
                writers.attach(dbapi_connection, database)

        event.listen(engine, "connect", attach)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


# A connection the pool handed out moments ago was alive then: the server is asked (a round trip
# of its own, a tenth of a send's on PostgreSQL) only about one that sat in the pool longer, long
# enough for a restart, a failover or a dropped link to have ended it unseen.
PING_AFTER_IDLE_S = 0.5
_RETURNED = "hcs_returned_at"


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, for connections idle past `PING_AFTER_IDLE_S` only.

    A connection that fails the ping is dropped and another one taken (the pool's documented
    `DisconnectionError` protocol), so a request never meets a connection a restart ended
    while it sat in the pool.
    """

    def returned(dbapi_connection: Any, connection_record: Any, *_: Any) -> None:
        connection_record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi_connection: Any, connection_record: Any, proxy: Any) -> None:
        if time.monotonic() - connection_record.info[_RETURNED] < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the connection failed its ping") from exc

    event.listen(engine, "connect", returned)
    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checkout)


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`: SQLite with WAL and foreign keys on, PostgreSQL through psycopg 3."""
    options.setdefault("json_deserializer", json_columns.loads)
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, options)
    else:
        engine = create_engine(parsed, **options)
        _ping_when_idle(engine)
    watch_commits(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to `engine`; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with factory() as session, session.begin():
        yield session


# SQLSTATE of a transaction PostgreSQL rolled back to break a conflict: serialization failure,
# deadlock. Running the whole transaction again is the documented remedy.
RETRYABLE = frozenset({"40001", "40P01"})
T = TypeVar("T")


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of a database error (psycopg's), or "" when it carries none."""
    return str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")


def is_conflict(exc: BaseException) -> bool:
    """Whether the database rolled the transaction back for a conflict worth running again."""
    return isinstance(exc, DBAPIError) and sqlstate(exc) in RETRYABLE


def committed_with_retries(session: Session, work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run `work` and commit; run both again after a deadlock or serialization failure.

    At most `attempts` times, with a short random pause between tries; the last conflict is
    raised (its transaction rolled back, nothing of it saved).
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if attempt == attempts or not is_conflict(exc):
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
