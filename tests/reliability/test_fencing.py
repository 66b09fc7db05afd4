"""Fenced leases: a worker paused past its lease and overtaken sends nothing and records nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from channels.core import DeliveryEvent, EventKind, SendResult
from hcs.dispatch import rounds, sending
from hcs.dispatch.claiming import Fence, held_under, lease_due
from hcs.dispatch.providers import Providers, build_providers
from hcs.infrastructure.clock import db_now
from hcs.infrastructure.db import transaction
from hcs.messages.events import record_delivery_events
from hcs.messages.models import Message, MessageEvent, OutboxEntry
from tests.support.flows import ORDER, published
from tests.support.statements import statements
from tests.support.world import World

SHORT = timedelta(seconds=0.6)


class Watched:
    """The real outlet, counting the copies it hands over; `before` runs ahead of each.

    One message a call (`batch_size` 1), as SMTP and Twilio send: leases are renewed between
    calls, and each call is a message.
    """

    batch_size = 1

    def __init__(self, real: Any, before: Callable[[], None] = lambda: None) -> None:
        self.real, self.before, self.copies = real, before, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def send(self, prepared: Any) -> SendResult:
        self.before()
        result = self.real.send(prepared)
        self.copies += 1
        return result


def accept(world: World) -> str:
    answer = world.as_("system").post("/messages", ORDER)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def watched(world: World, before: Callable[[], None] = lambda: None) -> tuple[Providers, Watched]:
    providers = build_providers(world.app.extensions["hcs"].settings)
    outlet = Watched(providers.outlet("email"), before)
    return replace(providers, outlets={**providers.outlets, "email": outlet}), outlet


def claim_for(world: World, owner: str, lease: timedelta = SHORT) -> Fence:
    with world.app.extensions["hcs"].sessions.begin() as session:
        return Fence(lease_due(session, owner=owner, lease=lease), lease)


def message(world: World, message_id: str) -> Message:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return session.get_one(Message, message_id)


def kinds(world: World, message_id: str) -> list[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(MessageEvent.kind).where(MessageEvent.message_id == message_id)
        return list(session.scalars(query.order_by(MessageEvent.id)))


def test_every_claim_raises_the_fencing_token_and_takes_its_expiry_from_the_database_clock(
    world: World,
) -> None:
    published(world)
    accept(world)
    sessions = world.app.extensions["hcs"].sessions
    first = claim_for(world, "a")
    time.sleep(0.7)
    second = claim_for(world, "b")
    [entry_id] = first.tokens
    assert second.tokens[entry_id] == first.tokens[entry_id] + 1
    with transaction(sessions) as session:
        entry = session.get_one(OutboxEntry, entry_id)
        expires_in = (entry.leased_until - db_now(session)).total_seconds()
    assert entry.lease_owner == "b" and 0 < expires_in <= SHORT.total_seconds()


def test_the_ai_lanes_hold_ends_at_a_moment_of_the_database_clock(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry waiting for AI text stays leased for the hold, counted on the database's clock
    (the worker host's may run a day ahead: the hold must not last a day more)."""
    from datetime import UTC, datetime

    from hcs.dispatch import generating

    published(world)
    accept(world)
    [entry_id] = claim_for(world, "a").tokens
    skewed = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(generating, "utcnow", lambda: skewed, raising=False)
    sessions = world.app.extensions["hcs"].sessions
    generating.hold(sessions, entry_id, hold_for=timedelta(minutes=5))
    with transaction(sessions) as session:
        entry = session.get_one(OutboxEntry, entry_id)
        expires_in = (entry.leased_until - db_now(session)).total_seconds()
    assert 290 <= expires_in <= 300


def test_a_worker_overtaken_before_it_took_the_message_sends_nothing(world: World) -> None:
    published(world)
    message_id = accept(world)
    sessions = world.app.extensions["hcs"].sessions
    providers, outlet = watched(world)
    paused = claim_for(world, "a")  # worker a claims, then pauses past its lease
    time.sleep(0.7)
    rounds.run_due(sessions, providers, owner="b", lease=SHORT)
    late = rounds.process_many(sessions, list(paused.tokens), providers, fence=paused)
    assert [o.detail for o in late] == ["lease lost to another worker"]
    assert outlet.copies == 1 and message(world, message_id).status == "sent"


