"""No blind resends: a send of unknown outcome waits for evidence, then for its policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select, update

from channels.core import DeliveryEvent, EventKind, SendResult
from hcs import archive
from hcs.audit import AuditEntry
from hcs.cli import main
from hcs.dispatch import rounds
from hcs.infrastructure.config import load_settings
from hcs.infrastructure.db import transaction
from hcs.messages.events import record_delivery_events
from hcs.messages.models import Message
from hcs.messages.parking import settle_parked
from templates_store.orm import utcnow
from tests.support.flows import ORDER, published
from tests.support.rounds import Flaky, dispatch_round, flaky, kinds
from tests.support.world import World


class ReportsFirst(Flaky):
    """A provider that reports on the message (a webhook) before its answer is lost."""

    def __init__(self, real: Any, drops: int, world: World) -> None:
        super().__init__(real, drops)
        self.world = world

    def send(self, prepared: Any) -> SendResult:
        report(self.world, prepared.reference, EventKind.DELIVERED)
        return super().send(prepared)


def report(world: World, reference: str, kind: EventKind) -> None:
    """SendGrid's webhook reports on our reference, in a transaction of its own."""
    event = DeliveryEvent(
        kind=kind,
        provider="sendgrid",
        provider_message_id="sg-1",
        recipient=None,
        occurred_at=None,
        reference=reference,
        data={"event": kind.value, "sg_event_id": f"e-{kind.value}"},
    )
    with transaction(world.app.extensions["hcs"].sessions) as session:
        record_delivery_events(session, [event], provider="sendgrid")


def accept(world: World) -> str:
    answer = world.as_("system").post("/messages", ORDER)
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["id"])


def message(world: World, message_id: str) -> Message:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return session.get_one(Message, message_id)


def archived_kinds(world: World, message_id: str) -> list[str]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(archive.ArchiveEvent.kind).join(archive.ArchiveEntry)
        return list(session.scalars(query.where(archive.ArchiveEntry.message_id == message_id)))


def resolve(world: World, *args: str) -> Result:
    env = {"HCS_DATABASE_URL": world.app.extensions["hcs"].settings.database_url}
    return CliRunner().invoke(main, ["messages", "resolve", *args], env=env)


def test_a_timeout_after_sending_makes_the_message_unknown_and_nothing_is_sent_in_its_window(
    world: World,
) -> None:
    published(world)
    message_id = accept(world)
    providers, outlet = flaky(world, drops=5)
    assert dispatch_round(world, providers, 0) == ["unknown"]
    assert dispatch_round(world, providers, 9) == []  # the 10-minute window: no resend
    assert outlet.copies == 1 and message(world, message_id).status == "unknown"
    assert kinds(world, message_id)[-1] == "unknown"


def test_a_report_that_came_while_the_send_was_in_flight_reconciles_it_and_nothing_is_resent(
    world: World,
) -> None:
    published(world)
    message_id = accept(world)
    providers, outlet = flaky(world, 1, lambda real, drops: ReportsFirst(real, drops, world))
    assert dispatch_round(world, providers, 0) == ["delivered"]  # parked, then applied
    assert dispatch_round(world, providers, 11) == []  # past the window: nothing to resend
    assert outlet.copies == 1 and message(world, message_id).status == "delivered"
    assert kinds(world, message_id)[-3:] == ["unknown", "reconciled", "delivered"]


def test_a_report_parked_while_its_worker_died_reconciles_the_message_once_it_is_unknown(
    world: World,
) -> None:
    published(world)
    message_id = accept(world)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        claimed = rounds.claim(session, owner="dead", now=utcnow())
    providers, outlet = flaky(world, drops=0)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        session.execute(
            update(Message).where(Message.id == message_id).values(status="sending")
        )  # taken into `sending` by a worker that then died inside its provider call
    report(world, message_id, EventKind.DELIVERED)
    assert claimed and dispatch_round(world, providers, 3) == ["delivered"]
    assert dispatch_round(world, providers, 30) == [] and outlet.copies == 0
    assert kinds(world, message_id)[-3:] == ["unknown", "reconciled", "delivered"]


def test_housekeeping_reconciles_an_unknown_message_from_a_report_parked_by_its_reference(
    world: World,
) -> None:
    published(world)
    message_id = accept(world)
    sessions = world.app.extensions["hcs"].sessions
    with transaction(sessions) as session:
        session.execute(update(Message).where(Message.id == message_id).values(status="sending"))
    report(world, message_id, EventKind.DELIVERED)  # parked: the message is still `sending`
    with transaction(sessions) as session:  # made `unknown` without looking at parked reports
        session.execute(update(Message).where(Message.id == message_id).values(status="unknown"))
    with transaction(sessions) as session:
        assert settle_parked(session) == 1
    assert message(world, message_id).status == "delivered"
    assert kinds(world, message_id)[-2:] == ["reconciled", "delivered"]


def test_a_transactional_send_with_no_evidence_is_sent_again_marked_possible_duplicate(
    world: World,
) -> None:
    published(world)
    message_id = accept(world)
    providers, outlet = flaky(world, drops=1)
    assert dispatch_round(world, providers, 0) == ["unknown"]
    assert dispatch_round(world, providers, 11) == ["sent"]
    assert outlet.copies == 2 and message(world, message_id).status == "sent"
    assert kinds(world, message_id)[-3:] == ["unknown", "possible_duplicate", "sent"]
    assert "possible_duplicate" in archived_kinds(world, message_id)


