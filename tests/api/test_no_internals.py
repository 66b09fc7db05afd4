"""No internals outward: no SQL in message events, no address in logs, no metrics to the public."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from hcs.dispatch.providers import build_providers
from hcs.http.api import recipients
from hcs.worker.runtime import Worker
from tests.support.flows import ORDER, published
from tests.support.world import World

TOKEN = "a-long-metrics-token"


def test_a_failed_archive_write_leaves_no_sql_and_no_address_in_the_events(world: World) -> None:
    published(world)
    sent = world.as_("system").post("/messages", ORDER)
    assert sent.status_code == 202
    services = world.app.extensions["hcs"]

    def failing_archive(session: Session, done: Sequence[object]) -> None:
        session.execute(text("INSERT INTO no_such_table VALUES (:to)"), {"to": "ana@example.com"})

    worker = Worker(services.sessions, build_providers(services.settings), on_sent=failing_archive)
    assert worker.run_once() == 1
    message = world.as_("system").get(f"/messages/{sent.get_json()['id']}").get_json()
    events = json.dumps(message["events"])
    assert "archive_failed" in events
    for leak in ("INSERT", "no_such_table", "SQL", "ana@example.com", "parameters"):
        assert leak not in events, leak


def test_the_log_of_a_failure_on_an_address_in_the_path_names_the_route_not_the_address(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(session: Session, key: str) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(recipients, "preferences", broken)
    world.app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        answer = world.as_("system").get("/recipients/ana.ruiz@example.com/preferences")
    assert answer.status_code == 500
    logged = [record.getMessage() for record in caplog.records]
    assert any("/api/v1/recipients/<recipient>/preferences" in line for line in logged), logged
    assert not any("ana.ruiz" in line for line in logged)


def _scrape(world: World, **headers: str) -> int:
    answer = world.app.test_client().get("/metrics", headers=headers)
    return int(answer.status_code)


def test_metrics_need_the_bearer_token_when_one_is_set(make_world: Callable[..., World]) -> None:
    world = make_world(metrics_token=TOKEN)
    assert _scrape(world) == 401
    assert _scrape(world, Authorization="Bearer wrong") == 401
    assert _scrape(world, Authorization=f"Basic {TOKEN}") == 401
    assert _scrape(world, Authorization=f"Bearer {TOKEN}") == 200


def test_without_a_token_metrics_are_served_only_on_loopback(world: World) -> None:
    client = world.app.test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics").status_code == 200
