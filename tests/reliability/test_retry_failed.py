"""`hcs messages retry --status failed --since T`: failed messages queued again, deliberately."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from hcs.audit import AuditEntry
from hcs.cli import main
from hcs.dispatch.providers import build_providers
from hcs.dispatch.rounds import Outcome, claim, process
from hcs.messages.models import Message
from templates_store.orm import utcnow
from tests.support.chat import ChatPlatform, accept
from tests.support.flows import statuses_of
from tests.support.world import World


@pytest.fixture
def world(make_sending_world: Callable[..., World]) -> World:
    return make_sending_world()


def dispatch_round(world: World) -> list[Outcome]:
    services = world.app.extensions["hcs"]
    providers = build_providers(services.settings)
    with services.sessions.begin() as session:
        ids = claim(session, owner="test", now=utcnow() + timedelta(minutes=1))
    return [process(services.sessions, entry_id, providers) for entry_id in ids]


def retry(world: World, *args: str) -> Result:
    env = {"HCS_DATABASE_URL": world.app.extensions["hcs"].settings.database_url}
    return CliRunner().invoke(main, ["messages", "retry", *args], env=env)


def audit_actions(world: World) -> list[tuple[str, dict[str, Any]]]:
    with world.app.extensions["hcs"].sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("messages.%")))
        return [(entry.action, entry.detail) for entry in entries]


def failed_at(world: World, message_id: str, hours_ago: float) -> None:
    with world.app.extensions["hcs"].sessions.begin() as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(updated_at=utcnow() - timedelta(hours=hours_ago))
        )


def test_failed_messages_since_a_time_are_queued_again_audited_and_then_sent(
    world: World, chat_platform: ChatPlatform
) -> None:
    chat_platform.script = lambda n, body: (400, "conversation is closed")
    old, recent, other = accept(world, 3)
    assert [o.status for o in dispatch_round(world)] == ["failed"] * 3
    failed_at(world, old, hours_ago=5)
    chat_platform.script = None  # the platform takes messages again
    since = (utcnow() - timedelta(hours=1)).isoformat()

    result = retry(world, "--status", "failed", "--since", since)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 failed messages queued again"
    assert statuses_of(world) == {old: "failed", recent: "queued", other: "queued"}
    [(action, detail)] = audit_actions(world)
    assert action == "messages.retry" and detail["count"] == 2
    assert sorted(detail["message_ids"]) == sorted([recent, other])

    assert sorted(o.status for o in dispatch_round(world)) == ["sent", "sent"]
    assert chat_platform.posts() == {old: 1, recent: 2, other: 2}
    assert retry(world, "--status", "failed", "--since", since).output.strip() == (
        "0 failed messages queued again"
    )


def test_a_since_given_as_a_duration_reaches_back_that_far(
    world: World, chat_platform: ChatPlatform
) -> None:
    chat_platform.script = lambda n, body: (400, "conversation is closed")
    [message_id] = accept(world, 1)
    dispatch_round(world)
    failed_at(world, message_id, hours_ago=3)
    assert retry(world, "--status", "failed", "--since", "2h").output.strip() == (
        "0 failed messages queued again"
    )
    assert retry(world, "--status", "failed", "--since", "4h").output.strip() == (
        "1 failed message queued again"
    )


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--status", "sent", "--since", "2h"], "--status"),
        (["--status", "failed", "--since", "yesterday"], "--since"),
        (["--status", "failed", "--since", "2099-01-01T00:00:00+00:00"], "--since"),
        (["--status", "failed"], "--since"),
        (["--since", "2h"], "--status failed"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    world: World, chat_platform: ChatPlatform, args: list[str], complaint: str
) -> None:
    chat_platform.script = lambda n, body: (400, "conversation is closed")
    [message_id] = accept(world, 1)
    dispatch_round(world)
    result = retry(world, *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and complaint in result.output
    assert statuses_of(world) == {message_id: "failed"} and audit_actions(world) == []
