"""Chat: the signed webhook against a loopback receiver, its verification, WhatsApp, outbox."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from channels.chat import CHAT_PROVIDERS, ChatChannel, ChatContent, ChatSettings
from channels.chat.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    chat_signature,
    verify_chat_signature,
)
from channels.chat.twilio import TwilioWhatsApp
from channels.chat.webhook import WebhookChat
from channels.core import Level
from channels.errors import (
    ChannelError,
    InvalidContent,
    InvalidRecipient,
    SignatureError,
    TransientChannelError,
)
from tests.support.server import free_port

SECRET = b"chat-secret"
NOW = 1_795_000_000
CONTENT = ChatContent("Your parcel is on its way. Ça arrive!", ("Track it", "Talk to us"))


def receiver(server: HTTPServer, seen: list[Request], status: int = 200) -> None:
    """A chat platform that verifies the signature as documented and answers with an id."""

    def handle(request: Request) -> Response:
        seen.append(request)
        try:
            verify_chat_signature(
                SECRET, request.get_data(), dict(request.headers), now=time.time()
            )
        except SignatureError as exc:
            return Response(str(exc), status=401)
        return Response(json.dumps({"id": "chat-77"}), status=status)

    server.expect_request("/hooks/hcs", method="POST").respond_with_handler(handle)


def test_the_webhook_posts_a_signed_json_body_the_receiver_accepts(loopback: HTTPServer) -> None:
    seen: list[Request] = []
    receiver(loopback, seen)
    channel = ChatChannel(ChatSettings(), WebhookChat(loopback.url_for("/hooks/hcs"), SECRET))
    result = channel.send(channel.prepare(CONTENT, "conv-123", reference="c-1"))
    assert (result.provider, result.message_id, result.status) == ("webhook", "chat-77", 200)
    [request] = seen
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.get_data()) == {
        "id": "c-1",
        "conversation": "conv-123",
        "text": "Your parcel is on its way. Ça arrive!",
        "quick_replies": ["Track it", "Talk to us"],
    }
    timestamp = int(request.headers[TIMESTAMP_HEADER])
    assert abs(timestamp - time.time()) < 5
    assert request.headers[SIGNATURE_HEADER] == chat_signature(
        SECRET, timestamp, request.get_data()
    )


def test_a_sender_with_the_wrong_secret_is_refused_by_the_receiver(loopback: HTTPServer) -> None:
    seen: list[Request] = []
    receiver(loopback, seen)
    channel = ChatChannel(ChatSettings(), WebhookChat(loopback.url_for("/hooks/hcs"), b"wrong"))
    with pytest.raises(ChannelError) as caught:
        channel.send(channel.prepare(CONTENT, "conv-123", reference="c-2"))
    assert caught.value.status == 401 and "does not match" in (caught.value.reason or "")
    assert not isinstance(caught.value, TransientChannelError)


@pytest.mark.parametrize("status", [429, 502])
def test_a_busy_platform_is_transient(loopback: HTTPServer, status: int) -> None:
    loopback.expect_request("/hooks/hcs").respond_with_data("busy", status=status)
    channel = ChatChannel(ChatSettings(), WebhookChat(loopback.url_for("/hooks/hcs"), SECRET))
    with pytest.raises(TransientChannelError) as caught:
        channel.send(channel.prepare(CONTENT, "conv-1", reference="c-3"))
    assert caught.value.status == status


def test_a_redirect_is_not_followed(loopback: HTTPServer) -> None:
    loopback.expect_request("/hooks/hcs").respond_with_response(
        Response(status=307, headers={"Location": loopback.url_for("/elsewhere")})
    )
    channel = ChatChannel(ChatSettings(), WebhookChat(loopback.url_for("/hooks/hcs"), SECRET))
    with pytest.raises(ChannelError):
        channel.send(channel.prepare(CONTENT, "conv-1", reference="c-4"))
    assert [request.path for request, _ in loopback.log] == ["/hooks/hcs"]


def test_an_unreachable_platform_is_transient() -> None:
    provider = WebhookChat(f"http://127.0.0.1:{free_port()}/x", SECRET, timeout=2)
    channel = ChatChannel(ChatSettings(), provider)
    with pytest.raises(TransientChannelError):
        channel.send(channel.prepare(CONTENT, "conv-1", reference="c-5"))


def signed(body: bytes, at: int = NOW, secret: bytes = SECRET) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(at), SIGNATURE_HEADER: chat_signature(secret, at, body)}


def test_verification_accepts_a_fresh_signature_and_rotated_secrets() -> None:
    body = b'{"id":"c-1"}'
    assert verify_chat_signature(SECRET, body, signed(body), now=NOW + 10) == NOW
    rotated = signed(body, secret=b"old")[SIGNATURE_HEADER] + ", " + signed(body)[SIGNATURE_HEADER]
    headers = {TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: rotated}
    verify_chat_signature(SECRET, body, headers, now=NOW)


@pytest.mark.parametrize(
    "body, headers, now, match",
    [
        (b'{"id":"c-2"}', signed(b'{"id":"c-1"}'), NOW, "does not match"),
        (b'{"id":"c-1"}', signed(b'{"id":"c-1"}', NOW - 301), NOW, "replay window"),
        (b'{"id":"c-1"}', signed(b'{"id":"c-1"}', NOW + 301), NOW, "replay window"),
        (b'{"id":"c-1"}', {TIMESTAMP_HEADER: str(NOW)}, NOW, "missing"),
        (b'{"id":"c-1"}', {SIGNATURE_HEADER: "v1=00"}, NOW, "missing"),
        (b'{"id":"c-1"}', {TIMESTAMP_HEADER: "soon", SIGNATURE_HEADER: "v1=00"}, NOW, "malformed"),
        (
            b'{"id":"c-1"}',
            signed(b'{"id":"c-1"}') | {TIMESTAMP_HEADER: str(NOW + 1)},
            NOW,
            "does not match",
        ),
    ],
)
def test_verification_refuses_altered_replayed_and_missing_signatures(
    body: bytes, headers: dict[str, str], now: int, match: str
) -> None:
    with pytest.raises(SignatureError, match=match):
        verify_chat_signature(SECRET, body, headers, now=now)


def test_validation_of_quick_replies_and_length() -> None:
    channel = ChatChannel(ChatSettings(max_quick_replies=2), CHAT_PROVIDERS["outbox"]("/tmp"))  # type: ignore[call-arg]
    issues = channel.validate(ChatContent("x" * 5000, ("a", "b", "A much too long reply text")))
    assert [(i.level, i.code) for i in issues] == [
        (Level.ERROR, "body_too_long"),
        (Level.ERROR, "too_many_quick_replies"),
        (Level.WARNING, "quick_reply_too_long"),
    ]
    with pytest.raises(InvalidContent):
        channel.prepare(ChatContent(""), "conv", reference="x")


def test_the_outbox_writes_one_json_line_per_message(tmp_path: Path) -> None:
    channel = ChatChannel(ChatSettings(), CHAT_PROVIDERS["outbox"](tmp_path))  # type: ignore[call-arg]
    channel.send(channel.prepare(CONTENT, "conv-9", reference="c-9"))
    [line] = (tmp_path / "chat.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == {
        "reference": "c-9",
        "to": "conv-9",
        "body": CONTENT.body,
        "quick_replies": ["Track it", "Talk to us"],
    }


SID, TOKEN = "AC" + "0" * 32, "auth-token"


def test_whatsapp_goes_through_twilio_with_quick_replies_in_the_body(
    loopback: HTTPServer,
) -> None:
    loopback.expect_oneshot_request(
        f"/2010-04-01/Accounts/{SID}/Messages.json", method="POST"
    ).respond_with_json({"sid": "SMwa1"}, status=201)
    provider = TwilioWhatsApp(
        SID, TOKEN, from_number="+447400000001", base_url=loopback.url_for("/"), timeout=5
    )
    channel = ChatChannel(ChatSettings(default_region="GB"), provider)
    prepared = channel.prepare(CONTENT, "07400 123456", reference="w-1")
    assert prepared.recipient == "+447400123456"
    assert channel.send(prepared).message_id == "SMwa1"
    [(request, _)] = loopback.log
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert parse_qs(request.get_data(as_text=True)) == {
        "To": ["whatsapp:+447400123456"],
        "From": ["whatsapp:+447400000001"],
        "Body": [CONTENT.body + "\n\n1. Track it\n2. Talk to us"],
    }


def test_whatsapp_needs_a_valid_number() -> None:
    provider = TwilioWhatsApp(
        SID, TOKEN, from_number="+447400000001", base_url="http://127.0.0.1:9"
    )
    with pytest.raises(InvalidRecipient):
        ChatChannel(ChatSettings(), provider).prepare(CONTENT, "+44 7700 900123", reference="w")
