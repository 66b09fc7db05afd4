"""SQLite writers queue on a file beside the database: each gets its turn the moment the
previous writer commits, rolls back, closes or dies, and a stuck holder delays no one for longer
than SQLite's own busy timeout would."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from hcs.infrastructure import writers
from hcs.infrastructure.db import READ, make_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path: Path) -> str:
    return str(tmp_path / "hcs.db")


@pytest.fixture
def engines(database: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one file, as two API processes have."""
    first, second = make_engine(f"sqlite:///{database}"), make_engine(f"sqlite:///{database}")
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE sends (id INTEGER PRIMARY KEY, who TEXT)"))
    yield first, second
    first.dispose()
    second.dispose()


def _write(engine: Engine, who: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO sends (who) VALUES (:who)"), {"who": who})


def _saved(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT who FROM sends ORDER BY id")))


def _turn_is_free(database: str) -> bool:
    """Whether another writer could take the turn right now."""
    fd = os.open(writers.lock_path(database), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops a lock taken on it
    return True


def test_a_writer_waits_for_the_one_before_it_and_both_are_saved(
    engines: tuple[Engine, Engine], database: str
) -> None:
    first, second = engines
    done = threading.Event()
    with first.begin() as connection:
        connection.execute(text("INSERT INTO sends (who) VALUES ('first')"))
        assert not _turn_is_free(database)
        waiting = threading.Thread(target=lambda: (_write(second, "second"), done.set()))
        waiting.start()
        assert not done.wait(0.3), "the second writer went ahead of an open write"
    waiting.join(5)
    assert done.is_set()
    assert _saved(first) == ["first", "second"]
    assert _turn_is_free(database)


def test_the_turn_passes_on_rollback_and_when_the_connection_is_dropped(
    engines: tuple[Engine, Engine], database: str
) -> None:
    first, _ = engines
    with pytest.raises(RuntimeError), first.begin() as connection:
        connection.execute(text("INSERT INTO sends (who) VALUES ('rolled back')"))
        raise RuntimeError("the request failed")
    assert _turn_is_free(database)

    connection = first.connect()
    transaction = connection.begin()
    connection.execute(text("INSERT INTO sends (who) VALUES ('dropped')"))
    assert not _turn_is_free(database)
    connection.invalidate()  # what SQLAlchemy does with a connection it no longer trusts
    transaction.rollback()
    connection.close()
    assert _turn_is_free(database)
    assert _saved(first) == []


def test_readers_never_wait_for_the_turn(engines: tuple[Engine, Engine]) -> None:
    first, second = engines
    _write(first, "before")
    with first.begin() as writing:
        writing.execute(text("INSERT INTO sends (who) VALUES ('uncommitted')"))
        started = time.monotonic()
        with second.connect().execution_options(**{READ: True}) as reading:
            seen = list(reading.scalars(text("SELECT who FROM sends")))
        assert time.monotonic() - started < 1
    assert seen == ["before"]


HOLDER = """
import sys, time
from sqlalchemy import text
from hcs.infrastructure.db import make_engine
engine = make_engine(f"sqlite:///{sys.argv[1]}")
connection = engine.connect()
connection.begin()
connection.execute(text("INSERT INTO sends (who) VALUES ('killed')"))
print("holding", flush=True)
time.sleep(60)
"""


def test_a_writer_killed_mid_transaction_holds_no_one_up(
    engines: tuple[Engine, Engine], database: str
) -> None:
    first, _ = engines
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), database],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert not _turn_is_free(database)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        _write(first, "after the kill")
        assert time.monotonic() - started < 2
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert _saved(first) == ["after the kill"]


def test_a_holder_that_never_lets_go_delays_writers_only_for_the_busy_timeout(
    engines: tuple[Engine, Engine], database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something else holds the file (not SQLite's lock): writers go on after the timeout."""
    monkeypatch.setattr(writers, "BUSY_TIMEOUT_S", 0.3)
    first, _ = engines
    stuck = os.open(writers.lock_path(database), os.O_RDWR)
    fcntl.flock(stuck, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        _write(first, "late")
        waited = time.monotonic() - started
    finally:
        os.close(stuck)
    assert 0.3 <= waited < 3
    assert _saved(first) == ["late"]


def test_a_writer_refused_by_sqlite_gives_its_turn_back(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's lock held by a connection that does not queue (the sqlite3 shell, say): the
    writer that times out on it raises, and the next writer is not kept waiting for the file."""
    monkeypatch.setattr(writers, "BUSY_TIMEOUT_S", 0.2)  # also SQLite's busy timeout
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE sends (id INTEGER PRIMARY KEY, who TEXT)"))
    outsider = sqlite3.connect(database, isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            _write(engine, "refused")
        assert _turn_is_free(database)
    finally:
        outsider.rollback()
        outsider.close()
    _write(engine, "next")
    assert _saved(engine) == ["next"]
    engine.dispose()
