"""Health for load balancers: /healthz is the process and the database; /readyz tells the rest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from hcs.worker.runtime import build_worker
from tests.support.flows import ORDER, published
from tests.support.server import free_port
from tests.support.world import World, running


@pytest.fixture
def brokerless(world: World) -> Iterator[Flask]:
    """An app on the world's database whose HCS_BROKER_URL points at a closed port."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = replace(world.app.extensions["hcs"].settings, broker_url=url)
    with running(settings, world.keys) as broken:
        yield broken.app


def test_a_broker_outage_keeps_healthz_and_readyz_at_200_and_readyz_names_it(
    world: World, brokerless: Flask
) -> None:
    client = brokerless.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "database": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200  # the API still accepts into the outbox
    detail = ready.get_json()
    assert detail["status"] == "degraded" and detail["database"] == "ok"
    assert detail["broker"]["state"] == "down" and detail["broker"]["error"]
    published(world)
    key = {"Authorization": f"Bearer {world.keys['system']}"}
    assert client.post("/api/v1/messages", json=ORDER, headers=key).status_code == 202


def test_readyz_reports_no_worker_until_one_beats_then_its_age(world: World) -> None:
    client = world.app.test_client()
    before = client.get("/readyz").get_json()
    assert before["broker"] == {"state": "none"}  # no broker configured: in-process sending
    assert before["workers"] == {"state": "none", "count": 0}
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    worker.beat()
    after = client.get("/readyz")
    assert after.status_code == 200
    workers = after.get_json()["workers"]
    assert workers["state"] == "ok" and workers["count"] == 1
    assert 0 <= workers["last_beat_seconds_ago"] < 30
    assert after.get_json()["status"] == "ok"
