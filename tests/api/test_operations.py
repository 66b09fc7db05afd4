"""Operations: /metrics in Prometheus text format, /healthz and /readyz with a broker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from hcs.worker.runtime import build_worker
from tests.support.brokers import REDIS
from tests.support.flows import ORDER, published
from tests.support.metrics import scrape, value
from tests.support.world import World, running


def test_metrics_count_accepts_renders_sends_archive_writes_and_the_queue(
    world: World,
) -> None:
    published(world)
    before = scrape(world)
    system = world.as_("system")
    for _ in range(2):
        assert system.post("/messages", ORDER).status_code == 202
    queued = scrape(world)
    assert value(queued, "hcs_queue_depth") == 2
    services = world.app.extensions["hcs"]
    assert build_worker(services.settings, services.sessions).run_once() == 2
    after = scrape(world)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("hcs_messages_accepted_total", channel="email", status="accepted") == 2
    assert grew("hcs_render_seconds_count", channel="email") == 2
    sent = {"channel": "email", "provider": "outbox", "outcome": "sent"}
    assert grew("hcs_sends_total", **sent) == 2
    assert grew("hcs_send_seconds_count", **sent) == 2
    assert grew("hcs_archive_writes_total", channel="email") == 2
    accepts = {"endpoint": "messages.Messages", "method": "POST", "status": "202"}
    assert grew("hcs_http_request_seconds_count", **accepts) == 2
    assert value(after, "hcs_queue_depth") == 0


@pytest.fixture
def broker_app(world: World, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """A second app on the world's database, with a broker."""
    settings = replace(world.app.extensions["hcs"].settings, broker_url=request.param)
    with running(settings, world.keys) as broker_world:
        yield broker_world.app


@pytest.mark.parametrize("broker_app", [REDIS], indirect=True, ids=["redis"])
def test_readyz_checks_the_broker_when_one_is_configured(broker_app: Flask) -> None:
    response = broker_app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok" and body["broker"] == {"state": "ok"}


@pytest.mark.parametrize("broker_app", ["redis://127.0.0.1:1/0"], indirect=True, ids=["redis-down"])
def test_a_broker_that_is_down_is_named_by_readyz_and_loses_no_send(
    world: World, broker_app: Flask
) -> None:
    response = broker_app.test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded" and body["broker"]["state"] == "down"
    assert body["database"] == "ok"
    published(world)
    key = {"Authorization": f"Bearer {world.keys['system']}"}
    accepted = broker_app.test_client().post("/api/v1/messages", json=ORDER, headers=key)
    assert accepted.status_code == 202  # committed; the worker's sweep queues it later
    assert value(scrape(world), "hcs_queue_depth") == 1
