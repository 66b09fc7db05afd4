"""A connection dropped at COMMIT: the API says the outcome is unknown, not "nothing was saved".

On PostgreSQL a single send with no Idempotency-Key runs in autocommit (its write is one
statement, its own commit): the same holds when the answer to that statement is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError

from hcs.messages.models import Message, MessageEvent, OutboxEntry
from tests.reliability.proxy import Proxy
from tests.support.databases import Databases
from tests.support.flows import ORDER, published
from tests.support.world import World, running, settings_for


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


@pytest.fixture
def behind_proxy(
    databases: Databases, backend: str, tmp_path: Path
) -> Iterator[tuple[World, Proxy]]:
    """A world whose database connections pass through a proxy the test can break."""
    if backend != "postgresql":
        pytest.skip("autocommit sends: PostgreSQL")
    with databases.copy(backend, "world", tmp_path / "db") as (database_url, snapshot):
        url = make_url(database_url)
        proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
        url = url.set(host="127.0.0.1", port=proxy.port)
        settings = settings_for(url.render_as_string(hide_password=False), var_dir=tmp_path)
        try:
            with running(settings, snapshot.facts) as world:
                published(world)
                yield world, proxy
        finally:
            proxy.close()


def counted(world: World) -> tuple[int, int, int]:
    """Messages, their events and outbox entries."""
    with world.app.extensions["hcs"].sessions() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Message, MessageEvent, OutboxEntry)
        )


def test_a_single_send_whose_answer_is_lost_answers_outcome_unknown_and_was_saved_once(
    behind_proxy: tuple[World, Proxy],
) -> None:
    """The INSERT reached PostgreSQL and committed there; the link broke before its answer came
    back. "Nothing was saved" would be a lie that makes a caller send it again."""
    world, proxy = behind_proxy
    system = world.as_("system")
    before = counted(world)
    proxy.lose_answer_to(b"INSERT INTO messages")
    answer = system.post("/messages", ORDER)
    assert proxy.answer_lost.is_set(), "the send's statement never went through the proxy"
    body: dict[str, Any] = answer.get_json()
    assert answer.status_code == 503 and body["reason"] == "outcome_unknown", body
    assert "nothing was saved" not in body["message"]
    assert counted(world) == (before[0] + 1, before[1] + 1, before[2] + 1)
    again = system.post("/messages", ORDER)  # the pool gives a working connection again
    assert again.status_code == 202, again.get_json()


def test_a_statement_cancelled_in_autocommit_is_not_an_unknown_outcome(
    behind_proxy: tuple[World, Proxy],
) -> None:
    """A send PostgreSQL cancelled (a statement timeout while another transaction holds the
    outbox) saved nothing: 503 "unavailable", not outcome_unknown, and nothing is written."""
    world, _ = behind_proxy
    engine = world.app.extensions["hcs"].engine
    system = world.as_("system")
    assert system.post("/messages", ORDER).status_code == 202
    before = counted(world)

    def impatient(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("WITH written AS"):
            cursor.execute("SET statement_timeout = 300")

    event.listen(engine, "before_cursor_execute", impatient)
    try:
        with engine.connect() as other:
            other.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
            answer = system.post("/messages", ORDER)
            other.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", impatient)
    body = answer.get_json()
    assert answer.status_code == 503 and body.get("reason") != "outcome_unknown", body
    assert "may or may not" not in body["message"]
    assert counted(world) == before
    engine.dispose()  # the connection still carries the short timeout
    assert system.post("/messages", ORDER).status_code == 202


class Commands:
    """The commands psycopg sends of itself (BEGIN, COMMIT, ROLLBACK), each a round trip."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[bytes] = []
        original = psycopg.Connection._exec_command

        def recording(connection: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            self.sent.append(command if isinstance(command, bytes) else str(command).encode())
            return original(connection, command, *args, **kwargs)

        monkeypatch.setattr(psycopg.Connection, "_exec_command", recording)


def test_a_single_send_costs_postgresql_two_statements_and_no_transaction_commands(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = world.app.extensions["hcs"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("autocommit sends: PostgreSQL")
    published(world)
    system = world.as_("system")
    assert system.post("/messages", ORDER).status_code == 202  # the key and version are cached
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    commands = Commands(monkeypatch)
    answer = system.post("/messages", ORDER)
    assert answer.status_code == 202
    assert commands.sent == [] and len(statements) == 2, (commands.sent, statements)
    keyed = system.post("/messages", ORDER, headers={"Idempotency-Key": "k-1"})
    assert keyed.status_code == 202  # with a key: its row and the message in one transaction
    assert [c.split()[0] for c in commands.sent] == [b"BEGIN", b"COMMIT"], commands.sent
    with world.app.extensions["hcs"].sessions() as session:
        sent = session.get(Message, answer.get_json()["id"])
        assert sent is not None and sent.status == "accepted"


def test_a_single_send_of_two_statements_is_still_all_or_nothing(world: World) -> None:
    """Invisible characters taken out of the data add a `data_cleaned` event: a second
    statement, so the send is written in a transaction. When that statement fails, the message
    is not saved without it."""
    engine = world.app.extensions["hcs"].engine
    published(world)
    system = world.as_("system")
    assert system.post("/messages", ORDER).status_code == 202
    before = counted(world)

    def refuse(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO message_events") and "data_cleaned" in str(_):
            raise RuntimeError("the database refused the second statement")

    hidden = {**ORDER, "data": {**ORDER["data"], "first_name": "An\u200ba"}}
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        answer = system.post("/messages", hidden)
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert answer.status_code == 500
    assert counted(world) == before
    cleaned = system.post("/messages", hidden)
    assert cleaned.status_code == 202
    assert counted(world) == (before[0] + 1, before[1] + 2, before[2] + 1)
