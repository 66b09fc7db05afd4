"""AI off the critical path: a model that hangs never delays a message without AI slots."""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from hcs.messages.models import OutboxEntry
from hcs.worker.runtime import build_worker
from tests.reliability.workers import (
    SOLO_WORKER,
    celery_worker,
    purge_redis_queue,
    wait_for,
    worker_env,
)
from tests.support.brokers import REDIS
from tests.support.flows import ai_template, published, send_ai, status
from tests.support.model import completion
from tests.support.world import World

HANG = 10.0
# A transactional SMS goes out within a round or two (well under a second here); a worker
# waiting for the model would hold it for the whole hang.
BOUND = 2.5


def _hanging(model: HTTPServer, asked: threading.Event, release: threading.Event) -> None:
    def answer(request: Request) -> Response:
        asked.set()
        release.wait(HANG)
        return Response(json.dumps(completion("Hi Ana, thanks!")), content_type="application/json")

    model.expect_request("/v1/chat/completions").respond_with_handler(answer)


def _sms(world: World) -> str:
    answer = world.as_("system").post(
        "/messages",
        {
            "template": "order-confirmation",
            "channel": "sms",
            "to": {"phone": "+447400123456"},
            "data": {"order_id": "A-1", "first_name": "Ana"},
        },
    )
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def _leased_for(world: World, message_id: str) -> timedelta:
    with world.app.extensions["hcs"].sessions() as session:
        entry = session.scalars(
            select(OutboxEntry).where(OutboxEntry.message_id == message_id)
        ).one()
        assert entry.leased_until is not None
        until = entry.leased_until.replace(tzinfo=entry.leased_until.tzinfo or UTC)
        return until - datetime.now(UTC)


def _until(condition: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_hanging_model_does_not_delay_an_unrelated_transactional_sms(
    make_world: Callable[..., World], model: HTTPServer
) -> None:
    world = make_world(
        ai_provider="openai",
        ai_base_url=model.url_for("/v1"),
        ai_model="fake",
        ai_max_retries=0,
        ai_timeout=HANG + 5,
    )
    ai_template(world)
    published(world)
    asked, release = threading.Event(), threading.Event()
    _hanging(model, asked, release)
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    worker.idle_seconds = 0.05
    ai_message = send_ai(world)
    worker.start()
    try:
        assert asked.wait(5), "the worker never asked the model"
        # Held while it generates: rounds do not take the AI message's entry again meanwhile.
        assert _leased_for(world, ai_message) > timedelta(minutes=5)
        waits = []
        for _ in range(3):
            sms = _sms(world)
            worker.wake()
            waits.append(_until(lambda: status(world, sms)["status"] == "sent", HANG))  # noqa: B023
        print(f"\nSMS accepted→sent while the model hangs: median {statistics.median(waits):.3f} s")
        assert max(waits) < BOUND
        assert status(world, ai_message)["status"] != "awaiting_signoff"  # still generating
        release.set()
        _until(lambda: status(world, ai_message)["status"] == "awaiting_signoff", 10)
    finally:
        release.set()
        worker.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_celery_generates_on_its_own_queue_and_dispatch_does_not_wait_for_it(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:10]
    queues = {"dispatch": f"hcs-test-{suffix}", "ai": f"hcs-test-ai-{suffix}"}
    world = make_world(
        broker_url=REDIS, celery_queue=queues["dispatch"], celery_ai_queue=queues["ai"]
    )
    try:
        ai_template(world)
        published(world)
        settings = world.app.extensions["hcs"].settings
        env = worker_env(
            {
                "HCS_DATABASE_URL": settings.database_url,
                "HCS_SECRET_KEY": settings.secret_key,
                "HCS_VAR_DIR": str(settings.var_dir),
                "HCS_BROKER_URL": REDIS,
                "HCS_CELERY_QUEUE": queues["dispatch"],
                "HCS_CELERY_AI_QUEUE": queues["ai"],
                "HCS_SWEEP_SECONDS": "1",
            }
        )
        ai_message = send_ai(world)
        with celery_worker(env, tmp_path / "dispatch.log", _only("email,sms,chat,letter")):
            sms = _sms(world)
            # Generous bounds: a worker's start-up alone can take 20 s on a busy machine.
            wait_for(lambda: status(world, sms)["status"] == "sent", 90, "the SMS sent")
            # Dispatch handed the AI message to the AI queue, which no worker here consumes.
            assert status(world, ai_message)["status"] in ("accepted", "queued")
        with celery_worker(env, tmp_path / "ai.log", _only("ai")):
            wait_for(
                lambda: status(world, ai_message)["status"] == "awaiting_signoff",
                90,
                "the AI text generated on the AI queue",
            )
        assert "generate_signoff" in (tmp_path / "ai.log").read_text()
    finally:
        for queue in queues.values():
            purge_redis_queue(REDIS, queue)


def _only(lanes: str) -> list[str]:
    """`hcs worker --queues LANES` (solo pool)."""
    assert SOLO_WORKER.endswith("'--pool=solo')")
    return [sys.executable, "-c", SOLO_WORKER[:-1] + f", lanes={lanes.split(',')!r})"]
