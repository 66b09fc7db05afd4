"""Celery delivers status callbacks too: the sweep queues what is owed, a real worker sends it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.reliability.workers import celery_worker, purge_redis_queue, wait_for, worker_env
from tests.support.brokers import REDIS
from tests.support.callbacks import received, receiver_url, verified
from tests.support.chat import SECRET, ChatPlatform, accept
from tests.support.databases import PG_URL
from tests.support.world import World


@pytest.mark.parametrize("backend", ["postgresql" if PG_URL else "sqlite"], indirect=True)
def test_a_celery_worker_delivers_the_callbacks_of_what_it_sends(
    make_sending_world: Callable[..., World],
    chat_platform: ChatPlatform,
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    queue = f"hcs-test-{uuid.uuid4().hex[:10]}"
    world = make_sending_world(
        broker_url=REDIS, celery_queue=queue, webhook_allowed_hosts=("127.0.0.1",)
    )
    httpserver.expect_request("/hook").respond_with_data("ok")
    made = world.as_("system").post(
        "/webhooks", {"url": receiver_url(httpserver), "events": ["sent"]}
    )
    secret = made.get_json()["secret"]
    settings = world.app.extensions["hcs"].settings
    env = worker_env(
        {
            "HCS_DATABASE_URL": settings.database_url,
            "HCS_SECRET_KEY": settings.secret_key,
            "HCS_VAR_DIR": str(settings.var_dir),
            "HCS_BROKER_URL": REDIS,
            "HCS_CELERY_QUEUE": queue,
            "HCS_CHAT_PROVIDER": "webhook",
            "HCS_CHAT_WEBHOOK_URL": chat_platform.url,
            "HCS_CHAT_WEBHOOK_SECRET": SECRET,
            "HCS_SWEEP_SECONDS": "1",
            "HCS_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "HCS_ALLOWED_PRIVATE_DESTINATIONS": "127.0.0.1",
        }
    )
    try:
        ids = accept(world, 3)
        with celery_worker(env, tmp_path / "worker.log"):
            wait_for(lambda: len(received(httpserver)) >= 3, 40, "three sent callbacks")
    finally:
        purge_redis_queue(REDIS, queue)
    bodies = [verified(request, secret) for request in received(httpserver)]
    assert sorted(b["data"]["id"] for b in bodies) == sorted(ids)
    assert {b["type"] for b in bodies} == {"message.sent"}
