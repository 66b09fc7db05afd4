"""SendGrid's signed event webhook: valid, altered, replayed, malformed and missing signatures."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from channels.core import EventKind
from channels.email.sendgrid_events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SendGridEventVerifier,
)
from channels.errors import SignatureError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()
BODY = (
    json.dumps(
        [
            {
                "email": "ana@example.com",
                "timestamp": 1795000000,
                "event": "delivered",
                "sg_message_id": "sg-abc123.filter0001.1.0",
                "sg_event_id": "e1",
                "hcs_reference": "m-1",
            },
            {
                "email": "ana@example.com",
                "timestamp": 1795000100,
                "event": "bounce",
                "sg_message_id": "sg-abc123.filter0001.1.0",
                "reason": "550 no such user",
            },
            {
                "email": "ana@example.com",
                "timestamp": 1795000200,
                "event": "click",
                "sg_message_id": "sg-abc123.x",
                "url": "https://acme.example/",
            },
            {"email": "ana@example.com", "timestamp": 1795000300, "event": "group_unsubscribe"},
            {"email": "ana@example.com", "timestamp": 1795000300, "event": "some_future_event"},
        ],
        separators=(",", ":"),
    ).encode()
    + b"\r\n"
)


def signed(body: bytes, at: datetime = NOW) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    signature = KEY.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {SIGNATURE_HEADER: base64.b64encode(signature).decode(), TIMESTAMP_HEADER: timestamp}


def test_a_validly_signed_body_becomes_delivery_events() -> None:
    events = SendGridEventVerifier(PUBLIC).events(BODY, signed(BODY), now=NOW)
    assert [e.kind for e in events] == [
        EventKind.DELIVERED,
        EventKind.BOUNCED,
        EventKind.CLICKED,
        EventKind.OPTED_OUT,
    ]
    assert events[0].provider_message_id == "sg-abc123" and events[0].reference == "m-1"
    assert events[1].reason == "550 no such user"
    assert events[0].occurred_at == datetime.fromtimestamp(1795000000, UTC)


def test_header_names_are_matched_case_insensitively() -> None:
    headers = {k.lower(): v for k, v in signed(BODY).items()}
    SendGridEventVerifier(PUBLIC).verify(BODY, headers, now=NOW)


@pytest.mark.parametrize(
    "body",
    [BODY.replace(b"delivered", b"delivereD"), BODY.rstrip(b"\r\n"), BODY + b" "],
)
def test_an_altered_body_is_refused(body: bytes) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        SendGridEventVerifier(PUBLIC).verify(body, signed(BODY), now=NOW)


def test_a_replayed_request_outside_the_window_is_refused() -> None:
    old = signed(BODY, NOW - timedelta(minutes=6))
    with pytest.raises(SignatureError, match="replay window"):
        SendGridEventVerifier(PUBLIC).verify(BODY, old, now=NOW)
    future = signed(BODY, NOW + timedelta(minutes=6))
    with pytest.raises(SignatureError, match="replay window"):
        SendGridEventVerifier(PUBLIC).verify(BODY, future, now=NOW)


def test_a_timestamp_changed_after_signing_is_refused() -> None:
    headers = signed(BODY) | {TIMESTAMP_HEADER: str(int(NOW.timestamp()) + 1)}
    with pytest.raises(SignatureError):
        SendGridEventVerifier(PUBLIC).verify(BODY, headers, now=NOW)


@pytest.mark.parametrize("missing", [SIGNATURE_HEADER, TIMESTAMP_HEADER])
def test_a_missing_header_is_refused(missing: str) -> None:
    headers = {k: v for k, v in signed(BODY).items() if k != missing}
    with pytest.raises(SignatureError, match="missing"):
        SendGridEventVerifier(PUBLIC).verify(BODY, headers, now=NOW)


@pytest.mark.parametrize(
    "signature", ["not base64!!", "AAAA", base64.b64encode(b"x" * 70).decode()]
)
def test_a_malformed_signature_is_refused_not_crashed_on(signature: str) -> None:
    headers = signed(BODY) | {SIGNATURE_HEADER: signature}
    with pytest.raises(SignatureError):
        SendGridEventVerifier(PUBLIC).verify(BODY, headers, now=NOW)


def test_another_keys_signature_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    timestamp = str(int(NOW.timestamp()))
    signature = other.sign(timestamp.encode() + BODY, ec.ECDSA(hashes.SHA256()))
    headers = {SIGNATURE_HEADER: base64.b64encode(signature).decode(), TIMESTAMP_HEADER: timestamp}
    with pytest.raises(SignatureError):
        SendGridEventVerifier(PUBLIC).verify(BODY, headers, now=NOW)


def test_odd_items_are_parsed_without_crashing() -> None:
    from channels.email.sendgrid_events import parse_sendgrid_events

    body = json.dumps(
        [{"event": "open", "timestamp": "soon", "email": "a@example.com"}, "junk", {"x": 1}]
    ).encode()
    [event] = parse_sendgrid_events(body)
    assert (event.kind, event.occurred_at, event.provider_message_id) == (
        EventKind.OPENED,
        None,
        None,
    )
