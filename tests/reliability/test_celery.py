"""Celery for real: workers on Redis and RabbitMQ, a SIGKILL mid-batch, and enqueues that were lost.

The chat platform here de-duplicates on the message `id` the webhook body carries, as the signed
webhook scheme asks receivers to (`channels.chat.signing`) and as real messaging APIs do with an
idempotency key. A worker killed after the platform took a message but before it recorded
`sent` leaves it `unknown` when the entry is taken over; with no report from the platform
within the reconciliation window its (transactional) policy sends it again, marked
`possible_duplicate`. HCS's own guarantee is that each message reaches `sent` once, with one
`sent` event, and that no copy is sent again unmarked.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hcs.messages.models import Message, MessageEvent
from tests.reliability.workers import (
    celery_worker,
    delete_amqp_queue,
    purge_redis_queue,
    wait_for,
    worker_env,
)
from tests.support.brokers import RABBITMQ, REDIS
from tests.support.chat import SECRET, ChatPlatform, accept
from tests.support.databases import PG_URL
from tests.support.world import World

LEASE_SECONDS = 2


@pytest.fixture
def queue() -> str:
    return f"hcs-test-{uuid.uuid4().hex[:10]}"


def celery_fields(broker: str, queue: str) -> dict[str, Any]:
    """Settings that hand dispatch to Celery on `broker`, with a short lease."""
    return {"broker_url": broker, "celery_queue": queue, "dispatch_lease_seconds": LEASE_SECONDS}


def env_for(world: World, platform: ChatPlatform) -> dict[str, str]:
    settings = world.app.extensions["hcs"].settings
    return worker_env(
        {
            "HCS_DATABASE_URL": settings.database_url,
            "HCS_SECRET_KEY": settings.secret_key,
            "HCS_VAR_DIR": str(settings.var_dir),
            "HCS_BROKER_URL": settings.broker_url,
            "HCS_CELERY_QUEUE": settings.celery_queue,
            "HCS_CHAT_PROVIDER": "webhook",
            "HCS_CHAT_WEBHOOK_URL": platform.url,
            "HCS_CHAT_WEBHOOK_SECRET": SECRET,
            "HCS_ALLOWED_PRIVATE_DESTINATIONS": "127.0.0.1",
            "HCS_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS),
            "HCS_SWEEP_SECONDS": "1",
            "HCS_BROKER_VISIBILITY_TIMEOUT": "5",
            # A short reconciliation window: the message inside its send at a kill is `unknown`
            # for 3 s, then (transactional: `resend`) sent again marked possible_duplicate.
            "HCS_UNKNOWN_WINDOW": "3s",
        }
    )


@pytest.fixture
def redis_world(make_sending_world: Callable[..., World], queue: str) -> Iterator[World]:
    yield make_sending_world(**celery_fields(REDIS, queue))
    purge_redis_queue(REDIS, queue)


def sent_count(world: World, ids: list[str]) -> int:
    with world.app.extensions["hcs"].sessions() as session:
        query = select(func.count()).where(Message.id.in_(ids), Message.status == "sent")
        return session.scalar(query) or 0


def sent_events(world: World, ids: list[str]) -> Counter[str]:
    with world.app.extensions["hcs"].sessions() as session:
        query = select(MessageEvent.message_id).where(
            MessageEvent.message_id.in_(ids), MessageEvent.kind == "sent"
        )
        return Counter(session.scalars(query))


def duplicates(world: World, ids: list[str]) -> set[str]:
    with world.app.extensions["hcs"].sessions() as session:
        query = select(MessageEvent.message_id).where(
            MessageEvent.message_id.in_(ids), MessageEvent.kind == "possible_duplicate"
        )
        return set(session.scalars(query))


def accept_without_enqueue(world: World, count: int, start: int) -> list[str]:
    """Accept messages as if the enqueue after the commit had been lost."""
    dispatcher = world.app.extensions.pop("hcs.dispatcher")
    try:
        return accept(world, count, start)
    finally:
        world.app.extensions["hcs.dispatcher"] = dispatcher


class KillSwitch:
    """Holds the platform's answer to the `at`-th POST until the test has killed the worker."""

    def __init__(self, at: int) -> None:
        self.at, self.arrived, self.killed = at, threading.Event(), threading.Event()

    def __call__(self, count: int, body: dict[str, Any]) -> tuple[int, str]:
        if count == self.at:
            self.arrived.set()
            self.killed.wait(10)
        return 200, ""


# Worker start-up dominates these tests: run them once, on PostgreSQL when it is configured.
ONE_BACKEND = ["postgresql" if PG_URL else "sqlite"]


@pytest.mark.parametrize("backend", ONE_BACKEND, indirect=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    redis_world: World, chat_platform: ChatPlatform, tmp_path: Path
) -> None:
    switch = KillSwitch(at=8)
    chat_platform.script = switch
    env, log = env_for(redis_world, chat_platform), tmp_path / "worker.log"
    # 20 enqueued after the commit, and 5 whose enqueue was lost: only the sweep finds those.
    ids = accept(redis_world, 20) + accept_without_enqueue(redis_world, 5, start=20)
    with celery_worker(env, log) as first:
        assert switch.arrived.wait(30), "the batch never reached the platform"
        os.kill(first.pid, signal.SIGKILL)  # while the 8th message is inside its send
        first.wait(10)
        switch.killed.set()
        assert first.returncode == -signal.SIGKILL
    before_restart = sent_count(redis_world, ids)
    assert before_restart < len(ids)
    with celery_worker(env, log):
        wait_for(lambda: sent_count(redis_world, ids) == len(ids), 40, "25 messages sent")
    assert chat_platform.delivered() == set(ids)  # every accepted message arrived
    assert sent_events(redis_world, ids) == dict.fromkeys(ids, 1)  # and reached `sent` once
    posts = chat_platform.posts()
    repeated = {i: n for i, n in posts.items() if n > 1}
    # At most the one message inside its send at the kill was posted again (then de-duplicated),
    # and only after its reconciliation window, marked `possible_duplicate`, never blindly.
    assert len(repeated) <= 1 and all(n == 2 for n in repeated.values())
    assert set(repeated) <= duplicates(redis_world, ids)
    print(
        f"sent before the kill: {before_restart}; posts: {sum(posts.values())}; again: {repeated}"
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_hcs_worker_runs_celery_on_rabbitmq_and_retries_at_the_backoff_time(
    make_sending_world: Callable[..., World],
    tmp_path: Path,
    chat_platform: ChatPlatform,
    queue: str,
) -> None:
    chat_platform.script = lambda n, body: (503, "busy") if n == 1 else (200, "")
    world = make_sending_world(**celery_fields(RABBITMQ, queue))
    hcs = [sys.executable, "-c", "from hcs.cli import main; main(['worker'])"]
    try:
        ids = accept(world, 6)
        with celery_worker(env_for(world, chat_platform), tmp_path / "worker.log", hcs):
            wait_for(lambda: sent_count(world, ids) == len(ids), 30, "6 messages sent")
        posts = chat_platform.posts()
        # The first POST was refused with a 503; its task came back after the backoff.
        assert set(posts) == set(ids) and sorted(posts.values()) == [1, 1, 1, 1, 1, 2]
        assert sent_events(world, ids) == dict.fromkeys(ids, 1)
    finally:
        delete_amqp_queue(RABBITMQ, queue)
