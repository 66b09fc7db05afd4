"""The session a worker's rounds run on: transactions one after another, one connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from hcs.infrastructure.db import begin_read


class SharedSession:
    """Transactions one after another on one session: a batch's, or a Celery process's.

    What a sendable version holds never changes (the flush guard refuses it), so the version,
    its template and its pinned closure are read once and stay in the session between
    transactions. Everything that can change under a worker (entries, messages, a version's
    status or suspension, a template's retirement) is read fresh in every round, and a round's
    write checks again that its messages did not change.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.session = sessions()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.session.begin():
            yield self.session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite a snapshot, with the write lock left free."""
        begin_read(self.session)
        try:
            yield self.session
        except BaseException:
            self.session.rollback()
            raise
        self.session.commit()

    def close(self) -> None:
        self.session.close()
