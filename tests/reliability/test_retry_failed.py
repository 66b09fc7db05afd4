"""Failed messages queued again, deliberately: `hcs messages retry --status failed --since T`,
and one message from the API or its page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from channels.core import DeliveryEvent, EventKind
from hcs import archive
from hcs.audit import AuditEntry
from hcs.cli import main
from hcs.dispatch.erasure import erase_subject
from hcs.dispatch.providers import build_providers
from hcs.dispatch.rounds import Outcome, claim, process
from hcs.infrastructure.db import transaction
from hcs.messages.events import record_delivery_events
from hcs.messages.models import Message
from templates_store.orm import utcnow
from tests.support.chat import ChatPlatform, accept
from tests.support.flows import statuses_of
from tests.support.web import Person
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


def refused(world: World, chat_platform: ChatPlatform, count: int) -> list[str]:
    """`count` chat messages the platform refused ("conversation is closed"): `failed`."""
    chat_platform.script = lambda n, body: (400, "conversation is closed")
    ids = accept(world, count)
    assert [o.status for o in dispatch_round(world)] == ["failed"] * count
    return ids


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
    [message_id] = refused(world, chat_platform, 1)
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
    [message_id] = refused(world, chat_platform, 1)
    result = retry(world, *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and complaint in result.output
    assert statuses_of(world) == {message_id: "failed"} and audit_actions(world) == []


def message_audit(world: World) -> list[tuple[str, str, str, dict[str, Any]]]:
    with world.app.extensions["hcs"].sessions() as session:
        query = select(AuditEntry).where(AuditEntry.action == "message.retry")
        return [(e.actor, e.action, e.target, e.after) for e in session.scalars(query)]


def bounced_after_sending(world: World, message_id: str) -> None:
    """The platform took the message, then reported it failed (the customer's end refused it)."""
    event = DeliveryEvent(
        kind=EventKind.FAILED,
        provider="chat",
        provider_message_id=None,
        recipient=None,
        occurred_at=None,
        reference=message_id,
        data={"reason": "blocked by the customer"},
    )
    with transaction(world.app.extensions["hcs"].sessions) as session:
        record_delivery_events(session, [event], provider="chat")


def test_an_admin_sends_one_failed_message_again_through_the_api_audited(
    world: World, chat_platform: ChatPlatform
) -> None:
    chat_platform.script = lambda n, body: (400, "conversation is closed")
    first, second = accept(world, 2)
    assert [o.status for o in dispatch_round(world)] == ["failed", "failed"]
    chat_platform.script = None
    woken: list[list[str]] = []  # what the workers are told is ready, after the commit
    world.app.extensions["hcs.dispatcher"] = woken.append
    assert world.as_("system").post(f"/messages/{first}/retry").status_code == 403  # not admin
    answer = world.as_("root@example.com").post(f"/messages/{first}/retry")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "queued" and answer.get_json()["events"][-1]["kind"] == (
        "requeued"
    )
    again = world.as_("root@example.com").post(f"/messages/{first}/retry")
    assert again.status_code == 409 and "only a failed one" in again.get_json()["message"]
    assert world.as_("root@example.com").post("/messages/msg_nothing/retry").status_code == 404
    assert woken == [[first]]  # refusals wake nobody
    assert message_audit(world) == [
        ("root@example.com", "message.retry", first, {"status": "queued"})
    ]
    assert [o.status for o in dispatch_round(world)] == ["sent"]
    assert statuses_of(world) == {first: "sent", second: "failed"}
    assert chat_platform.posts() == {first: 2, second: 1}


def test_a_message_that_failed_after_its_provider_took_it_is_not_sent_again(
    world: World, chat_platform: ChatPlatform
) -> None:
    [message_id] = accept(world, 1)
    assert [o.status for o in dispatch_round(world)] == ["sent"]
    bounced_after_sending(world, message_id)
    assert statuses_of(world) == {message_id: "failed"}
    answer = world.as_("root@example.com").post(f"/messages/{message_id}/retry")
    assert answer.status_code == 409
    assert "reached its provider before it failed" in answer.get_json()["message"]
    root = Person(world.app, "root@example.com")
    assert 'id="retry"' not in root.get(f"/messages/{message_id}").text
    refused = root.post(f"/messages/{message_id}/retry")
    assert refused.status_code == 409 and "would be a second copy" in refused.text
    assert statuses_of(world) == {message_id: "failed"} and message_audit(world) == []
    assert dispatch_round(world) == [] and chat_platform.posts() == {message_id: 1}


def test_an_admin_sends_a_failed_message_again_from_its_page_and_others_cannot(
    world: World, chat_platform: ChatPlatform
) -> None:
    [message_id] = refused(world, chat_platform, 1)
    auditor = Person(world.app, "aud@example.com")
    page = auditor.get(f"/messages/{message_id}")
    assert page.status_code == 200 and "conversation is closed" in page.text
    assert 'id="retry"' not in page.text
    assert auditor.post(f"/messages/{message_id}/retry").status_code == 403
    root = Person(world.app, "root@example.com")
    assert 'id="retry"' in root.get(f"/messages/{message_id}").text
    assert root.post(f"/messages/{message_id}/retry", csrf=False).status_code == 400
    assert statuses_of(world) == {message_id: "failed"} and message_audit(world) == []
    answer = root.post(f"/messages/{message_id}/retry")
    assert answer.status_code == 302
    assert "queued to be sent again" in root.get(answer.headers["Location"]).text
    assert statuses_of(world) == {message_id: "queued"} and len(message_audit(world)) == 1


def test_a_failed_message_whose_recipient_was_erased_is_never_sent_again(
    world: World, chat_platform: ChatPlatform
) -> None:
    erased, kept = refused(world, chat_platform, 2)
    keys = archive.keyring(world.app.extensions["hcs"].settings)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        erase_subject(session, "conv-0", actor="dpo@example.com", keys=keys)
    chat_platform.script = None
    answer = world.as_("root@example.com").post(f"/messages/{erased}/retry")
    assert answer.status_code == 409 and "has an erased recipient" in answer.get_json()["message"]
    root = Person(world.app, "root@example.com")
    assert 'id="retry"' not in root.get(f"/messages/{erased}").text
    assert 'id="retry"' in root.get(f"/messages/{kept}").text
    result = retry(world, "--status", "failed", "--since", "1h")
    assert result.output.strip() == "1 failed message queued again"
    assert statuses_of(world) == {erased: "failed", kept: "queued"}
    assert [o.status for o in dispatch_round(world)] == ["sent"]
    assert chat_platform.posts() == {erased: 1, kept: 2}
