"""The application reaches every channel through its registry entry and provider registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from channels.core import SendResult
from channels.email import EMAIL_PROVIDERS, PreparedEmail
from hcs.channels.letter import close_renderers
from hcs.channels.registry import CHANNELS
from hcs.infrastructure.delivery import Site, read_delivery
from tests.support.flows import dispatch, published
from tests.support.world import World

PARTS = {
    "email": {"en": {"subject": "Order {{ order_id }}", "html": "<p>Order {{ order_id }}</p>"}},
    "sms": {"en": {"body": "Order {{ order_id }} is confirmed."}},
    "chat": {"en": {"body": "Order {{ order_id }}", "quick_replies": ["Track it"]}},
    "letter": {"en": {"html": "<h1>Order {{ order_id }}</h1>"}},
}
TO = {
    "email": {"email": "ana@example.com"},
    "sms": {"phone": "+447400123456"},
    "chat": {"chat": "conversation-7"},
    "letter": {"address": ["Ana Ruiz", "1 High Street", "London N1 1AA"]},
}


class MemoryEmail:
    """A provider registered by this test only: it keeps what it is given."""

    name = "memory"

    def __init__(self, box: list[PreparedEmail], account: str) -> None:
        self.box, self.account = box, account

    def send(self, prepared: PreparedEmail) -> SendResult:
        self.box.append(prepared)
        return SendResult(self.name, f"{self.account}-{len(self.box)}")


@dataclass(frozen=True)
class MemorySettings:
    """The memory provider's settings, as a deployment's own provider would declare them."""

    box: list[PreparedEmail] = field(default_factory=list)
    account: str = "acct"

    def arguments(self, site: Site) -> dict[str, Any]:
        return {"box": self.box, "account": self.account}


class Recording:
    """Our own registry entry (or outlet), passed through, noting which of its parts are used."""

    def __init__(self, target: Any, calls: list[tuple[str, str]], channel: str) -> None:
        self.target, self.calls, self.channel = target, calls, channel

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self.target, attribute)
        if not callable(value):
            return value

        def called(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((self.channel, attribute))
            result = value(*args, **kwargs)
            return Recording(result, self.calls, self.channel) if attribute == "outlet" else result

        return called


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    noted: list[tuple[str, str]] = []
    for name, entry in list(CHANNELS.items()):
        monkeypatch.setitem(CHANNELS, name, Recording(entry, noted, name))
    yield noted
    close_renderers()


def test_a_provider_registered_with_its_settings_sends_an_api_message(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EMAIL_PROVIDERS, "memory", MemoryEmail)
    memory = MemorySettings()
    services = world.app.extensions["hcs"]
    delivery = read_delivery({"HCS_EMAIL_PROVIDER": "memory"})
    services.settings = replace(
        services.settings, delivery=replace(delivery, more={"email": {"memory": memory}})
    )
    published(world)
    order = {"order_id": "A-1001", "first_name": "Ana"}
    sent = world.as_("system").post(
        "/messages",
        {"template": "order-confirmation", "channel": "email", "to": TO["email"], "data": order},
    )
    assert sent.status_code == 202
    assert dispatch(world) == 1
    message = world.as_("root@example.com").get(f"/messages/{sent.get_json()['id']}").get_json()
    assert message["status"] == "sent" and message["provider"] == "memory"
    assert [mail.recipient for mail in memory.box] == ["ana@example.com"]
    assert memory.box[0].subject == "Your order A-1001"
    assert not (services.settings.outbox_dir / "email").exists()


def test_previews_and_sends_of_every_channel_go_through_its_registry_entry(
    world: World, calls: list[tuple[str, str]]
) -> None:
    author, system = world.as_("ana@example.com"), world.as_("system")
    template = {"key": "every", "name": "Every channel", "category": "transactional"}
    assert author.post("/templates", {**template, "channels": list(PARTS)}).status_code == 201
    variables = [{"name": "order_id", "type": "string", "required": True}]
    draft = {"parts": PARTS, "variables": variables, "sample_data": {"order_id": "A-1"}}
    assert author.post("/templates/every/versions", draft).status_code == 201
    for channel in PARTS:
        body = {"channel": channel, "locale": "en", "version": 1}  # the draft, named
        shown = author.post("/templates/every/preview", body)
        assert shown.status_code == 200, shown.get_json()
    for channel in PARTS:
        assert {(channel, "issues"), (channel, "preview_extras")} <= set(calls)
    assert author.post("/templates/every/versions/1/submit").status_code == 200
    lee = world.as_("lee@example.com")
    assert lee.post("/templates/every/versions/1/approve", {"comment": "ok"}).status_code == 200
    assert lee.post("/templates/every/versions/1/publish").status_code == 200
    calls.clear()
    for channel in PARTS:
        send = {"template": "every", "channel": channel, "to": TO[channel]}
        answer = system.post("/messages", {**send, "data": {"order_id": "A-2"}})
        assert answer.status_code == 202, answer.get_json()
    assert dispatch(world) == 4
    for channel in PARTS:
        # An outlet whose provider takes several messages a call is asked what a call shares.
        batching = ["batch_key"] if channel == "email" else []
        assert [what for name, what in calls if name == channel] == [
            "recipient_key",
            "options",
            "outlet",
            "render_extras",
            "finish",
            *batching,
            "send",
        ]
