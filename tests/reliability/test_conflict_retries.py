"""A transaction PostgreSQL rolls back to break a deadlock runs again, a bounded number of times."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hcs.http.error_handlers import CONFLICT, DOWN, init_app
from hcs.infrastructure.db import committed_with_retries, is_conflict, make_engine, session_factory


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    if fresh_database_url.startswith("sqlite"):
        pytest.skip("SQLite takes its one write lock up front: it never deadlocks")
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)"))
        connection.execute(text("INSERT INTO counters VALUES (1, 0), (2, 0)"))
    yield engine
    engine.dispose()


def _bump(session: Session, first: int, second: int, between: threading.Barrier | None) -> None:
    session.execute(text("UPDATE counters SET n = n + 1 WHERE id = :id"), {"id": first})
    if between is not None:
        between.wait(5)
    session.execute(text("UPDATE counters SET n = n + 1 WHERE id = :id"), {"id": second})


def _deadlock(engine: Engine, attempts: int) -> list[BaseException]:
    """Two transactions lock two rows in opposite orders; PostgreSQL kills one of them."""
    factory, both = session_factory(engine), threading.Barrier(2)
    errors: list[BaseException] = []

    def run(first: int, second: int) -> None:
        with factory() as session:
            tries = iter(range(attempts))

            def work() -> None:
                barrier = both if next(tries) == 0 else None  # only the first try meets
                _bump(session, first, second, barrier)

            try:
                committed_with_retries(session, work, attempts=attempts)
            except OperationalError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_the_transaction_chosen_as_the_deadlock_victim_is_run_again(engine: Engine) -> None:
    assert _deadlock(engine, attempts=3) == []
    with engine.connect() as connection:
        counts = connection.execute(text("SELECT n FROM counters ORDER BY id")).scalars().all()
    assert counts == [2, 2]  # both transactions, each once


def test_after_the_last_try_the_conflict_is_a_503_that_says_it_was_rolled_back(
    engine: Engine,
) -> None:
    [error] = _deadlock(engine, attempts=1)
    assert is_conflict(error)
    with engine.connect() as connection:
        counts = connection.execute(text("SELECT n FROM counters ORDER BY id")).scalars().all()
    assert counts == [1, 1]  # the victim left nothing behind
    app = Flask(__name__)
    init_app(app, pages={})

    @app.get("/conflict")
    def conflict() -> None:
        raise error

    @app.get("/down")
    def down() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    client = app.test_client()
    answers = client.get("/conflict"), client.get("/down")
    assert [a.status_code for a in answers] == [503, 503]
    assert [a.get_json()["message"] for a in answers] == [CONFLICT, DOWN]
    assert "nothing" not in DOWN and "nothing of it was saved" in CONFLICT