def test_a_worker_paused_between_taking_a_message_and_the_provider_call_does_not_call(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    message_id = accept(world)
    sessions = world.app.extensions["hcs"].sessions
    providers, outlet = watched(world)
    check = sending.still_held

    def then_pause(*args: Any, **kwargs: Any) -> Any:
        # Committed: the message is `sending`, its call comes next.
        monkeypatch.setattr(sending, "still_held", check)
        time.sleep(0.7)  # past the lease: a second worker claims the entry meanwhile
        outcomes = rounds.run_due(sessions, providers, owner="b", lease=SHORT)
        assert [o.status for o in outcomes] == ["unknown"]  # found `sending`: never resent
        return check(*args, **kwargs)

    monkeypatch.setattr(sending, "still_held", then_pause)
    late = rounds.run_due(sessions, providers, owner="a", lease=SHORT)
    assert [o.detail for o in late] == ["lease lost to another worker"]
    assert outlet.copies == 0 and message(world, message_id).status == "unknown"


def test_a_worker_paused_after_preparing_leaves_the_message_to_the_next_who_sends_it_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    message_id = accept(world)
    sessions = world.app.extensions["hcs"].sessions
    providers, outlet = watched(world)
    plan = rounds.plan_some

    def then_pause(*args: Any, **kwargs: Any) -> Any:
        plans = plan(*args, **kwargs)  # finished and leased, not yet `sending`
        monkeypatch.setattr(rounds, "plan_some", plan)
        time.sleep(0.7)  # past the lease: a second worker claims the entry meanwhile
        outcomes = rounds.run_due(sessions, providers, owner="b", lease=SHORT)
        assert [o.status for o in outcomes] == ["sent"]  # never handed over: sent, once
        return plans

    monkeypatch.setattr(rounds, "plan_some", then_pause)
    late = rounds.run_due(sessions, providers, owner="a", lease=SHORT)
    assert [o.detail for o in late] == ["lease lost to another worker"]
    assert outlet.copies == 1 and message(world, message_id).status == "sent"


def test_a_worker_overtaken_after_the_provider_took_the_message_cannot_record_it(
    world: World,
) -> None:
    published(world)
    message_id = accept(world)
    sessions = world.app.extensions["hcs"].sessions
    plain, _ = watched(world)

    def overtaken() -> None:  # the provider is slow; meanwhile the lease passes to worker b
        time.sleep(0.7)
        assert [o.status for o in rounds.run_due(sessions, plain, owner="b", lease=SHORT)] == [
            "unknown"
        ]

    providers, outlet = watched(world, overtaken)
    [late] = rounds.run_due(sessions, providers, owner="a", lease=SHORT)
    assert late.detail == "lease lost to another worker" and outlet.copies == 1
    assert message(world, message_id).status == "unknown"  # a's `sent` was refused
    with sessions.begin() as session:  # the provider's report is the evidence
        event = DeliveryEvent(
            kind=EventKind.DELIVERED,
            provider="outbox",
            provider_message_id="x-1",
            recipient="customer@example.com",
            occurred_at=None,
            reference=message_id,
        )
        record_delivery_events(session, [event], provider="outbox")
    assert message(world, message_id).status == "delivered"
    assert kinds(world, message_id)[-3:] == ["unknown", "reconciled", "delivered"]


def test_a_slow_round_renews_its_leases_so_no_second_worker_takes_the_rest(
    world: World,
) -> None:
    published(world)
    for _ in range(3):
        accept(world)
    sessions = world.app.extensions["hcs"].sessions
    # Each call 0.7 s: three outlast the 1.8 s lease unless it is renewed, and each starts past
    # a third of it (when a round renews). A renewed lease has 1.1 s to spare at worker b's look,
    # room for a commit on a loaded machine (0.5 s was not: CI saw a lease lapse).
    lease = timedelta(seconds=1.8)
    taken: list[list[str]] = []

    def slow() -> None:
        time.sleep(0.7)
        with sessions.begin() as session:
            taken.append([str(i) for i in lease_due(session, owner="b", lease=lease)])

    providers, outlet = watched(world, slow)
    outcomes = rounds.run_due(sessions, providers, owner="a", lease=lease)
    assert [o.status for o in outcomes] == ["sent"] * 3 and outlet.copies == 3
    assert taken == [[], [], []]


def test_a_lease_that_expired_but_nobody_claimed_is_still_its_workers(world: World) -> None:
    published(world)
    message_id = accept(world)
    sessions = world.app.extensions["hcs"].sessions
    providers, outlet = watched(world)
    fence = claim_for(world, "a")
    with sessions.begin() as session:
        session.execute(update(OutboxEntry).values(leased_until=db_now(session)))
    rounds.process_many(sessions, list(fence.tokens), providers, fence=fence)
    assert outlet.copies == 1 and message(world, message_id).status == "sent"


def test_a_round_broken_off_by_the_database_puts_back_what_it_never_handed_over(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    first, second, third = (accept(world) for _ in range(3))
    sessions = world.app.extensions["hcs"].sessions
    providers, outlet = watched(world)
    monkeypatch.setattr(rounds, "PREPARE_BUDGET", 60.0)  # one round for the three
    record_sent = sending.record_sent

    def database_gone(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("UPDATE messages", {}, Exception("server closed the connection"))

    monkeypatch.setattr(sending, "record_sent", database_gone)
    with pytest.raises(OperationalError):
        rounds.run_due(sessions, providers, owner="a")
    assert outlet.copies == 1  # the first went out; its `sent` was never recorded
    states = {m: message(world, m).status for m in (first, second, third)}
    # The first is in doubt; the others were never taken: back to the next claim as they were.
    assert states == {first: "sending", second: "accepted", third: "accepted"}
    monkeypatch.setattr(sending, "record_sent", record_sent)
    assert [o.status for o in rounds.run_due(sessions, providers, owner="b")] == ["sent"] * 2
    assert outlet.copies == 3 and message(world, first).status == "sending"  # its lease holds


def test_a_renewal_keeps_exactly_the_leases_still_held_whatever_their_generations(
    world: World,
) -> None:
    published(world)
    for _ in range(6):
        accept(world)
    sessions = world.app.extensions["hcs"].sessions
    with sessions.begin() as session:  # earlier claims: the entries are of three generations
        ids = list(session.scalars(select(OutboxEntry.id).order_by(OutboxEntry.id)))
        for raised, entry_id in zip((0, 1, 2, 0, 1, 2), ids, strict=True):
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id == entry_id)
                .values(lease_token=OutboxEntry.lease_token + raised)
            )
    fence = claim_for(world, "a")
    assert len(set(fence.tokens.values())) == 3
    with sessions.begin() as session:  # b overtakes one entry of each generation
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(ids[:3]))
            .values(lease_token=OutboxEntry.lease_token + 1, lease_owner="b")
        )
    with sessions.begin() as session:
        with statements(session) as seen:
            assert fence.confirm(session, ids) == set(ids[3:])
        if session.get_bind().dialect.name == "postgresql":  # every generation's ids one array
            [renewal] = [s for s in seen if s.startswith("UPDATE outbox")]
            assert " IN (" not in renewal and renewal.count("ANY") == 4, renewal
        nothing = select(OutboxEntry.id).where(
            held_under(OutboxEntry.id, OutboxEntry.lease_token, [])
        )
        assert session.scalars(nothing).all() == []
    assert set(fence.tokens) == set(ids[3:])  # a forgets what it lost
    with sessions.begin() as session:  # a's renewed leases run on; b's are b's own
        renewed = {
            entry.id: entry.lease_owner
            for entry in session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(ids)))
        }
    assert renewed == {**dict.fromkeys(ids[:3], "b"), **dict.fromkeys(ids[3:], "a")}
