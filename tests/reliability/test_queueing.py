"""What the Celery task wraps, called directly: queue, take, sweep, and retry at the right time."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, update

from hcs.dispatch import queueing
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.config import load_settings
from hcs.messages.models import OutboxEntry
from hcs.worker.tasks import make_celery, publish
from tests.reliability.workers import purge_redis_queue
from tests.support.brokers import REDIS
from tests.support.chat import ChatPlatform, accept
from tests.support.world import World

LEASE = timedelta(seconds=30)


@pytest.fixture
def world(make_sending_world: Callable[..., World]) -> World:
    return make_sending_world()


def entries(world: World, ids: list[str]) -> list[int]:
    with world.app.extensions["hcs"].sessions() as session:
        query = select(OutboxEntry.id).where(OutboxEntry.message_id.in_(ids))
        return sorted(session.scalars(query))


def test_a_queued_entry_is_sent_by_one_task_however_many_copies_run(
    world: World, chat_platform: ChatPlatform
) -> None:
    sessions = world.app.extensions["hcs"].sessions
    providers = build_providers(world.app.extensions["hcs"].settings)
    ids = accept(world, 2)
    with sessions.begin() as session:
        queued = queueing.hand_to_queue(session, ids, lease=LEASE)
        assert queueing.hand_to_queue(session, ids, lease=LEASE) == []  # queued once
    assert queued == entries(world, ids)
    with sessions.begin() as session:
        assert queueing.take(session, queued[:1], owner="w1", lease=LEASE) == queued[:1]
        assert queueing.take(session, queued[:1], owner="w2", lease=LEASE) == []  # w1 holds it
    first = queueing.dispatch(sessions, queued, providers, owner="w1", lease=LEASE)
    again = queueing.dispatch(sessions, queued, providers, owner="w2", lease=LEASE)
    assert [o.status for o in first] == ["sent"] and again == []  # the held one stays held
    assert chat_platform.posts() == {ids[1]: 1}


def test_the_sweep_queues_what_was_never_queued_or_whose_lease_ended(world: World) -> None:
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
    world: World, chat_platform: ChatPlatform
) -> None:
    chat_platform.script = lambda n, body: (503, "busy")
    sessions = world.app.extensions["hcs"].sessions
    providers = build_providers(world.app.extensions["hcs"].settings)
    [entry_id] = entries(world, accept(world, 1))
    [outcome] = queueing.dispatch(sessions, [entry_id], providers, owner="w1", lease=LEASE)
    assert outcome.status == "queued"
    with sessions.begin() as session:
        delays = queueing.requeue_retries(session, [entry_id], lease=LEASE)
        assert list(delays) == [entry_id] and 0.5 <= delays[entry_id] <= 2.0
        assert queueing.requeue_retries(session, [entry_id], lease=LEASE) == {}  # queued once
        assert queueing.take(session, [entry_id], owner="w2", lease=LEASE) == []  # not due yet
        assert queueing.sweep(session, lease=LEASE) == []


def _entries_of(client: redis.Redis, name: str) -> list[list[int]]:
    """The entry ids of each task waiting in a Celery queue."""
    # Each body is (args, kwargs, embed); the one argument is the task's entry ids.
    bodies = [
        json.loads(base64.b64decode(json.loads(raw)["body"])) for raw in client.lrange(name, 0, -1)
    ]
    return [args[0] for args, _, _ in bodies]


def test_entries_go_to_their_lanes_queue_a_lanes_round_to_a_task(tmp_path: Path) -> None:
    queue = f"hcs-test-{uuid.uuid4().hex[:10]}"
    settings = replace(load_settings(), broker_url=REDIS, celery_queue=queue, var_dir=tmp_path)
    celery = make_celery(settings)
    try:
        lanes = {"email": list(range(1, 451)), "sms": list(range(451, 511))}
        assert publish(celery, lanes) == 510
        client = redis.Redis.from_url(REDIS)
        tasks = {lane: _entries_of(client, f"{queue}.{lane}") for lane in lanes}
        assert client.llen(queue) == 0
        client.close()
        # Email goes out many to a provider call: rounds of 200; one message a call: 50.
        assert {lane: sorted(map(len, ids)) for lane, ids in tasks.items()} == {
            "email": [50, 200, 200],
            "sms": [10, 50],
        }
        for lane, ids in tasks.items():
            assert sorted(i for entries in ids for i in entries) == lanes[lane]
    finally:
        purge_redis_queue(REDIS, queue)
