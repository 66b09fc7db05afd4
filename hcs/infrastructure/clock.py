"""The database's clock: leases and their expiry are read from it, never from a worker's host.

Hosts' clocks drift apart; the database is the one clock every worker shares, so a lease taken
on one host and checked on another means the same moment to both.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, DateTime, func, select
from sqlalchemy.orm import Session

# `clock_timestamp()`, not `now()`: the time of the statement, not of the transaction's start.
_POSTGRES_NOW = select(func.clock_timestamp())
_SQLITE_NOW = select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))


def db_now(session: Session) -> datetime:
    """The database's current time, aware and in UTC."""
    if session.get_bind().dialect.name == "postgresql":
        moment = session.scalar(_POSTGRES_NOW)
        assert isinstance(moment, datetime)
        return moment.astimezone(UTC)
    text = session.scalar(_SQLITE_NOW)
    return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


# The start of the statement that reads it: one time for every row the statement touches.
_POSTGRES_STATEMENT_TIME = func.statement_timestamp(type_=DateTime(timezone=True))


def db_clock(session: Session) -> datetime | ColumnElement[datetime]:
    """The database's current time for one statement to use: on PostgreSQL the statement's own
    start time, read by the statement itself (no round trip of its own, which costs a busy
    worker more than the statement); elsewhere read first (`db_now`, in process on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return _POSTGRES_STATEMENT_TIME
    return db_now(session)
