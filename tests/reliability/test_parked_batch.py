"""Reports that come before `sent` of a batched call: each applies to its own message only.

A batched SendGrid call gives every message in it one provider id (the request's
`X-Message-Id`); the reports parked under that id name their message by our reference.
"""

from __future__ import annotations

from sqlalchemy import select, update

from channels.core import DeliveryEvent, EventKind
from hcs.dispatch.recording_many import Taken, record_sent_many
from hcs.infrastructure.db import transaction
from hcs.messages.events import record_delivery_events
from hcs.messages.models import Message, MessageEvent, OutboxEntry
from tests.support.flows import ORDER, published
from tests.support.world import World

CALL = "sg-request-1"


def accept(world: World) -> str:
    answer = world.as_("system").post("/messages", ORDER)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def delivered(reference: str) -> DeliveryEvent:
    return DeliveryEvent(
        kind=EventKind.DELIVERED,
        provider="sendgrid",
        provider_message_id=CALL,
        recipient=None,
        occurred_at=None,
        reference=reference,
        data={"event": "delivered", "sg_event_id": f"delivered-{reference}"},
    )


def test_reports_parked_under_a_batched_calls_id_reach_each_its_own_message(
    world: World,
) -> None:
    published(world)
    ids = [accept(world), accept(world)]
    sessions = world.app.extensions["hcs"].sessions
    with transaction(sessions) as session:  # taken into `sending` by one call's worker
        session.execute(update(Message).where(Message.id.in_(ids)).values(status="sending"))
    with transaction(sessions) as session:  # SendGrid reports before the worker records `sent`
        record_delivery_events(session, [delivered(i) for i in ids], provider="sendgrid")
    with transaction(sessions) as session:
        entries = session.execute(
            select(OutboxEntry.id, OutboxEntry.message_id, OutboxEntry.lease_token).where(
                OutboxEntry.message_id.in_(ids)
            )
        ).all()
        taken = [Taken(entry, message, token, CALL) for entry, message, token in entries]
        assert record_sent_many(session, taken, "sendgrid") == set(ids)
    with transaction(sessions) as session:
        query = select(Message.id, Message.status).where(Message.id.in_(ids))
        statuses = {message_id: str(status) for message_id, status in session.execute(query)}
        reports = session.scalars(
            select(MessageEvent.message_id).where(
                MessageEvent.message_id.in_(ids), MessageEvent.kind == "delivered"
            )
        ).all()
    assert statuses == dict.fromkeys(ids, "delivered")
    assert sorted(reports) == sorted(ids)  # one report each, none on the wrong message
