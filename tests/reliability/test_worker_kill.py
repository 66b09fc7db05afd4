"""`hcs worker --queues chat --concurrency 2` (in-process) killed mid-send: nothing twice, unmarked.

The message inside its send at the SIGKILL is found `sending` by the next worker once its lease
ended: it becomes `unknown`, waits its reconciliation window, and (transactional: `resend`) goes
out again marked `possible_duplicate`. Every other message is sent once; none is lost.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hcs.messages.models import Message, MessageEvent
from tests.reliability.workers import celery_worker, wait_for, worker_env
from tests.support.chat import SECRET, ChatPlatform, accept
from tests.support.databases import PG_URL
from tests.support.world import World

HCS_WORKER = [
    sys.executable,
    "-c",
    "from hcs.cli import main; main(['worker', '--queues', 'chat', '--concurrency', '2'])",
]


class KillSwitch:
    """Holds the platform's answer to the `at`-th POST until the test has killed the worker."""

    def __init__(self, at: int) -> None:
        self.at, self.arrived, self.killed = at, threading.Event(), threading.Event()
        self.in_flight = ""

    def __call__(self, count: int, body: dict[str, Any]) -> tuple[int, str]:
        if count == self.at:
            self.in_flight = str(body["id"])
            self.arrived.set()
            self.killed.wait(10)
        return 200, ""


def env_for(world: World, platform: ChatPlatform) -> dict[str, str]:
    settings = world.app.extensions["hcs"].settings
    return worker_env(
        {
            "HCS_DATABASE_URL": settings.database_url,
            "HCS_SECRET_KEY": settings.secret_key,
            "HCS_VAR_DIR": str(settings.var_dir),
            "HCS_CHAT_PROVIDER": "webhook",
            "HCS_CHAT_WEBHOOK_URL": platform.url,
            "HCS_CHAT_WEBHOOK_SECRET": SECRET,
            "HCS_ALLOWED_PRIVATE_DESTINATIONS": "127.0.0.1",
            "HCS_DISPATCH_LEASE_SECONDS": "2",
            "HCS_UNKNOWN_WINDOW": "2s",
        }
    )


def events(world: World, ids: list[str], kind: str) -> Counter[str]:
    with world.app.extensions["hcs"].sessions() as session:
        query = select(MessageEvent.message_id).where(
            MessageEvent.message_id.in_(ids), MessageEvent.kind == kind
        )
        return Counter(session.scalars(query))


def statuses(world: World, ids: list[str]) -> Counter[str]:
    with world.app.extensions["hcs"].sessions() as session:
        return Counter(session.scalars(select(Message.status).where(Message.id.in_(ids))))


@pytest.mark.parametrize("backend", ["postgresql" if PG_URL else "sqlite"], indirect=True)
def test_an_in_process_worker_killed_mid_send_sends_nothing_twice_unmarked(
    make_sending_world: Callable[..., World], chat_platform: ChatPlatform, tmp_path: Path
) -> None:
    world = make_sending_world()
    switch = KillSwitch(at=6)
    chat_platform.script = switch
    env, log = env_for(world, chat_platform), tmp_path / "worker.log"
    ids = accept(world, 12)
    with celery_worker(env, log, HCS_WORKER) as first:
        assert switch.arrived.wait(60), "the worker never reached the platform"
        os.kill(first.pid, signal.SIGKILL)  # while the 6th message is inside its send
        first.wait(10)
        switch.killed.set()
    with celery_worker(env, log, HCS_WORKER):
        wait_for(lambda: statuses(world, ids) == {"sent": 12}, 60, "12 messages sent")
    posts = chat_platform.posts()
    again = {i for i, n in posts.items() if n > 1}
    assert set(posts) == set(ids) and len(again) <= 1  # nothing lost; one in flight at most
    assert events(world, ids, "sent") == dict.fromkeys(ids, 1)
    assert again <= set(events(world, ids, "possible_duplicate"))  # never sent again unmarked
    assert set(events(world, ids, "possible_duplicate")) <= set(events(world, ids, "unknown"))
    assert switch.in_flight in events(world, ids, "possible_duplicate")  # the one at the kill
