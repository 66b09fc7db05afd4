"""Status callbacks: endpoints per caller, signed deliveries from an outbox, retries, limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from channels.core import DeliveryEvent, EventKind
from hcs.callbacks.models import WebhookDelivery, WebhookEndpoint
from hcs.client import verify_webhook
from hcs.dispatch.callbacks import forget_finished
from hcs.infrastructure.db import transaction
from hcs.messages.cancelling import cancel_many
from hcs.messages.events import record_delivery_events
from hcs.worker.runtime import build_worker
from tests.support.callbacks import deliver, received, receiver_url, verified
from tests.support.flows import ORDER, dispatch, other_sender, published
from tests.support.world import World

DEV = {"webhook_allowed_hosts": ("127.0.0.1",)}


@pytest.fixture
def dev_world(make_world: Callable[..., World]) -> World:
    """A world whose development allowlist lets callbacks reach the loopback receiver."""
    world = make_world(**DEV)
    published(world)
    return world


def register(world: World, url: str, events: list[str], who: str = "system") -> dict:
    answer = world.as_(who).post("/webhooks", {"url": url, "events": events})
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json())


def deliveries(world: World) -> list[WebhookDelivery]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        found = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        session.expunge_all()
        return list(found)


def test_a_sent_message_is_reported_signed_and_an_independent_check_verifies_it(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted", "sent", "delivered"])
    assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == [
        "accepted",
        "delivered",
        "sent",
    ]
    sent = dev_world.as_("system").post("/messages", {**ORDER, "reference": "order-77"})
    message_id = sent.get_json()["id"]
    assert [d.event for d in deliveries(dev_world)] == ["accepted"]  # written with the message
    assert dispatch(dev_world) == 1
    assert deliver(dev_world) == 2
    bodies = [verified(r, endpoint["secret"]) for r in received(httpserver)]
    assert [b["type"] for b in bodies] == ["message.accepted", "message.sent"]
    assert {b["data"]["id"] for b in bodies} == {message_id}
    assert bodies[1]["data"]["reference"] == "order-77" and bodies[1]["data"]["status"] == "sent"
    assert "to" not in bodies[1]["data"]  # no recipient rides along
    assert deliver(dev_world) == 0  # nothing is delivered twice
    attempts = dev_world.as_("system").get(f"/webhooks/{endpoint['id']}/attempts").get_json()
    assert [a["succeeded"] for a in attempts] == [True, True]
    assert {a["delivery_state"] for a in attempts} == {"delivered"}


def test_a_failing_endpoint_is_retried_with_the_same_id_until_it_answers(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=204)
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted"])
    dev_world.as_("system").post("/messages", ORDER)
    assert deliver(dev_world, backoff_seconds=60) == 1
    assert deliver(dev_world, backoff_seconds=60) == 0  # not due before its backoff
    (waiting,) = deliveries(dev_world)
    assert waiting.state == "pending" and waiting.attempts == 1
    assert 50 < (waiting.available_at - waiting.occurred_at).total_seconds() < 70
    with transaction(dev_world.app.extensions["hcs"].sessions) as session:
        session.get(WebhookDelivery, waiting.id).available_at = waiting.occurred_at  # type: ignore[union-attr]
    assert deliver(dev_world) == 1
    first, second = received(httpserver)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert verified(second, endpoint["secret"])["type"] == "message.accepted"
    attempts = dev_world.as_("system").get(f"/webhooks/{endpoint['id']}/attempts").get_json()
    assert [(a["status_code"], a["succeeded"]) for a in attempts] == [(204, True), (500, False)]


def test_a_delivery_fails_for_good_after_the_retry_horizon(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    register(dev_world, receiver_url(httpserver), ["accepted"])
    dev_world.as_("system").post("/messages", ORDER)
    deliver(dev_world, horizon=timedelta(seconds=1))
    (failed,) = deliveries(dev_world)
    assert failed.state == "failed" and failed.done_at is not None


def test_an_endpoint_that_does_not_answer_in_time_is_tried_again_later(
    make_world: Callable[..., World], httpserver: HTTPServer
) -> None:
    world = make_world(**DEV, webhook_timeout=0.3)
    published(world)

    answer = threading.Event()

    def slow(request: Request) -> Response:
        answer.wait(5.0)  # answers only when the test lets it (or after 5 s)
        return Response("late")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    endpoint = register(world, receiver_url(httpserver), ["accepted"])
    world.as_("system").post("/messages", ORDER)
    started = time.monotonic()
    assert deliver(world) == 1
    # Back while the endpoint still holds its answer (0.3 s, with room for a loaded machine).
    assert time.monotonic() - started < 3.0
    answer.set()  # the late answer comes now, inside this test, not in the next test's log
    deadline = time.monotonic() + 5
    while not received(httpserver) and time.monotonic() < deadline:
        time.sleep(0.01)
    (attempt,) = world.as_("system").get(f"/webhooks/{endpoint['id']}/attempts").get_json()
    assert attempt["error"] == "timed out" and attempt["status_code"] is None
    assert attempt["delivery_state"] == "pending" and attempt["next_attempt_at"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@example.com/hook",
        "ftp://example.com/hook",
    ],
)
def test_a_private_or_plain_destination_is_refused_and_nothing_is_registered(
    world: World, url: str
) -> None:
    answer = world.as_("system").post("/webhooks", {"url": url, "events": ["sent"]})
    assert answer.status_code == 422 and "url" in answer.get_json()["errors"]
    assert world.as_("system").get("/webhooks").get_json() == []


def test_a_destination_that_turned_private_is_refused_at_delivery(
    dev_world: World, httpserver: HTTPServer
) -> None:
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted"])
    dev_world.as_("system").post("/messages", ORDER)
    assert deliver(dev_world, allow=()) == 1  # as if the allowlist were gone, or DNS changed
    assert received(httpserver) == []
    (attempt,) = dev_world.as_("system").get(f"/webhooks/{endpoint['id']}/attempts").get_json()
    assert attempt["error"].startswith("destination refused")


def test_a_redirect_is_not_followed(dev_world: World, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data(
        "", status=307, headers={"Location": receiver_url(httpserver, "/elsewhere")}
    )
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted"])
    dev_world.as_("system").post("/messages", ORDER)
    deliver(dev_world)
    assert len(received(httpserver)) == 1 and received(httpserver, "/elsewhere") == []
    (attempt,) = dev_world.as_("system").get(f"/webhooks/{endpoint['id']}/attempts").get_json()
    assert attempt["status_code"] == 307 and not attempt["succeeded"]


def test_a_rotated_secret_signs_and_the_old_one_only_during_its_grace(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted"])
    system, path = dev_world.as_("system"), f"/webhooks/{endpoint['id']}"
    rotated = system.post(f"{path}/rotate", {"grace_seconds": 3600}).get_json()
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_until"]
    system.post("/messages", ORDER)
    deliver(dev_world)
    (during,) = received(httpserver)
    assert verified(during, endpoint["secret"]) == verified(during, rotated["secret"])
    again = system.post(f"{path}/rotate").get_json()  # no grace unless asked
    system.post("/messages", ORDER)
    deliver(dev_world)
    after = received(httpserver)[1]
    verified(after, again["secret"])
    with pytest.raises(AssertionError):
        verified(after, rotated["secret"], endpoint["secret"])
    assert "secret" not in system.get(path).get_json()


def test_a_secret_is_stored_encrypted(dev_world: World, httpserver: HTTPServer) -> None:
    endpoint = register(dev_world, receiver_url(httpserver), ["sent"])
    with transaction(dev_world.app.extensions["hcs"].sessions) as session:
        stored = session.get(WebhookEndpoint, endpoint["id"])
        assert stored is not None
        assert endpoint["secret"].encode() not in stored.secret
        assert endpoint["secret"].removeprefix("whsec_").encode() not in stored.secret


def test_another_caller_can_neither_see_nor_change_an_endpoint_nor_hear_of_its_messages(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted"])
    other_sender(dev_world)
    billing, path = dev_world.as_("billing"), f"/webhooks/{endpoint['id']}"
    assert billing.get("/webhooks").get_json() == []
    assert billing.get(path).status_code == 404
    assert billing.patch(path, {"enabled": False}).status_code == 404
    assert billing.post(f"{path}/rotate", {}).status_code == 404
    assert billing.post(f"{path}/test").status_code == 404
    assert billing.get(f"{path}/attempts").status_code == 404
    assert billing.delete(path).status_code == 404
    billing.post("/messages", ORDER)  # billing's message: not the system key's to hear of
    assert deliver(dev_world) == 0 and received(httpserver) == []
    assert dev_world.as_("system").get(path).get_json()["enabled"] is True


def test_the_test_event_is_sent_now_and_listed(dev_world: World, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = register(dev_world, receiver_url(httpserver), ["failed"])
    answer = dev_world.as_("system").post(f"/webhooks/{endpoint['id']}/test")
    assert answer.status_code == 200 and answer.get_json()["succeeded"] is True
    (request,) = received(httpserver)
    assert verified(request, endpoint["secret"])["type"] == "webhook.test"


def test_a_paused_endpoint_is_owed_nothing_and_a_removed_one_loses_what_it_was_owed(
    dev_world: World, httpserver: HTTPServer
) -> None:
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted"])
    system, path = dev_world.as_("system"), f"/webhooks/{endpoint['id']}"
    assert system.patch(path, {"enabled": False}).get_json()["enabled"] is False
    system.post("/messages", ORDER)
    assert deliveries(dev_world) == []
    assert system.post(f"{path}/test").status_code == 409
    system.patch(path, {"enabled": True, "events": ["accepted", "cancelled"]})
    message_id = system.post("/messages", ORDER).get_json()["id"]
    system.post(f"/messages/{message_id}/cancel")
    assert [d.event for d in deliveries(dev_world)] == ["accepted", "cancelled"]
    assert system.delete(path).status_code == 204
    assert deliveries(dev_world) == [] and system.get(path).status_code == 404


def test_events_are_checked_and_named(world: World) -> None:
    answer = world.as_("system").post(
        "/webhooks", {"url": "https://example.com/hook", "events": ["shipped"]}
    )
    assert answer.status_code == 422 and "events" in answer.get_json()["errors"]["json"]
    empty = world.as_("system").post("/webhooks", {"url": "https://example.com/h", "events": []})
    assert empty.status_code == 422


def test_the_in_process_worker_delivers_callbacks_on_a_thread_of_its_own(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted", "sent"])
    message_id = dev_world.as_("system").post("/messages", ORDER).get_json()["id"]
    services = dev_world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    worker.idle_seconds = 0.05
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while len(received(httpserver)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    bodies = [
        verify_webhook(r.get_data(), dict(r.headers), endpoint["secret"])
        for r in received(httpserver)
    ]
    assert [(b["type"], b["data"]["id"]) for b in bodies] == [
        ("message.accepted", message_id),
        ("message.sent", message_id),
    ]


def test_provider_reports_owe_delivered_opened_and_clicked_once_each(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = register(dev_world, receiver_url(httpserver), ["delivered", "opened", "clicked"])
    message_id = dev_world.as_("system").post("/messages", ORDER).get_json()["id"]
    dispatch(dev_world)
    services = dev_world.app.extensions["hcs"]
    reports = [
        DeliveryEvent(
            kind, "outbox", None, None, None, reference=message_id, data={"sg_event_id": n}
        )
        for n, kind in (
            ("1", EventKind.DELIVERED),
            ("2", EventKind.OPENED),
            ("3", EventKind.CLICKED),
        )
    ]
    for _ in range(2):  # a provider that reports twice owes nothing more
        with transaction(services.sessions) as session:
            record_delivery_events(session, reports, provider="outbox")
    assert deliver(dev_world) == 3
    kinds = [verified(r, endpoint["secret"])["type"] for r in received(httpserver)]
    assert sorted(kinds) == ["message.clicked", "message.delivered", "message.opened"]


def test_finished_deliveries_are_forgotten_after_a_month(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint = register(dev_world, receiver_url(httpserver), ["accepted"])
    dev_world.as_("system").post("/messages", ORDER)
    dev_world.as_("system").post("/messages", ORDER)
    deliver(dev_world)
    sessions = dev_world.app.extensions["hcs"].sessions
    with transaction(sessions) as session:
        first = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).first()
        assert first is not None
        first.done_at = first.done_at - timedelta(days=31)  # type: ignore[operator]
    with transaction(sessions) as session:
        assert forget_finished(session) == 1
    attempts = dev_world.as_("system").get(f"/webhooks/{endpoint['id']}/attempts").get_json()
    assert len(attempts) == 1 and len(deliveries(dev_world)) == 1


def test_a_change_that_rolls_back_owes_no_callback(
    dev_world: World, httpserver: HTTPServer
) -> None:
    register(dev_world, receiver_url(httpserver), ["accepted", "cancelled"])
    message_id = dev_world.as_("system").post("/messages", ORDER).get_json()["id"]
    sessions = dev_world.app.extensions["hcs"].sessions
    with sessions() as session:
        cancel_many(session, [message_id], actor="apikey:backend")
        owed = session.scalars(select(WebhookDelivery.event)).all()
        assert sorted(owed) == ["accepted", "cancelled"]  # inside the transaction
        session.rollback()
    assert [d.event for d in deliveries(dev_world)] == ["accepted"]
    assert deliver(dev_world) == 1 and len(received(httpserver)) == 1


def test_two_workers_at_once_deliver_each_callback_once(
    dev_world: World, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    register(dev_world, receiver_url(httpserver), ["accepted"])
    batch = [{"to": ORDER["to"], "data": ORDER["data"]}] * 30
    body = {"template": ORDER["template"], "channel": ORDER["channel"], "messages": batch}
    assert dev_world.as_("system").post("/messages/batch", body).status_code == 202
    for _ in range(5):  # 30 deliveries, 20 to a round: a few rounds of two racing workers
        rounds = [threading.Thread(target=deliver, args=(dev_world,)) for _ in range(2)]
        for thread in rounds:
            thread.start()
        for thread in rounds:
            thread.join(30)
    assert {d.state for d in deliveries(dev_world)} == {"delivered"}
    ids = [r.headers["webhook-id"] for r in received(httpserver)]
    assert len(ids) == 30 and len(set(ids)) == 30
