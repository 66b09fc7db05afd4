"""`hcs.client` against a live HCS on loopback, retries against a loopback stand-in."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook

from hcs.client import Client, HCSError, WebhookVerificationError, verify_webhook
from tests.support.callbacks import deliver, received, receiver_url
from tests.support.flows import ORDER, dispatch, published
from tests.support.server import serving
from tests.support.world import World


def test_importing_the_client_loads_no_server_code() -> None:
    probe = (
        "import sys, hcs.client; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'celery', 'marshmallow', 'templates_store', 'channels') "
        "or (m.startswith('hcs.') and m != 'hcs.client')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_the_client_sends_reads_lists_and_cancels_on_a_live_server(world: World) -> None:
    published(world)
    with serving(world.app) as url, Client(url, world.keys["system"]) as hcs:
        first = hcs.send(
            "order-confirmation",
            "email",
            ORDER["to"],
            ORDER["data"],
            reference="order-A-1001",
            metadata={"cart": 3},
        )
        assert first["status"] == "accepted" and first["reference"] == "order-A-1001"
        same = hcs.send(
            "order-confirmation", "email", ORDER["to"], ORDER["data"], idempotency_key="k-1"
        )
        assert (
            hcs.send(
                "order-confirmation", "email", ORDER["to"], ORDER["data"], idempotency_key="k-1"
            )
            == same
        )
        later = hcs.send(
            "order-confirmation",
            "email",
            ORDER["to"],
            ORDER["data"],
            send_at=datetime.now(UTC) + timedelta(hours=1),
        )
        batch = hcs.send_batch(
            "order-confirmation", "email", [{"to": ORDER["to"], "data": ORDER["data"]}] * 3
        )
        listed = list(hcs.list(page_size=2))
        assert {m["id"] for m in listed[:3]} == {m["id"] for m in batch["messages"]}
        assert len(listed) == 6 and len({m["id"] for m in listed}) == 6
        assert [m["id"] for m in hcs.list(reference="order-A-1001")] == [first["id"]]
        assert hcs.get(first["id"])["metadata"] == {"cart": 3}
        assert hcs.cancel(later["id"])["status"] == "cancelled"
        assert hcs.batch(batch["batch_id"])["counts"] == {"accepted": 3}
        assert dispatch(world) == 5
        with pytest.raises(HCSError) as refused:
            hcs.cancel(first["id"])
        assert refused.value.status == 409
        with pytest.raises(HCSError) as invalid:
            hcs.send("order-confirmation", "email", {"email": "nope"}, ORDER["data"])
        assert invalid.value.status == 422 and "to.email" in invalid.value.errors


def test_a_send_is_retried_after_retry_after_with_the_same_idempotency_key(
    httpserver: HTTPServer,
) -> None:
    busy = {"code": 503, "status": "Service Unavailable"}
    httpserver.expect_ordered_request("/api/v1/messages", method="POST").respond_with_json(
        busy, status=503, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/api/v1/messages", method="POST").respond_with_json(
        {"id": "msg_1", "status": "accepted"}, status=202
    )
    with Client(httpserver.url_for("/"), "key") as hcs:
        started = time.monotonic()
        assert hcs.send("t-1", "sms", {"phone": "+447400123456"})["id"] == "msg_1"
        assert time.monotonic() - started >= 1.0
    keys = [request.headers["Idempotency-Key"] for request, _ in httpserver.log]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_adding_a_webhook_is_retried_with_one_idempotency_key(httpserver: HTTPServer) -> None:
    """The first answer is lost (the connection drops): the retry carries the same key, so the
    server replays the endpoint it made instead of making a second one."""
    made = {"id": "whe_1", "url": "https://shop.example/hook", "events": ["sent"]}
    httpserver.expect_ordered_request("/api/v1/webhooks", method="POST").respond_with_json(
        {"code": 503, "status": "Service Unavailable"}, status=503, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/api/v1/webhooks", method="POST").respond_with_json(
        made, status=201
    )
    with Client(httpserver.url_for("/"), "key") as hcs:
        assert hcs.add_webhook("https://shop.example/hook", ["sent"])["id"] == "whe_1"
    keys = [request.headers.get("Idempotency-Key") for request, _ in httpserver.log]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]


def test_a_retry_after_beyond_the_bound_is_not_waited_for(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/messages/msg_1").respond_with_json(
        {"code": 429, "status": "Too Many Requests"}, status=429, headers={"Retry-After": "600"}
    )
    with Client(httpserver.url_for("/"), "key", max_wait=5) as hcs:
        started = time.monotonic()
        with pytest.raises(HCSError) as limited:
            hcs.get("msg_1")
        assert limited.value.status == 429 and time.monotonic() - started < 2
    assert len(httpserver.log) == 1


def test_webhook_signatures_made_by_the_reference_library_verify() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = json.dumps({"type": "message.sent", "data": {"id": "msg_1"}})
    moment = datetime.now(UTC)
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign("evt_1", moment, body),
    }
    assert verify_webhook(body, headers, secret)["data"]["id"] == "msg_1"
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body.replace("msg_1", "msg_2"), headers, secret)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, headers, secret, now=moment.timestamp() + 600)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, {**headers, "webhook-id": "evt_2"}, secret)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, {"webhook-id": "evt_1"}, secret)


def test_the_client_manages_callbacks_and_verifies_what_arrives(
    make_world: Callable[..., World], httpserver: HTTPServer
) -> None:
    world = make_world(webhook_allowed_hosts=("127.0.0.1",))
    published(world)
    httpserver.expect_request("/hook").respond_with_data("ok")
    with serving(world.app) as url, Client(url, world.keys["system"]) as hcs:
        made = hcs.add_webhook(receiver_url(httpserver), ["sent"], description="shop")
        assert [w["id"] for w in hcs.webhooks()] == [made["id"]]
        assert hcs.send_test_event(made["id"])["succeeded"] is True
        rotated = hcs.rotate_webhook_secret(made["id"], grace_seconds=0)
        sent = hcs.send("order-confirmation", "email", ORDER["to"], ORDER["data"])
        dispatch(world)
        assert deliver(world) == 1
        test_event, sent_event = received(httpserver)
        assert verify_webhook(test_event.get_data(), test_event.headers, made["secret"])
        body = verify_webhook(sent_event.get_data(), sent_event.headers, rotated["secret"])
        assert body["data"]["id"] == sent["id"]
        with pytest.raises(WebhookVerificationError):
            verify_webhook(sent_event.get_data(), sent_event.headers, made["secret"])
        assert len(hcs.webhook_attempts(made["id"])) == 2
        assert hcs.update_webhook(made["id"], enabled=False)["enabled"] is False
        hcs.remove_webhook(made["id"])
        assert hcs.webhooks() == []
