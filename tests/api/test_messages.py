"""Sending through the API: accept once, dispatch once, read back status and events."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select, update

from hcs.infrastructure.db import transaction
from hcs.messages import idempotency
from hcs.messages.models import IdempotencyRecord
from templates_store.orm import utcnow
from tests.support.flows import ORDER, dispatch, new_template, published, reviewed
from tests.support.statements import statements
from tests.support.world import World


def test_an_accepted_email_is_sent_once_and_lands_in_the_outbox(world: World) -> None:
    published(world)
    system = world.as_("system")
    accepted = system.post("/messages", ORDER)
    assert accepted.status_code == 202 and accepted.get_json()["status"] == "accepted"
    message_id = accepted.get_json()["id"]
    assert dispatch(world) == 1
    assert dispatch(world) == 0
    message = world.as_("root@example.com").get(f"/messages/{message_id}").get_json()
    assert message["status"] == "sent" and message["provider"] == "outbox"
    assert [e["kind"] for e in message["events"]] == ["accepted", "sent"]
    eml = world.app.extensions["hcs"].settings.outbox_dir / "email" / f"{message_id}.eml"
    sent = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert sent["To"] == "Ana Ruiz <customer@example.com>"
    assert sent["Subject"] == "Your order A-1001"
    assert "Hi Ana, order A-1001 is confirmed." in sent.get_body(("html",)).get_content()


def test_the_same_idempotency_key_and_body_creates_nothing_new(world: World) -> None:
    published(world)
    system = world.as_("system")
    first = system.post("/messages", ORDER, headers={"Idempotency-Key": "order-A-1001"})
    again = system.post("/messages", ORDER, headers={"Idempotency-Key": "order-A-1001"})
    assert again.status_code == 202 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    other = system.post(
        "/messages",
        {**ORDER, "data": {"order_id": "B-2", "first_name": "Bo"}},
        headers={"Idempotency-Key": "order-A-1001"},
    )
    assert other.status_code == 409
    assert dispatch(world) == 1


def test_a_send_names_the_bad_field_and_changes_nothing(world: World) -> None:
    published(world)
    system = world.as_("system")
    wrong = system.post("/messages", {**ORDER, "data": {"order_id": 17}})
    assert wrong.status_code == 422
    assert set(wrong.get_json()["errors"]) == {"data.order_id", "data.first_name"}
    bad_to = system.post("/messages", {**ORDER, "to": {"email": "not-an-address"}})
    assert bad_to.status_code == 422 and "to.email" in bad_to.get_json()["errors"]
    assert dispatch(world) == 0


def test_sends_need_a_published_sendable_version(world: World) -> None:
    new_template(world)
    system = world.as_("system")
    assert system.post("/messages", ORDER).status_code == 409
    assert system.post("/messages", {**ORDER, "version": 1}).status_code == 409
    assert system.post("/messages", {**ORDER, "template": "nope-nope"}).status_code == 404
    reviewed(world, "order-confirmation", 1, "lee@example.com")
    pinned = system.post("/messages", {**ORDER, "version": 1})
    assert pinned.status_code == 202
    world.as_("lee@example.com").post("/templates/order-confirmation/retire")
    assert system.post("/messages", {**ORDER, "version": 1}).status_code == 409
    dispatch(world)
    after = world.as_("root@example.com").get(f"/messages/{pinned.get_json()['id']}").get_json()
    assert after["status"] == "failed" and "retired" in after["reason"]


def test_marketing_needs_an_opt_in_and_an_opt_out_suppresses(world: World) -> None:
    published(world, key="sms-offers", category="service")
    system = world.as_("system")
    sms = {
        "template": "sms-offers",
        "channel": "sms",
        "to": {"phone": "+447400123456"},
        "data": {"order_id": "A-1", "first_name": "Ana"},
    }
    assert system.post("/messages", sms).get_json()["status"] == "accepted"
    choice = system.post(
        "/recipients/+447400123456/preferences",
        {"channel": "sms", "category": "service", "status": "opted_out"},
    )
    assert choice.status_code == 200
    suppressed = system.post("/messages", sms).get_json()
    assert suppressed["status"] == "suppressed"
    message = world.as_("root@example.com").get(f"/messages/{suppressed['id']}").get_json()
    assert "opted out of service" in message["reason"]


def test_a_batch_is_accepted_whole_or_refused_naming_the_message(world: World) -> None:
    published(world)
    system = world.as_("system")
    good = [
        {"to": {"email": f"c{i}@example.com"}, "data": {"order_id": f"A-{i}", "first_name": "Ana"}}
        for i in range(25)
    ]
    bad = [*good, {"to": {"email": "c@example.com"}, "data": {"order_id": "X"}}]
    refused = system.post(
        "/messages/batch", {"template": "order-confirmation", "channel": "email", "messages": bad}
    )
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["messages.25.data.first_name"]
    batch = system.post(
        "/messages/batch", {"template": "order-confirmation", "channel": "email", "messages": good}
    )
    assert batch.status_code == 202 and len(batch.get_json()["messages"]) == 25
    sent = 0
    while handled := dispatch(world):
        sent += handled
    assert sent == 25


@pytest.mark.parametrize("channel", ["sms"])
def test_sms_output_is_the_rendered_body_to_an_e164_number(world: World, channel: str) -> None:
    published(world)
    accepted = (
        world.as_("system")
        .post("/messages", {**ORDER, "channel": channel, "to": {"phone": "+44 7400 123456"}})
        .get_json()
    )
    dispatch(world)
    lines = (world.app.extensions["hcs"].settings.outbox_dir / "sms.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["to"] == "+447400123456" and record["body"] == "Order A-1001 is confirmed."
    assert record["reference"] == accepted["id"]


def test_expired_idempotency_keys_are_purged_through_their_index(world: World) -> None:
    """Keys older than the retention go, newer ones stay, and the purge reads only the expired
    ones (by `created_at`'s index) rather than every key the API ever kept."""
    published(world)
    system, services = world.as_("system"), world.app.extensions["hcs"]
    for key in ("old-1", "new-1"):
        answer = system.post("/messages", ORDER, headers={"Idempotency-Key": key})
        assert answer.status_code == 202
    with transaction(services.sessions) as session:
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "old-1")
            .values(created_at=utcnow() - idempotency.KEEP_FOR - timedelta(minutes=1))
        )
    with statements(services.engine) as seen, transaction(services.sessions) as session:
        assert idempotency.purge(session) == 1
    with services.sessions() as session:
        assert list(session.scalars(select(IdempotencyRecord.key))) == ["new-1"]
    if services.engine.dialect.name == "sqlite":
        purge = next(s for s in seen if s.lstrip().startswith("DELETE"))
        with services.engine.connect() as connection:
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + purge, (utcnow().isoformat(" "),)
            ).all()
        assert not [row for row in plan if str(row[-1]).startswith("SCAN")], plan
