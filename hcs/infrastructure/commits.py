"""Telling a failed COMMIT apart: the database may or may not have made it durable.

An error before COMMIT was sent means the transaction is gone and nothing was saved; an error
while COMMIT is under way (the connection dropped, the server went away) leaves the outcome
unknown to us. The engine marks the second kind, so the API can say so honestly. A statement
run in autocommit is its own COMMIT: a connection lost while it runs is marked the same way
(`commits_as_it_runs`), while its other errors (a constraint, a cancel) saved nothing.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, ExceptionContext

_COMMITTING = "hcs_committing"
_MARK = "hcs_outcome_unknown"


def _committing(connection: Connection) -> None:
    connection.info[_COMMITTING] = True


def _not_committing(connection: Connection) -> None:
    # An invalidated connection has no DBAPI connection to keep a mark on (asking for its `info`
    # would try to reconnect, which SQLAlchemy refuses until the rollback under way is done).
    if not connection.invalidated:
        connection.info.pop(_COMMITTING, None)


def commits_as_it_runs(connection: Connection) -> None:
    """Statements on `connection` commit as they end (autocommit), until its next transaction
    begins: losing the connection while one runs leaves its outcome unknown. (The mark stays
    after a statement succeeds, as it does after a COMMIT: the next `begin` clears it.)"""
    connection.info[_COMMITTING] = True


def _on_error(context: ExceptionContext) -> None:
    connection = context.connection
    if connection is None or context.sqlalchemy_exception is None:
        return
    try:
        committing = bool(connection.info.pop(_COMMITTING, False))
    except Exception:  # noqa: BLE001 (a connection already gone may refuse even this)
        committing = False
    if committing and (context.statement is None or context.is_disconnect):
        setattr(context.sqlalchemy_exception, _MARK, True)


def watch_commits(engine: Engine) -> None:
    """Mark errors raised during COMMIT on `engine` (see `is_outcome_unknown`)."""
    event.listen(engine, "begin", _not_committing)
    event.listen(engine, "rollback", _not_committing)
    event.listen(engine, "commit", _committing)
    event.listen(engine, "handle_error", _on_error)


def is_outcome_unknown(exc: BaseException) -> bool:
    """Whether `exc` was raised while a COMMIT was under way (saved or not, we cannot tell)."""
    return bool(getattr(exc, _MARK, False))
