"""A worker's round: few transactions for a claimed batch, and one bad message stops no other."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, update
from sqlalchemy.exc import OperationalError

from hcs import archive
from hcs.dispatch import preparing
from hcs.dispatch import rounds as dispatch
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message, MessageEvent, OutboxEntry
from hcs.worker.runtime import Worker, build_worker
from tests.support.flows import published, send_orders, statuses_of
from tests.support.statements import statements
from tests.support.world import World


def archived(world: World) -> set[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return set(session.scalars(select(archive.ArchiveEntry.message_id)))


def kinds(world: World, message_id: str) -> list[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(MessageEvent.kind).where(MessageEvent.message_id == message_id)
        return list(session.scalars(query.order_by(MessageEvent.id)))


def one_round(
    world: World, monkeypatch: pytest.MonkeyPatch, count: int
) -> tuple[list[str], Worker]:
    """`count` orders accepted, and the worker that sends them in one round."""
    monkeypatch.setattr(dispatch, "PREPARE_BUDGET", 60.0)  # one round, however slow the machine
    published(world)
    ids = send_orders(world, count)
    services = world.app.extensions["hcs"]
    return ids, build_worker(services.settings, services.sessions)


def test_a_batch_is_sent_and_archived_with_one_commit_per_provider_call_and_a_few_more(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, worker = one_round(world, monkeypatch, 12)
    services = world.app.extensions["hcs"]
    commits: list[int] = []

    def count(_: object) -> None:
        commits.append(1)

    event.listen(services.engine, "commit", count)
    try:
        assert worker.run_once() == 12
    finally:
        event.remove(services.engine, "commit", count)
    # The claim, the reading, the writing of what was decided (which takes the first call's
    # messages into `sending`), the one call that wrote the twelve outbox files and recorded
    # their `sent`, the archiving.
    assert len(commits) == 5
    assert set(statuses_of(world).values()) == {"sent"} and archived(world) == set(ids)
    assert kinds(world, ids[0]) == ["accepted", "sent"]


def test_on_sqlite_a_rounds_archive_is_written_a_part_at_a_time_so_the_write_lock_is_short(
    world: World, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    ids, worker = one_round(world, monkeypatch, 12)
    monkeypatch.setattr(dispatch, "ARCHIVE_PART", 5)
    archive_round, parts = worker.on_sent, []

    def counted(session: Any, sent: Any) -> None:
        parts.append(len(sent))
        archive_round(session, sent)

    worker.on_sent = counted
    assert worker.run_once() == 12
    # SQLite has one write lock for the whole database; PostgreSQL locks rows.
    assert parts == ([5, 5, 2] if backend == "sqlite" else [12])
    assert archived(world) == set(ids)


def test_a_message_that_breaks_finishing_leaves_the_rest_of_its_batch_to_go_out(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    first, broken, last = send_orders(world, 3)
    finish = preparing.finish

    def failing(session: Any, message: Message, *args: Any, **kwargs: Any) -> Any:
        if message.id == broken:
            raise RuntimeError("renderer crashed")
        return finish(session, message, *args, **kwargs)

    monkeypatch.setattr(preparing, "finish", failing)
    services = world.app.extensions["hcs"]
    assert build_worker(services.settings, services.sessions).run_once() == 3
    assert statuses_of(world) == {first: "sent", broken: "accepted", last: "sent"}
    assert archived(world) == {first, last}
    with transaction(services.sessions) as session:
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == broken)).one()
        assert entry.done_at is None and entry.leased_until is not None  # retried after its lease
        # An attempt counted, with the error's class only: its text may quote personal data.
        assert (entry.attempts, entry.last_error) == (1, "finishing_error: RuntimeError")
    assert kinds(world, broken) == ["accepted", "finishing_error"]


def test_an_archive_write_that_fails_for_one_message_archives_the_rest_of_the_round(
    world: World,
) -> None:
    published(world)
    first, broken, last = send_orders(world, 3)
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    archive_all = worker.on_sent
    assert archive_all is not None

    def on_sent(session: Any, sent: Any) -> None:
        if broken in [message.id for message, _ in sent]:
            raise RuntimeError("disk full")
        archive_all(session, sent)

    worker.on_sent = on_sent
    assert worker.run_once() == 3
    assert set(statuses_of(world).values()) == {"sent"}
    assert archived(world) == {first, last}
    assert kinds(world, broken) == ["accepted", "sent", "archive_failed"]
    assert kinds(world, first) == ["accepted", "sent"]


def test_a_message_recalled_while_it_was_being_finished_is_not_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatch, "PREPARE_BUDGET", 60.0)  # one round, however loaded the machine
    published(world)
    first, second = send_orders(world, 2)
    plan_some = preparing.plan_some

    def recalled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        plans = plan_some(*args, **kwargs)
        lee = world.as_("lee@example.com")
        reason = {"reason": "Wrong delivery date in the copy"}
        answer = lee.post("/templates/order-confirmation/versions/1/suspend", reason)
        assert answer.status_code == 200 and answer.get_json() == {"held": 2}
        return plans

    monkeypatch.setattr(dispatch, "plan_some", recalled_meanwhile)
    services = world.app.extensions["hcs"]
    outcomes = dispatch.run_due(services.sessions, build_providers(services.settings), owner="w")
    assert [(o.status, o.detail) for o in outcomes] == [
        ("held", "changed while it was prepared")
    ] * 2
    assert statuses_of(world) == {first: "held", second: "held"}
    assert not (services.settings.outbox_dir / "email").exists()


def test_finishing_a_message_keeps_no_other_writer_waiting(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    [message_id] = send_orders(world, 1)
    services = world.app.extensions["hcs"]
    finish, written = preparing.finish, []

    def write_meanwhile(session: Any, message: Message, *args: Any, **kwargs: Any) -> Any:
        sqlite = services.engine.dialect.name == "sqlite"
        # Another connection, which gives up at once when it would wait for a lock.
        other = create_engine(
            services.settings.database_url, connect_args={"timeout": 0} if sqlite else {}
        )
        try:
            with other.begin() as connection:
                if not sqlite:
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
                touched = connection.execute(
                    update(Message).where(Message.id == message.id).values(reason="touched")
                )
                written.append(touched.rowcount)
        finally:
            other.dispose()
        return finish(session, message, *args, **kwargs)

    monkeypatch.setattr(preparing, "finish", write_meanwhile)
    assert build_worker(services.settings, services.sessions).run_once() == 1
    assert written == [1] and statuses_of(world) == {message_id: "sent"}


def test_a_database_that_fails_under_a_round_stops_the_round_not_its_entries(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    published(world)
    ids = send_orders(world, 3)

    def unreachable(*_: Any) -> Any:
        raise OperationalError("UPDATE messages ...", {}, Exception("server closed the connection"))

    monkeypatch.setattr(dispatch, "apply_all", unreachable)
    services = world.app.extensions["hcs"]
    with pytest.raises(OperationalError):  # the worker's loop logs it and tries again later
        build_worker(services.settings, services.sessions).run_once()
    assert statuses_of(world) == dict.fromkeys(ids, "accepted")
    assert not any("could not be prepared" in r.getMessage() for r in caplog.records)


def test_a_round_reads_its_messages_whole_once_and_then_only_what_may_have_changed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, worker = one_round(world, monkeypatch, 6)
    services = world.app.extensions["hcs"]
    with statements(services.engine) as seen:
        assert worker.run_once() == 6
    whole = [s for s in seen if s.startswith("SELECT messages.id, messages.template_key")]
    assert len(whole) == 1  # the reading; the archive's step reads the changing columns only
    assert set(statuses_of(world).values()) == {"sent"} and archived(world) == set(ids)


def test_a_message_edited_in_the_database_after_acceptance_is_checked_again_at_finishing(
    world: World,
) -> None:
    # Acceptance and finishing read addresses and data by quick paths where they are plainly
    # good; a row edited by hand since must still meet the full checks before it is sent.
    published(world)
    good, injected, retyped, blanked = send_orders(world, 4)
    services = world.app.extensions["hcs"]
    bcc = "customer1@example.com\r\nBcc: eve@evil.example"
    with transaction(services.sessions) as session:
        edits = {
            injected: {"to": {"email": bcc}, "recipient_key": bcc},
            retyped: {"data": {"order_id": 1001, "first_name": "Ana"}},
            blanked: {"data": {"order_id": "A-1001", "first_name": " "}},
        }
        for message_id, values in edits.items():
            session.execute(update(Message).where(Message.id == message_id).values(**values))
    assert build_worker(services.settings, services.sessions).run_once() == 4
    assert statuses_of(world) == {
        good: "sent",
        injected: "failed",
        retyped: "failed",
        blanked: "failed",
    }
    assert archived(world) == {good}
    [written] = (services.settings.outbox_dir / "email").iterdir()
    assert b"evil.example" not in written.read_bytes()
