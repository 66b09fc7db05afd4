"""`send_at` and cancelling: scheduled sends wait in the outbox; unsent ones can be cancelled."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from hcs.dispatch.queueing import QUEUED
from hcs.dispatch.rounds import claim
from hcs.infrastructure.db import transaction
from hcs.messages.cancelling import WAITING_IN_BROKER
from tests.support.flows import (
    ORDER,
    ai_template,
    dispatch,
    other_sender,
    published,
    send_ai,
    sent_bodies,
    status,
)
from tests.support.world import World


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def batch(n: int, **fields: Any) -> dict[str, Any]:
    item = {"to": {"email": "b@example.com"}, "data": {"order_id": "B", "first_name": "Bo"}}
    return {"template": "order-confirmation", "channel": "email", "messages": [item] * n, **fields}


def test_a_scheduled_message_waits_until_it_is_due(world: World) -> None:
    published(world)
    system = world.as_("system")
    due = datetime.now(UTC) + timedelta(seconds=2)
    accepted = system.post("/messages", {**ORDER, "send_at": due.isoformat()}).get_json()
    shown = system.get(f"/messages/{accepted['id']}").get_json()
    assert shown["status"] == "accepted"
    assert datetime.fromisoformat(shown["send_at"]) == due
    assert dispatch(world) == 0
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.2)
    assert dispatch(world) == 1
    assert system.get(f"/messages/{accepted['id']}").get_json()["status"] == "sent"


def test_send_at_in_the_past_sends_now_and_beyond_the_horizon_is_refused(world: World) -> None:
    published(world)
    system = world.as_("system")
    past = system.post("/messages", {**ORDER, "send_at": at(-timedelta(hours=1))})
    assert past.status_code == 202 and dispatch(world) == 1
    far = system.post("/messages", {**ORDER, "send_at": at(timedelta(days=31))})
    assert far.status_code == 422 and "send_at" in far.get_json()["errors"]
    far_batch = system.post("/messages/batch", batch(2, send_at=at(timedelta(days=31))))
    assert far_batch.status_code == 422 and "send_at" in far_batch.get_json()["errors"]
    naive = system.post("/messages", {**ORDER, "send_at": "2030-01-01T10:00:00"})
    assert naive.status_code == 422 and "send_at" in naive.get_json()["errors"]["json"]
    assert len(system.get("/messages").get_json()["items"]) == 1


def test_a_cancelled_message_is_never_sent_and_the_cancel_is_recorded(world: World) -> None:
    published(world)
    system = world.as_("system")
    message_id = system.post("/messages", ORDER).get_json()["id"]
    cancelled = system.post(f"/messages/{message_id}/cancel")
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    assert [e["kind"] for e in cancelled.get_json()["events"]] == ["accepted", "cancelled"]
    assert dispatch(world) == 0
    assert system.get(f"/messages/{message_id}").get_json()["status"] == "cancelled"
    again = system.post(f"/messages/{message_id}/cancel")
    assert again.status_code == 409
    audit = world.as_("aud@example.com").get("/audit?action=message.cancel").get_json()
    assert [(a["target"], a["actor"]) for a in audit] == [(message_id, "apikey:backend")]


def test_a_message_cannot_be_cancelled_once_a_worker_holds_it_or_it_was_sent(
    world: World,
) -> None:
    published(world)
    system = world.as_("system")
    taken = system.post("/messages", ORDER).get_json()["id"]
    with transaction(world.app.extensions["hcs"].sessions) as session:
        assert len(claim(session, owner="worker-1")) == 1
    refused = system.post(f"/messages/{taken}/cancel")
    assert refused.status_code == 409 and "sending" in str(refused.get_json())
    sent = system.post("/messages", {**ORDER, "data": {"order_id": "B", "first_name": "B"}})
    dispatch(world)
    assert system.post(f"/messages/{sent.get_json()['id']}/cancel").status_code == 409
    other_sender(world)
    assert world.as_("billing").post(f"/messages/{taken}/cancel").status_code == 404
    assert system.post("/messages/msg_nothing/cancel").status_code == 404


def test_a_batch_cancel_stops_what_has_not_gone_and_a_scheduled_batch_never_sends(
    world: World,
) -> None:
    published(world)
    system = world.as_("system")
    answer = system.post("/messages/batch", batch(3, send_at=at(timedelta(hours=1)))).get_json()
    batch_id = answer["batch_id"]
    assert dispatch(world) == 0
    other_sender(world)
    assert world.as_("billing").post(f"/batches/{batch_id}/cancel").status_code == 404
    cancelled = system.post(f"/batches/{batch_id}/cancel")
    assert cancelled.status_code == 200
    assert sorted(cancelled.get_json()["cancelled"]) == sorted(m["id"] for m in answer["messages"])
    assert system.get(f"/batches/{batch_id}").get_json()["counts"] == {"cancelled": 3}
    assert system.post(f"/batches/{batch_id}/cancel").status_code == 409
    audit = world.as_("aud@example.com").get("/audit?action=batch.cancel").get_json()
    assert audit[0]["target"] == batch_id and audit[0]["detail"]["cancelled"] == 3


def test_the_broker_lease_owner_is_the_one_cancelling_treats_as_waiting() -> None:
    assert WAITING_IN_BROKER == QUEUED


def test_cancelling_a_message_awaiting_sign_off_withdraws_its_item(world: World) -> None:
    ai_template(world)
    message_id = send_ai(world)
    dispatch(world)
    sam = world.as_("sam@example.com")
    (item,) = sam.get("/signoffs").get_json()
    assert world.as_("system").post(f"/messages/{message_id}/cancel").status_code == 200
    assert sam.get("/signoffs").get_json() == []  # no longer pending
    approving = sam.post(f"/signoffs/{item['id']}/approve", {})
    assert approving.status_code == 409
    withdrawn = sam.get(f"/signoffs/{item['id']}").get_json()
    assert withdrawn["status"] == "withdrawn"
    assert status(world, message_id)["status"] == "cancelled"
    assert dispatch(world) == 0 and sent_bodies(world) == []


def test_cancelling_a_batch_withdraws_the_sign_off_items_of_what_it_cancelled(
    world: World,
) -> None:
    ai_template(world)
    to, data = {"phone": "+447400123456"}, {"order_id": "A-1", "first_name": "Ana"}
    batch = world.as_("system").post(
        "/messages/batch",
        {
            "template": "order-thanks",
            "channel": "sms",
            "messages": [{"to": to, "data": data}, {"to": to, "data": data}],
        },
    )
    dispatch(world)
    sam = world.as_("sam@example.com")
    assert len(sam.get("/signoffs").get_json()) == 2
    batch_id = batch.get_json()["batch_id"]
    assert world.as_("system").post(f"/batches/{batch_id}/cancel").status_code == 200
    assert sam.get("/signoffs").get_json() == []
