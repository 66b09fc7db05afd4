"""A message whose finishing keeps crashing ends `failed`; the rest of its batch goes out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hcs.dispatch import preparing
from hcs.infrastructure.config import load_settings
from hcs.infrastructure.db import transaction
from hcs.messages.models import Message, OutboxEntry
from hcs.worker.runtime import build_worker
from templates_store.orm import utcnow
from tests.support.flows import published, send_orders
from tests.support.world import World

CRASH = "cannot render {email}: SELECT * FROM messages WHERE id = '{id}'"


def crash_for(monkeypatch: pytest.MonkeyPatch, poison: str) -> None:
    """Finishing raises an unexpected error, quoting personal data and SQL, for one message."""
    finish = preparing.finish

    def crashing(session: Any, message: Message, *args: Any, **kwargs: Any) -> Any:
        if message.id == poison:
            raise RuntimeError(CRASH.format(email=message.to["email"], id=message.id))
        return finish(session, message, *args, **kwargs)

    monkeypatch.setattr(preparing, "finish", crashing)


def end_lease(world: World, message_id: str) -> None:
    """As if the entry's lease had run out: the next round may take it again."""
    with transaction(world.app.extensions["hcs"].sessions) as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == message_id)
            .values(leased_until=utcnow() - timedelta(seconds=1))
        )


def entry_of(world: World, message_id: str) -> OutboxEntry:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(OutboxEntry).where(OutboxEntry.message_id == message_id)
        return session.scalars(query).one()


def test_a_poison_message_ends_failed_with_its_event_while_the_rest_of_its_batch_is_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    ids = send_orders(world, 4)
    poison = ids[1]
    crash_for(monkeypatch, poison)
    services = world.app.extensions["hcs"]
    worker = build_worker(
        replace(services.settings, dispatch_finishing_attempts=3), services.sessions
    )
    assert worker.run_once() == 4
    for attempt in (1, 2):
        entry = entry_of(world, poison)
        assert (entry.attempts, entry.done_at) == (attempt, None)
        end_lease(world, poison)
        assert worker.run_once() == 1
    assert worker.run_once() == 0  # nothing left to try

    root = world.as_("root@example.com")
    answers = {m: root.get(f"/messages/{m}").get_json() for m in ids}
    assert {m: a["status"] for m, a in answers.items()} == {
        **dict.fromkeys(ids, "sent"),
        poison: "failed",
    }
    failed = answers[poison]
    assert failed["reason"] == "finishing_error: RuntimeError"
    assert [e["kind"] for e in failed["events"]] == [
        "accepted",
        "finishing_error",
        "finishing_error",
        "failed",
    ]
    detail = {"reason": "finishing_error", "error": "RuntimeError"}
    assert failed["events"][-1]["detail"] == {**detail, "attempt": 3}
    assert failed["events"][1]["detail"] == {**detail, "attempt": 1}
    entry = entry_of(world, poison)
    assert entry.attempts == 3 and entry.done_at is not None
    assert entry.last_error == "finishing_error: RuntimeError"
    # Neither the recipient nor the SQL the error quoted is kept in what records the failure.
    shown = json.dumps([failed["reason"], failed["events"], entry.last_error])
    assert "customer1" not in shown and "SELECT" not in shown


def test_a_poison_message_is_tried_again_until_the_bound_not_failed_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    published(world)
    [poison] = send_orders(world, 1)
    crash_for(monkeypatch, poison)
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)  # the default bound: 5
    for attempt in range(1, 5):
        assert worker.run_once() == 1
        assert entry_of(world, poison).attempts == attempt
        answer = world.as_("root@example.com").get(f"/messages/{poison}").get_json()
        assert answer["status"] == "accepted" and answer["reason"] == ""
        end_lease(world, poison)
    assert worker.run_once() == 1
    answer = world.as_("root@example.com").get(f"/messages/{poison}").get_json()
    assert answer["status"] == "failed"


def test_the_bound_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(None).dispatch_finishing_attempts == 5
    monkeypatch.setenv("HCS_DISPATCH_FINISHING_ATTEMPTS", "2")
    assert load_settings(None).dispatch_finishing_attempts == 2
