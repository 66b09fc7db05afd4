"""A provider that is busy or failing: retried with backoff, then delivered; a refusal is final."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hcs.dispatch.providers import build_providers
from hcs.dispatch.rounds import Outcome, claim, process
from hcs.infrastructure.config import load_settings
from hcs.infrastructure.logs import JsonFormatter
from hcs.messages.models import Message, OutboxEntry
from templates_store.orm import utcnow
from tests.support.chat import ChatPlatform, accept
from tests.support.world import World


@pytest.fixture
def world(make_sending_world: Callable[..., World]) -> World:
    return make_sending_world(
        environ={"HCS_CHAT_FALLBACK_PROVIDER": "outbox", "HCS_FAILOVER_AFTER": "3"}
    )


def dispatch_round(world: World, hours_later: int) -> list[Outcome]:
    """One round of the in-process dispatcher, as if `hours_later` hours had passed."""
    services = world.app.extensions["hcs"]
    providers = build_providers(services.settings)
    with services.sessions.begin() as session:
        ids = claim(session, owner="test", now=utcnow() + timedelta(hours=hours_later))
    return [process(services.sessions, entry_id, providers) for entry_id in ids]


def entry_delay(world: World, message_id: str) -> float:
    with world.app.extensions["hcs"].sessions() as session:
        entry = session.scalars(
            select(OutboxEntry).where(OutboxEntry.message_id == message_id)
        ).one()
        at = entry.available_at.replace(tzinfo=None)
        return (at - utcnow().replace(tzinfo=None)).total_seconds()


def message(world: World, message_id: str) -> Message:
    with world.app.extensions["hcs"].sessions() as session:
        found = session.get_one(Message, message_id)
        found.events  # noqa: B018  (loaded before the session closes)
        return found


def test_429_and_500_are_retried_with_growing_backoff_then_delivered_once(
    world: World, chat_platform: ChatPlatform
) -> None:
    answers = {1: (429, "slow down"), 2: (500, "upstream broke")}
    chat_platform.script = lambda n, body: answers.get(n, (200, ""))
    [message_id] = accept(world, 1)

    assert [o.status for o in dispatch_round(world, 0)] == ["queued"]
    assert 0.9 <= entry_delay(world, message_id) <= 2.1  # up to 2 s, jittered
    assert [o.status for o in dispatch_round(world, 1)] == ["queued"]
    assert 1.9 <= entry_delay(world, message_id) <= 4.1  # up to 4 s, jittered
    assert [o.status for o in dispatch_round(world, 2)] == ["sent"]
    assert dispatch_round(world, 3) == []

    sent = message(world, message_id)
    assert sent.status == "sent" and sent.provider == "webhook"
    kinds = [(e.kind, e.detail.get("attempt")) for e in sent.events]
    assert kinds == [("accepted", None), ("retry", 1), ("retry", 2), ("sent", None)]
    assert "429" in sent.events[1].detail["reason"] and "500" in sent.events[2].detail["reason"]
    assert chat_platform.posts() == {message_id: 3}


def test_a_400_fails_at_once_with_the_providers_reason_when_there_is_no_secondary(
    make_sending_world: Callable[..., World], chat_platform: ChatPlatform
) -> None:
    world = make_sending_world()
    chat_platform.script = lambda n, body: (400, "conversation is closed")
    [message_id] = accept(world, 1)
    assert [o.status for o in dispatch_round(world, 0)] == ["failed"]
    assert dispatch_round(world, 1) == []
    failed = message(world, message_id)
    assert failed.status == "failed"
    assert "400" in failed.reason and "conversation is closed" in failed.reason
    assert chat_platform.posts() == {message_id: 1}


def test_the_secondary_provider_takes_over_when_the_primary_keeps_refusing(
    world: World, chat_platform: ChatPlatform
) -> None:
    chat_platform.script = lambda n, body: (403, "this sender is suspended")
    [message_id] = accept(world, 1)
    outcomes = [o.status for hours in range(4) for o in dispatch_round(world, hours)]
    assert outcomes == ["queued", "queued", "queued", "sent"]
    sent = message(world, message_id)
    assert sent.status == "sent" and sent.provider == "outbox"
    assert sent.events[-1].detail["provider"] == "outbox"
    assert chat_platform.posts() == {message_id: 3}
    lines = (world.app.extensions["hcs"].settings.outbox_dir / "chat.jsonl").read_text()
    assert [json.loads(line)["reference"] for line in lines.splitlines()] == [message_id]


def test_a_sends_log_lines_name_the_message_but_no_personal_data(
    world: World, chat_platform: ChatPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    # The platform's refusal quotes the conversation and the person, as real APIs do.
    chat_platform.script = lambda n, body: (
        (400, f"conversation {body['conversation']} of Ana (ana@example.com) is closed")
        if n == 1
        else (200, "")
    )
    refused, delivered = accept(world, 1), accept(world, 1, start=1)
    with caplog.at_level(logging.INFO):
        dispatch_round(world, 0)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    text = "\n".join(lines)
    for message_id in refused + delivered:
        assert message_id in text
    sends = [json.loads(line) for line in lines if '"hcs.delivery"' in line]
    assert {(s["outcome"], s.get("provider_status")) for s in sends} == {
        ("retry", 400),  # this world has a secondary: a refusal counts toward moving to it
        ("sent", None),
    }
    for personal in ("conv-0", "conv-1", "ana@example.com", "Ana", "A-0", "A-1", "is closed"):
        assert personal not in text


def test_the_secondary_provider_and_its_threshold_are_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HCS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HCS_CHAT_FALLBACK_PROVIDER", "outbox")
    monkeypatch.setenv("HCS_FAILOVER_AFTER", "2")
    monkeypatch.setenv("HCS_CHAT_PROVIDER", "webhook")
    monkeypatch.setenv("HCS_CHAT_WEBHOOK_URL", "http://127.0.0.1:9/chat")
    monkeypatch.setenv("HCS_CHAT_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("HCS_ALLOWED_PRIVATE_DESTINATIONS", "127.0.0.1")
    providers = build_providers(load_settings(None))
    assert providers.for_attempt("chat", 1) is providers
    assert providers.for_attempt("chat", 2).name("chat") == "outbox"
    assert providers.for_attempt("email", 5) is providers  # no secondary for email
    # Finishing a message again (late archiving) uses the provider that sent it.
    assert providers.as_sent("chat", "outbox").name("chat") == "outbox"
    assert providers.as_sent("chat", "webhook") is providers
    assert providers.as_sent("email", "smtp") is providers
