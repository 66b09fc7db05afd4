"""A worker's round: few transactions for a claimed batch, and one bad message stops no other."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import event, select

from hcs import archive
from hcs.db import transaction
from hcs.delivery import preparing
from hcs.delivery.models import Message, MessageEvent, OutboxEntry
from hcs.delivery.worker import build_worker
from tests.api.conftest import ApiWorld
from tests.api.test_messages import ORDER, published


def send(world: ApiWorld, count: int) -> list[str]:
    ids = []
    for n in range(count):
        body = {**ORDER, "to": {"email": f"customer{n}@example.com"}}
        answer = world.as_("system").post("/messages", body)
        assert answer.status_code == 202, answer.get_json()
        ids.append(str(answer.get_json()["id"]))
    return ids


def statuses(world: ApiWorld) -> dict[str, str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return dict(session.execute(select(Message.id, Message.status)).all())


def archived(world: ApiWorld) -> set[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return set(session.scalars(select(archive.ArchiveEntry.message_id)))


def kinds(world: ApiWorld, message_id: str) -> list[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(MessageEvent.kind).where(MessageEvent.message_id == message_id)
        return list(session.scalars(query.order_by(MessageEvent.id)))


def test_a_batch_is_sent_and_archived_with_one_commit_per_message_and_a_few_more(
    world: ApiWorld,
) -> None:
    published(world)
    ids = send(world, 12)
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    commits: list[int] = []

    def count(_: object) -> None:
        commits.append(1)

    event.listen(services.engine, "commit", count)
    try:
        assert worker.run_once() == 12
    finally:
        event.remove(services.engine, "commit", count)
    # One claim, the preparing (a budget's worth at a time), a `sent` each, one archiving.
    assert 12 + 3 <= len(commits) <= 12 + 5
    assert set(statuses(world).values()) == {"sent"} and archived(world) == set(ids)
    assert kinds(world, ids[0]) == ["accepted", "sent"]


def test_a_message_that_breaks_finishing_leaves_the_rest_of_its_batch_to_go_out(
    world: ApiWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    published(world)
    first, broken, last = send(world, 3)
    finish = preparing.finish

    def failing(session: Any, message: Message, *args: Any, **kwargs: Any) -> Any:
        if message.id == broken:
            raise RuntimeError("renderer crashed")
        return finish(session, message, *args, **kwargs)

    monkeypatch.setattr(preparing, "finish", failing)
    services = world.app.extensions["hcs"]
    with caplog.at_level(logging.ERROR, logger="hcs.delivery.dispatch"):
        assert build_worker(services.settings, services.sessions).run_once() == 2
    assert statuses(world) == {first: "sent", broken: "accepted", last: "sent"}
    assert archived(world) == {first, last}
    with transaction(services.sessions) as session:
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == broken)).one()
        assert entry.done_at is None and entry.leased_until is not None  # retried after its lease
    assert any("could not be prepared" in r.getMessage() for r in caplog.records)


def test_an_archive_write_that_fails_for_one_message_archives_the_rest_of_the_round(
    world: ApiWorld,
) -> None:
    published(world)
    first, broken, last = send(world, 3)
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    archive_one = worker.on_sent
    assert archive_one is not None

    def on_sent(session: Any, message: Message, finished: Any) -> None:
        if message.id == broken:
            raise RuntimeError("disk full")
        archive_one(session, message, finished)

    worker.on_sent = on_sent
    assert worker.run_once() == 3
    assert set(statuses(world).values()) == {"sent"}
    assert archived(world) == {first, last}
    assert kinds(world, broken) == ["accepted", "sent", "archive_failed"]
    assert kinds(world, first) == ["accepted", "sent"]
