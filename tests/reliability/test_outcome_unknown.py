"""A connection dropped at COMMIT: the API says the outcome is unknown, not "nothing was saved"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from hcs.messages.models import Message
from tests.support.flows import ORDER, published
from tests.support.world import World


@contextmanager
def dropped_at_commit(engine: Engine) -> Iterator[list[int]]:
    """The server ends the connection that wrote a message, just before its COMMIT goes out."""
    killed: list[int] = []

    def note(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if "INSERT INTO messages" in statement:
            connection.info["wrote_message"] = True

    def kill(connection: Connection) -> None:
        if killed or not connection.info.pop("wrote_message", False):
            return
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed.append(pid)

    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", kill)
    try:
        yield killed
    finally:
        event.remove(engine, "commit", kill)
        event.remove(engine, "before_cursor_execute", note)


def messages(world: World) -> int:
    with world.app.extensions["hcs"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def test_a_connection_lost_at_commit_answers_outcome_unknown_and_the_key_makes_it_once(
    world: World,
) -> None:
    engine = world.app.extensions["hcs"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a server that ends a connection at COMMIT: PostgreSQL")
    published(world)
    system, key = world.as_("system"), {"Idempotency-Key": "order-A-1001-x"}
    with dropped_at_commit(engine) as killed:
        answer = system.post("/messages", ORDER, headers=key)
    assert killed, "the commit was never reached"
    body: dict[str, Any] = answer.get_json()
    assert answer.status_code == 503 and body["reason"] == "outcome_unknown"
    assert "Idempotency-Key" in body["message"] and "nothing was saved" not in body["message"]
    again = system.post("/messages", ORDER, headers=key)
    assert again.status_code == 202
    assert messages(world) == 1


def test_a_session_whose_connection_was_lost_mid_transaction_rolls_back_and_goes_on(
    world: World,
) -> None:
    """The server ends the connection between two statements: the failed statement raises, the
    rollback that follows works (it once raised "Can't reconnect until invalid transaction is
    rolled back" from the commit watcher) and the session reads again on a new connection."""
    services = world.app.extensions["hcs"]
    count = select(func.count()).select_from(Message)
    with services.sessions() as session:
        assert session.scalar(count) == 0  # a transaction is open on a connection
        if services.engine.dialect.name == "postgresql":
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with services.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(OperationalError):
                session.execute(text("SELECT 1"))
        else:  # SQLite's connections do not drop: SQLAlchemy's own invalidation, as on a drop
            session.connection().invalidate()
        session.rollback()
        assert session.scalar(count) == 0
