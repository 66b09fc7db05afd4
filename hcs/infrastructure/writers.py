"""SQLite writers wait in the kernel's queue, not in SQLite's sleeps.

SQLite has one writer at a time. A writer that finds the write lock taken sleeps 1 ms before it
looks again, then 2, 5, 10 ms and so on, while a send holds the lock for a fraction of a
millisecond: two API processes on two cores left one core idle at each collision (8 to 15% of
the machine under load). Each connection here first takes an exclusive `flock` on a file beside
the database; the kernel wakes the next writer the moment the previous one commits or rolls
back. The file only orders writers: SQLite's own lock still guards the data, and a writer that
waited the whole busy timeout for the file goes on to SQLite's lock as before (so a stuck
holder delays others no longer than SQLite would). The kernel drops a killed process's `flock`.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# How long a writer waits, in all, for the file and then again for SQLite's own lock.
BUSY_TIMEOUT_S = 5.0
_FIRST_PAUSE_S, _LONGEST_PAUSE_S = 0.00005, 0.001


class WriterLock:
    """An exclusive `flock` on `path`, taken before a write transaction and dropped after it.

    Each connection holds its own descriptor: the lock then excludes other threads of the same
    process as well as other processes.
    """

    def __init__(self, path: str) -> None:
        self.path, self._fd, self.held = path, -1, False

    def acquire(self) -> None:
        """Take the lock, waiting at most `BUSY_TIMEOUT_S` (then `held` stays False)."""
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline, pause = 0.0, _FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                now = time.monotonic()
                deadline = deadline or now + BUSY_TIMEOUT_S
                if now >= deadline:
                    return
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE_S)
            else:
                self.held = True
                return

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class WritingConnection(sqlite3.Connection):
    """pysqlite's connection, dropping its writer lock whenever a transaction ends."""

    writer: WriterLock | None = None

    def commit(self) -> None:
        with self._ending():
            super().commit()

    def rollback(self) -> None:
        with self._ending():
            super().rollback()

    @contextmanager
    def _ending(self) -> Iterator[None]:
        try:
            yield
        finally:
            if self.writer is not None:
                self.writer.release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.writer is not None:
                self.writer.close()


def lock_path(database: str) -> str:
    """The file beside `database` its writers queue on (next to SQLite's `-wal` and `-shm`)."""
    return database + "-writers"


def attach(dbapi_connection: WritingConnection, database: str) -> None:
    """Give a new connection its own lock on `database`'s writers file."""
    dbapi_connection.writer = WriterLock(lock_path(database))


def begin_writing(dbapi_connection: object, begin: Callable[[], object]) -> None:
    """Run `begin` (SQLite's BEGIN IMMEDIATE) once this connection's turn to write has come."""
    writer = getattr(dbapi_connection, "writer", None)
    if writer is None:
        begin()
        return
    writer.acquire()
    try:
        begin()
    except BaseException:
        writer.release()
        raise
