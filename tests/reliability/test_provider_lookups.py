"""Reconciling `unknown` by asking the provider (Twilio, SendGrid's Email Activity API)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from channels.core import SendResult
from channels.errors import TransientChannelError
from hcs import archive
from hcs.audit import AuditEntry
from hcs.dispatch.lookups import ProviderLookups
from hcs.dispatch.providers import Providers, build_providers
from hcs.infrastructure.db import transaction
from hcs.infrastructure.delivery import read_delivery
from hcs.messages.models import Message
from hcs.worker.runtime import build_worker, housekeeping
from tests.support.chat import publish_chat_template
from tests.support.flows import ORDER, published
from tests.support.providers import ACCOUNT, FakeProviders, fake_providers
from tests.support.rounds import dispatch_round, kinds
from tests.support.sendgrid import PUBLIC_KEY, signed
from tests.support.world import World

PHONE = "+447400123456"
SMS = {**ORDER, "channel": "sms", "to": {"phone": PHONE}}


class Lost:
    """The real outlet behind a network that loses the answer (`reaches`: the request arrived)."""

    def __init__(self, real: Any, *, reaches: bool) -> None:
        self.real, self.reaches, self.copies = real, reaches, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def send(self, prepared: Any) -> SendResult:
        self.copies += 1
        if self.reaches:
            self.real.send(prepared)
        raise TransientChannelError("read timed out", reason="read timed out")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    for name in ("TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(name, raising=False)
    with fake_providers() as providers:
        yield providers


@pytest.fixture
def world(make_world: Callable[..., World], fake: FakeProviders) -> World:
    environ = {
        "HCS_EMAIL_PROVIDER": "sendgrid",
        "SENDGRID_API_KEY": "SG.test",
        "HCS_SENDGRID_HOST": fake.url,
        "HCS_SENDGRID_TIMEOUT": "0.5",
        "SENDGRID_WEBHOOK_PUBLIC_KEY": PUBLIC_KEY,
        "HCS_SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": "token",
        "HCS_TWILIO_FROM": "+447400000001",
        "HCS_TWILIO_BASE_URL": fake.url,
        "HCS_TWILIO_TIMEOUT": "0.5",
        "HCS_CHAT_PROVIDER": "twilio",
        "HCS_WHATSAPP_FROM": "+447400000002",
    }
    built = make_world(delivery=read_delivery(environ))
    published(built)
    return built


def unknown(world: World, body: dict[str, Any], *, reaches: bool) -> tuple[str, Providers, Lost]:
    """A message whose send ended with its answer lost: `unknown`."""
    answer = world.as_("system").post("/messages", body)
    assert answer.status_code == 202, answer.get_json()
    providers = build_providers(world.app.extensions["hcs"].settings)
    channel = body["channel"]
    lost = Lost(providers.outlet(channel), reaches=reaches)
    providers = replace(providers, outlets={**providers.outlets, channel: lost})
    assert dispatch_round(world, providers, 0) == ["unknown"]
    return str(answer.get_json()["id"]), providers, lost


def lookups(world: World) -> ProviderLookups:
    settings = world.app.extensions["hcs"].settings
    keys = archive.keyring(settings)
    return ProviderLookups(build_providers(settings), keys, every=timedelta(0))


def status(world: World, message_id: str) -> str:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        return session.get_one(Message, message_id).status


def audited(world: World, message_id: str) -> list[tuple[str, str]]:
    with transaction(world.app.extensions["hcs"].sessions) as session:
        query = select(AuditEntry).where(AuditEntry.action == "message.reconcile")
        return [
            (e.actor, e.after["status"]) for e in session.scalars(query) if e.target == message_id
        ]


def test_an_unknown_sms_twilio_holds_is_resolved_by_asking_and_never_sent_again(
    world: World, fake: FakeProviders
) -> None:
    message_id, providers, lost = unknown(world, SMS, reaches=True)
    sessions = world.app.extensions["hcs"].sessions
    assert lookups(world).run(sessions) == 1
    assert status(world, message_id) == "delivered"
    assert kinds(world, message_id)[-3:] == ["unknown", "reconciled", "delivered"]
    assert fake.lookups[0].startswith("list ") and "To=%2B447400123456" in fake.lookups[0]
    assert dispatch_round(world, providers, 11) == []  # past the window: nothing resent
    assert lost.copies == 1 and len(fake.twilio) == 1
    assert audited(world, message_id) == [("provider:twilio", "delivered")]


def test_an_unknown_whatsapp_message_is_found_by_its_whatsapp_number_and_body(
    world: World, fake: FakeProviders
) -> None:
    publish_chat_template(world)
    data = {"order_id": "A-7", "first_name": "Ana"}
    chat = {"template": "order-chat", "channel": "chat", "to": {"chat": PHONE}, "data": data}
    message_id, _, _ = unknown(world, chat, reaches=True)
    assert fake.twilio[0]["body"] == "Order A-7 is confirmed, Ana."
    assert lookups(world).run(world.app.extensions["hcs"].sessions) == 1
    assert "To=whatsapp%3A%2B447400123456" in fake.lookups[0]
    assert status(world, message_id) == "delivered"


def test_a_known_sid_is_fetched_and_a_failure_twilio_reports_fails_the_message(
    world: World, fake: FakeProviders
) -> None:
    fake.twilio_status = "undelivered"
    message_id, _, _ = unknown(world, SMS, reaches=True)
    with transaction(world.app.extensions["hcs"].sessions) as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(provider_message_id=fake.twilio[0]["sid"])
        )
    assert lookups(world).run(world.app.extensions["hcs"].sessions) == 1
    assert fake.lookups == [f"fetch {fake.twilio[0]['sid']}"]
    assert status(world, message_id) == "failed"


def test_an_unknown_sms_twilio_never_got_stays_unknown_then_follows_its_policy(
    world: World, fake: FakeProviders
) -> None:
    message_id, providers, lost = unknown(world, SMS, reaches=False)
    assert lookups(world).run(world.app.extensions["hcs"].sessions) == 0
    assert status(world, message_id) == "unknown" and len(fake.lookups) == 1
    lost.reaches = True
    assert dispatch_round(world, providers, 11) == ["unknown"]  # resent; its answer lost again
    assert "possible_duplicate" in kinds(world, message_id) and len(fake.twilio) == 1


def test_a_lookup_that_times_out_changes_nothing_and_is_asked_again_next_round(
    world: World, fake: FakeProviders
) -> None:
    message_id, _, _ = unknown(world, SMS, reaches=True)
    sessions = world.app.extensions["hcs"].sessions
    asking = lookups(world)
    fake.stall = 1.0  # past the client's 0.5 s
    before = kinds(world, message_id)
    assert asking.run(sessions) == 0
    assert status(world, message_id) == "unknown" and kinds(world, message_id) == before
    fake.stall = 0.0
    assert asking.run(sessions) == 1 and status(world, message_id) == "delivered"


def test_the_housekeeping_worker_asks_and_the_others_do_not(
    world: World, fake: FakeProviders
) -> None:
    message_id, _, _ = unknown(world, SMS, reaches=True)
    sessions = world.app.extensions["hcs"].sessions
    assert housekeeping(sessions, owner="a", lookups=lookups(world))
    assert not housekeeping(sessions, owner="b", lookups=lookups(world))
    assert len(fake.lookups) == 1 and status(world, message_id) == "delivered"


def test_sendgrids_activity_api_finds_the_email_by_its_reference(
    world: World, fake: FakeProviders
) -> None:
    message_id, _, _ = unknown(world, ORDER, reaches=True)
    fake.activity = [{"msg_id": "sg-1.filter", "status": "delivered", "to_email": "x@y"}]
    assert lookups(world).run(world.app.extensions["hcs"].sessions) == 1
    assert fake.lookups == [f"activity unique_args['hcs_reference']=\"{message_id}\""]
    assert status(world, message_id) == "delivered"


def test_without_the_activity_add_on_sendgrid_is_asked_once_and_its_events_still_resolve(
    world: World, fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    message_id, _, _ = unknown(world, ORDER, reaches=True)
    second, _, _ = unknown(world, ORDER, reaches=True)
    fake.activity_status = 403
    asking, sessions = lookups(world), world.app.extensions["hcs"].sessions
    with caplog.at_level(logging.WARNING, logger="hcs.dispatch.lookups"):
        assert asking.run(sessions) == 0 and asking.run(sessions) == 0
    warned = [r for r in caplog.records if r.name == "hcs.dispatch.lookups"]
    assert len(fake.lookups) == 1 and len(warned) == 1  # logged once, not an error per message
    assert status(world, message_id) == status(world, second) == "unknown"
    event = {"email": "customer@example.com", "event": "delivered", "sg_event_id": "e1"}
    body = json.dumps([{**event, "timestamp": 1, "hcs_reference": message_id}]).encode()
    answer = world.app.test_client().post("/webhooks/sendgrid", data=body, headers=signed(body))
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)
    assert status(world, message_id) == "delivered"


def test_each_round_asks_about_messages_not_asked_a_moment_ago(
    world: World, fake: FakeProviders
) -> None:
    first, _, _ = unknown(world, SMS, reaches=False)
    second, _, _ = unknown(world, SMS, reaches=False)
    settings = world.app.extensions["hcs"].settings
    asking = ProviderLookups(build_providers(settings), per_round=1, every=timedelta(minutes=1))
    sessions = world.app.extensions["hcs"].sessions
    assert asking.run(sessions) == 0 and asking.run(sessions) == 0 and asking.run(sessions) == 0
    assert set(asking.asked) == {first, second} and len(fake.lookups) == 2


def test_a_running_worker_resolves_an_unknown_send_by_asking_in_its_housekeeping(
    world: World, fake: FakeProviders
) -> None:
    message_id, _, _ = unknown(world, SMS, reaches=True)
    services = world.app.extensions["hcs"]
    worker = build_worker(services.settings, services.sessions)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while status(world, message_id) != "delivered" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert status(world, message_id) == "delivered" and len(fake.twilio) == 1
    assert audited(world, message_id) == [("provider:twilio", "delivered")]


def test_identical_messages_to_one_number_each_take_a_copy_of_their_own(
    world: World, fake: FakeProviders
) -> None:
    ids = [unknown(world, SMS, reaches=True)[0] for _ in range(3)]
    assert lookups(world).run(world.app.extensions["hcs"].sessions) == 3
    with transaction(world.app.extensions["hcs"].sessions) as session:
        sids = {session.get_one(Message, i).provider_message_id for i in ids}
    assert sids == {m["sid"] for m in fake.twilio} and len(sids) == 3
