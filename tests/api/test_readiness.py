"""Health for load balancers: /healthz is the process and the database; /readyz tells the rest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from hcs import archive
from hcs.dispatch.backfill import archive_missed
from hcs.dispatch.providers import build_providers
from hcs.infrastructure.db import transaction
from hcs.worker.runtime import build_worker
from templates_store.orm import utcnow
from tests.support.flows import ORDER, dispatch, published
from tests.support.metrics import scrape, value
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


def _sent_without_archive(world: World, hours_ago: float) -> str:
    """A message sent by a worker that archives nothing (as one whose archive is down)."""
    published(world)
    key = {"Authorization": f"Bearer {world.keys['system']}"}
    answer = world.app.test_client().post("/api/v1/messages", json=ORDER, headers=key)
    message_id = str(answer.get_json()["id"])
    assert dispatch(world) == 1
    sent_at = utcnow() - timedelta(hours=hours_ago)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        session.execute(
            text("UPDATE messages SET sent_at = :at WHERE id = :id"),
            {"at": sent_at, "id": message_id},
        )
    return message_id


def test_a_send_unarchived_past_the_bound_makes_readyz_503_naming_the_lag(
    world: World,
) -> None:
    _sent_without_archive(world, hours_ago=2)
    ready = world.app.test_client().get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["down"] == ["archive"] and body["archive"]["state"] == "lagging"
    assert body["archive"]["unarchived"] == 1 and body["archive"]["max_seconds"] == 3600
    assert 7190 < body["archive"]["oldest_unarchived_seconds"] < 7300
    metrics = scrape(world)
    assert value(metrics, "hcs_archive_backlog", stage="archive") == 1
    assert 7190 < value(metrics, "hcs_archive_lag_seconds", stage="archive") < 7300


def test_within_the_bound_the_lag_is_shown_and_readyz_stays_ready(
    make_world: Callable[..., World],
) -> None:
    world = make_world(archive_lag_max=timedelta(hours=3))
    _sent_without_archive(world, hours_ago=2)
    ready = world.app.test_client().get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["archive"]["state"] == "ok"
    services = world.app.extensions["hcs"]
    keys = archive.keyring(services.settings)
    assert archive_missed(services.sessions, build_providers(services.settings), keys=keys) == 1
    lag = world.app.test_client().get("/readyz").get_json()["archive"]
    assert lag["unarchived"] == 0 and lag["unsealed"] == 1
    assert 7190 < lag["oldest_unsealed_seconds"] < 7300  # counted from the send
    with transaction(services.sessions) as session:
        archive.seal_archive(session)
    lag = world.app.test_client().get("/readyz").get_json()["archive"]
    assert (lag["unsealed"], lag["oldest_unsealed_seconds"]) == (0, 0)
    assert value(scrape(world), "hcs_archive_backlog", stage="seal") == 0


def test_the_lag_bound_can_be_turned_off(make_world: Callable[..., World]) -> None:
    world = make_world(archive_lag_max=None)
    _sent_without_archive(world, hours_ago=30)
    ready = world.app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["archive"]["max_seconds"] is None