def test_a_held_category_waits_for_a_person_who_resolves_it_audited(
    make_world: Callable[..., World],
) -> None:
    world = make_world(unknown_policy=(("transactional", "hold"),))
    published(world)
    message_id = accept(world)
    providers, outlet = flaky(world, drops=1)
    assert dispatch_round(world, providers, 0) == ["unknown"]
    assert dispatch_round(world, providers, 11) == ["unknown"]
    assert dispatch_round(world, providers, 600) == []  # held: never resent by itself
    assert kinds(world, message_id)[-1] == "awaiting_resolution" and outlet.copies == 1
    answer = resolve(world, message_id, "--resend")
    assert answer.exit_code == 0, answer.output
    assert answer.output.strip() == f"{message_id}: queued"
    assert dispatch_round(world, providers, 1) == ["sent"] and outlet.copies == 2
    assert "possible_duplicate" in kinds(world, message_id)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "message.resolve"))
        assert [(e.target, e.after["outcome"]) for e in audited] == [(message_id, "resend")]


def test_resolving_needs_one_outcome_and_an_unknown_message(world: World) -> None:
    published(world)
    message_id = accept(world)
    missing = resolve(world, message_id)
    assert missing.exit_code != 0 and "--sent, --resend or --fail" in missing.output
    not_unknown = resolve(world, message_id, "--sent")
    assert not_unknown.exit_code != 0 and "only an unknown one" in not_unknown.output
    assert message(world, message_id).status == "accepted"


def test_two_outcomes_at_once_are_refused_and_the_message_stays_in_doubt(world: World) -> None:
    """`--sent --fail` is a slip of the operator's: the last flag must not silently win."""
    published(world)
    message_id = accept(world)
    providers, outlet = flaky(world, drops=1)
    assert dispatch_round(world, providers, 0) == ["unknown"]  # in its window: still settleable
    for both in (["--sent", "--fail"], ["--fail", "--resend"], ["--sent", "--sent", "--fail"]):
        answer = resolve(world, message_id, *both)
        assert answer.exit_code != 0
        assert answer.output.strip().splitlines()[-1] == (
            "Error: say one of --sent, --resend or --fail, not several"
        )
    assert message(world, message_id).status == "unknown" and outlet.copies == 1


def test_an_admin_resolves_an_unknown_message_through_the_api_and_no_one_else_can(
    world: World,
) -> None:
    published(world)
    message_id = accept(world)
    providers, _ = flaky(world, drops=1)
    dispatch_round(world, providers, 0)
    path = f"/messages/{message_id}/resolve"
    assert world.as_("system").post(path, {"outcome": "sent"}).status_code == 403
    for person in ("ana@example.com", "lee@example.com", "aud@example.com", "sam@example.com"):
        refused = world.as_(person).post(path, {"outcome": "sent"})  # signed-in people's keys
        assert refused.status_code == 403, person
    bad = world.as_("root@example.com").post(path, {"outcome": "maybe"})
    assert bad.status_code == 422 and "outcome" in bad.get_json()["errors"]["json"]
    answer = world.as_("root@example.com").post(path, {"outcome": "fail"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "failed"
    again = world.as_("root@example.com").post(path, {"outcome": "sent"})
    assert again.status_code == 409


def test_by_default_marketing_and_service_are_held_and_letters_always(monkeypatch: Any) -> None:
    from hcs.dispatch.unknown import HOLD, RESEND, policy_for

    monkeypatch.delenv("HCS_UNKNOWN_POLICY", raising=False)
    settings = load_settings(env_file=None)
    defaults = {c: policy_for(settings, c, "email") for c in ("marketing", "service")}
    assert defaults == {"marketing": HOLD, "service": HOLD}
    assert policy_for(settings, "transactional", "email") == RESEND
    assert policy_for(settings, "sensitive", "sms") == RESEND
    monkeypatch.setenv("HCS_UNKNOWN_POLICY", "transactional=resend,marketing=resend")
    overridden = load_settings(env_file=None)
    assert policy_for(overridden, "marketing", "email") == RESEND
    assert policy_for(overridden, "transactional", "letter") == HOLD  # a second piece of paper


def test_the_unknown_policy_reads_categories_and_refuses_other_choices(
    monkeypatch: Any,
) -> None:
    monkeypatch.setenv("HCS_UNKNOWN_POLICY", "marketing=resend")
    monkeypatch.setenv("HCS_UNKNOWN_WINDOW", "30m")
    settings = load_settings(env_file=None)
    assert dict(settings.unknown_policy)["marketing"] == "resend"
    assert settings.unknown_window == timedelta(minutes=30)
    monkeypatch.setenv("HCS_UNKNOWN_POLICY", "marketing=twice")
    try:
        load_settings(env_file=None)
    except ValueError as exc:
        assert "HCS_UNKNOWN_POLICY" in str(exc)
    else:
        raise AssertionError("an unknown choice was accepted")
