"""What the Celery task wraps, called directly: queue, take, sweep, and retry at the right time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hcs.delivery import queueing
from hcs.delivery.models import OutboxEntry
from hcs.delivery.providers import build_providers
from tests.api.conftest import ApiWorld
from tests.reliability.conftest import (
    ChatPlatform,
    accept,
    chat_settings,
    close_world,
    sending_world,
)

LEASE = timedelta(seconds=30)


@pytest.fixture
def world(
    fresh_database_url: str, tmp_path: Path, chat_platform: ChatPlatform
) -> Iterator[ApiWorld]:
    world = sending_world(chat_settings(fresh_database_url, tmp_path / "var", chat_platform.url))
    yield world
    close_world(world)


def entries(world: ApiWorld, ids: list[str]) -> list[int]:
    with world.app.extensions["hcs"].sessions() as session:
        query = select(OutboxEntry.id).where(OutboxEntry.message_id.in_(ids))
        return sorted(session.scalars(query))


def test_a_queued_entry_is_sent_by_one_task_however_many_copies_run(
    world: ApiWorld, chat_platform: ChatPlatform
) -> None:
    sessions = world.app.extensions["hcs"].sessions
    providers = build_providers(world.app.extensions["hcs"].settings)
    ids = accept(world, 2)
    with sessions.begin() as session:
        queued = queueing.hand_to_queue(session, ids, lease=LEASE)
        assert queueing.hand_to_queue(session, ids, lease=LEASE) == []  # queued once
    assert queued == entries(world, ids)
    with sessions.begin() as session:
        assert queueing.take(session, queued[0], owner="w1", lease=LEASE)
        assert not queueing.take(session, queued[0], owner="w2", lease=LEASE)  # w1 holds it
    first = queueing.dispatch_one(sessions, queued[1], providers, owner="w1", lease=LEASE)
    again = queueing.dispatch_one(sessions, queued[1], providers, owner="w2", lease=LEASE)
    assert first is not None and first.status == "sent" and again is None
    assert chat_platform.posts() == {ids[1]: 1}


def test_the_sweep_queues_what_was_never_queued_or_whose_lease_ended(world: ApiWorld) -> None:
    sessions = world.app.extensions["hcs"].sessions
    lost, queued = accept(world, 1), accept(world, 1, start=1)
    lost_entries, all_entries = entries(world, lost), entries(world, lost + queued)
    with sessions.begin() as session:
        queueing.hand_to_queue(session, queued, lease=LEASE)
    with sessions.begin() as session:
        assert queueing.sweep(session, lease=LEASE) == lost_entries
        assert queueing.sweep(session, lease=LEASE) == []
        session.execute(update(OutboxEntry).values(leased_until=None))  # every lease ran out
        assert queueing.sweep(session, lease=LEASE) == all_entries
        assert queueing.queue_depth(session) == 2


def test_a_transient_failure_is_queued_again_for_its_retry_time(
    world: ApiWorld, chat_platform: ChatPlatform
) -> None:
    chat_platform.script = lambda n, body: (503, "busy")
    sessions = world.app.extensions["hcs"].sessions
    providers = build_providers(world.app.extensions["hcs"].settings)
    [entry_id] = entries(world, accept(world, 1))
    outcome = queueing.dispatch_one(sessions, entry_id, providers, owner="w1", lease=LEASE)
    assert outcome is not None and outcome.status == "queued"
    with sessions.begin() as session:
        delay = queueing.retry_in(session, entry_id, lease=LEASE)
        assert 0.5 <= delay <= 2.0
        assert not queueing.take(session, entry_id, owner="w2", lease=LEASE)  # not due yet
        assert queueing.sweep(session, lease=LEASE) == []
