"""A batched provider call whose lease on one message passed to another claim before its record.

Between the call that carried several messages and the transaction that records their `sent`, a
second worker's sweep takes one of them: here its lease token is raised by hand, through a
connection of its own, while the provider's answer is on its way back. The stale worker must
not record that message as `sent` under a lease it no longer holds; the others of the call are
recorded; nothing goes out twice; the message it lost stays `sending` until a sweep finds it so,
which makes it `unknown` for the provider's report to reconcile (`hcs.dispatch.unknown`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from channels.core import DeliveryEvent, EventKind
from hcs.dispatch import rounds
from hcs.dispatch.claiming import LEASE, Fence, lease_due
from hcs.dispatch.preparing import LEASE_LOST
from hcs.dispatch.providers import Providers, build_providers
from hcs.infrastructure.clock import db_now
from hcs.infrastructure.db import transaction
from hcs.messages.events import record_delivery_events
from hcs.messages.models import Message, MessageEvent, OutboxEntry
from tests.support.flows import ORDER, published
from tests.support.provider_calls import counting_email
from tests.support.world import World


def accept(world: World) -> str:
    answer = world.as_("system").post("/messages", ORDER)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def overtake(world: World, message_id: str) -> Callable[[Sequence[Any]], None]:
    """What a second worker's sweep does to one message's entry, done by hand in the database."""
    engine = world.app.extensions["hcs"].engine

    def sweep(prepared: Sequence[Any]) -> None:
        with engine.begin() as connection:
            connection.execute(
                update(OutboxEntry)
                .where(OutboxEntry.message_id == message_id)
                .values(lease_token=OutboxEntry.lease_token + 1, lease_owner="b")
            )

    return sweep


def statuses(world: World, ids: Sequence[str]) -> dict[str, str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        found = session.execute(select(Message.id, Message.status).where(Message.id.in_(ids)))
        return {message_id: status for message_id, status in found}


def sent_events(world: World, ids: Sequence[str]) -> dict[str, int]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        counted = session.execute(
            select(MessageEvent.message_id, func.count())
            .where(MessageEvent.message_id.in_(ids), MessageEvent.kind == "sent")
            .group_by(MessageEvent.message_id)
        )
        return {message_id: count for message_id, count in counted}


def kinds(world: World, message_id: str) -> list[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(MessageEvent.kind).where(MessageEvent.message_id == message_id)
        return list(session.scalars(query.order_by(MessageEvent.id)))


def sweep_after_the_lease(world: World, providers: Providers) -> list[rounds.Outcome]:
    """A later worker's round, once the lease the sweep took has ended."""
    sessions = world.app.extensions["hcs"].sessions
    with sessions.begin() as session:
        later = db_now(session) + LEASE + timedelta(seconds=1)
        tokens = lease_due(session, owner="later", now=later)
    return rounds.process_many(sessions, list(tokens), providers, fence=Fence(tokens))


def test_a_message_whose_lease_passed_on_during_a_batched_call_is_not_recorded_as_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One round for the three, however loaded the machine (`make test` once split them in two).
    monkeypatch.setattr(rounds, "PREPARE_BUDGET", 60.0)
    published(world)
    first, lost, last = ids = [accept(world) for _ in range(3)]
    services = world.app.extensions["hcs"]
    providers, outbox = counting_email(build_providers(services.settings), overtake(world, lost))
    outcomes = rounds.run_due(services.sessions, providers, owner="a")
    assert outbox.calls == [3]  # the three went out together, once
    # What the stale worker reports of its round (a Celery task's result) says it lost the one.
    said = {o.message_id: (o.status, o.detail) for o in outcomes}
    assert said[lost] == ("sending", LEASE_LOST) and said[first][0] == said[last][0] == "sent"
    assert statuses(world, ids) == {first: "sent", lost: "sending", last: "sent"}
    assert sent_events(world, ids) == {first: 1, last: 1}
    with transaction(services.sessions) as session:
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.message_id == lost)).one()
        assert entry.done_at is None and entry.lease_owner == "b"
    # Found `sending` when the lease ended: it may have gone out, so it is not sent again.
    later = sweep_after_the_lease(world, providers)
    assert [(o.message_id, o.status) for o in later] == [(lost, "unknown")]
    assert outbox.calls == [3]
    with services.sessions.begin() as session:  # the provider's report is the evidence
        event = DeliveryEvent(
            kind=EventKind.DELIVERED,
            provider="outbox",
            provider_message_id=lost,
            recipient="customer@example.com",
            occurred_at=None,
            reference=lost,
        )
        record_delivery_events(session, [event], provider="outbox")
    assert statuses(world, ids) == {first: "sent", lost: "delivered", last: "sent"}
    assert kinds(world, lost)[-3:] == ["unknown", "reconciled", "delivered"]
