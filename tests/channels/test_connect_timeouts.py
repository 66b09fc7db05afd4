"""A connection that never opened sent nothing; a silence after the request was written may have.

Each adapter against a loopback port whose backlog is full (the connection times out while
opening) and against a peer that reads the request and never answers.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from channels.chat import ChatContent, ChatSettings, prepare_chat
from channels.chat.twilio import TwilioWhatsApp
from channels.chat.webhook import WebhookChat
from channels.core import Category
from channels.email import EmailContent, EmailSettings, prepare_email
from channels.email.sendgrid import SendGridEmail
from channels.email.smtp import SmtpEmail
from channels.errors import TransientChannelError
from channels.sms import SmsContent, SmsSettings
from channels.sms.message import prepare_sms
from channels.sms.twilio import TwilioSms
from tests.support.stalling import silent, unaccepting_port

TIMEOUT = 0.4
PHONE = "+447400123456"
Send = Callable[[int], object]


def _email() -> object:
    settings = EmailSettings(from_address="news@acme.example", from_name="Acme")
    content = EmailContent("Your order", "<p>Hello</p>")
    now = datetime(2026, 12, 6, tzinfo=UTC)
    return prepare_email(
        settings, content, "ana@example.com", Category.TRANSACTIONAL, reference="m-1", now=now
    )


def _sendgrid(port: int) -> object:
    provider = SendGridEmail("SG.k", host=f"http://127.0.0.1:{port}", timeout=TIMEOUT)
    return provider.send(_email())  # type: ignore[arg-type]


def _twilio_sms(port: int) -> object:
    provider = TwilioSms(
        "AC" + "0" * 32,
        "t",
        from_number="+15005550006",
        base_url=f"http://127.0.0.1:{port}",
        timeout=TIMEOUT,
    )
    return provider.send(prepare_sms(SmsSettings(), SmsContent("Hi"), PHONE, reference="m-1"))


def _whatsapp(port: int) -> object:
    provider = TwilioWhatsApp(
        "AC" + "0" * 32,
        "t",
        from_number="+15005550006",
        base_url=f"http://127.0.0.1:{port}",
        timeout=TIMEOUT,
    )
    chat = prepare_chat(ChatSettings(), ChatContent("Hi", ()), PHONE, reference="m-1")
    return provider.send(chat)


def _webhook(port: int) -> object:
    provider = WebhookChat(f"http://127.0.0.1:{port}/hook", b"secret", timeout=TIMEOUT)
    chat = prepare_chat(ChatSettings(), ChatContent("Hi", ()), "conv-1", reference="m-1")
    return provider.send(chat)


def _smtp(port: int) -> object:
    provider = SmtpEmail("127.0.0.1", port, starttls=False, timeout=TIMEOUT)
    return provider.send(_email())  # type: ignore[arg-type]


HTTP_ADAPTERS = {"sendgrid": _sendgrid, "twilio": _twilio_sms, "whatsapp": _whatsapp}
HTTP_ADAPTERS["webhook"] = _webhook
ALL_ADAPTERS = {**HTTP_ADAPTERS, "smtp": _smtp}


@pytest.mark.parametrize("adapter", sorted(ALL_ADAPTERS))
def test_a_connect_timeout_is_a_transient_failure_that_sent_nothing(adapter: str) -> None:
    with unaccepting_port() as port, pytest.raises(TransientChannelError) as raised:
        ALL_ADAPTERS[adapter](port)
    assert raised.value.refused is True and raised.value.status is None


@pytest.mark.parametrize("adapter", sorted(HTTP_ADAPTERS))
def test_a_read_timeout_after_the_request_was_written_stays_ambiguous(adapter: str) -> None:
    with silent() as peer, pytest.raises(TransientChannelError) as raised:
        HTTP_ADAPTERS[adapter](peer.port)
    assert raised.value.refused is False and raised.value.status is None
    assert b"POST " in peer.received


def test_an_smtp_server_silent_after_the_message_data_leaves_the_send_ambiguous() -> None:
    with silent(smtp=True) as peer, pytest.raises(TransientChannelError) as raised:
        _smtp(peer.port)
    assert raised.value.refused is False and b"Subject: Your order" in peer.received


def test_an_smtp_server_that_never_greets_sent_nothing_of_the_message() -> None:
    with silent() as peer, pytest.raises(TransientChannelError) as raised:
        _smtp(peer.port)
    assert raised.value.refused is True and peer.received == b""


def test_a_name_that_does_not_resolve_sent_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def unresolved(host: str, *args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # The resolver fails here, so no query leaves the machine.
    monkeypatch.setattr(socket, "getaddrinfo", unresolved)
    for adapter in ("sendgrid", "twilio", "webhook", "smtp"):
        with pytest.raises(TransientChannelError) as raised:
            ALL_ADAPTERS[adapter](443)
        assert raised.value.refused is True, adapter
