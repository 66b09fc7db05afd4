"""Twilio status callbacks and inbound messages: signatures and STOP/START keywords."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from channels.core import EventKind
from channels.errors import ChannelError, SignatureError
from channels.keywords import keyword_event
from channels.twilio_webhooks import TwilioWebhookVerifier, parse_inbound, parse_status_callback

TOKEN = "auth-token"
URL = "https://hcs.example/webhooks/twilio/status"
STATUS = {
    "MessageSid": "SM" + "1" * 32,
    "MessageStatus": "undelivered",
    "To": "+447400123456",
    "ErrorCode": "30003",
    "AccountSid": "AC" + "0" * 32,
}


def signature(url: str, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)}


def test_a_signed_status_callback_becomes_a_delivery_event() -> None:
    TwilioWebhookVerifier(TOKEN).verify(URL, STATUS, signature(URL, STATUS))
    event = parse_status_callback(STATUS)
    assert (event.kind, event.provider_message_id, event.recipient) == (
        EventKind.BOUNCED,
        "SM" + "1" * 32,
        "+447400123456",
    )
    assert event.reason == "Twilio error 30003"


@pytest.mark.parametrize(
    "status, kind",
    [
        ("queued", EventKind.ACCEPTED),
        ("sent", EventKind.SENT),
        ("delivered", EventKind.DELIVERED),
        ("failed", EventKind.FAILED),
        ("read", EventKind.READ),
    ],
)
def test_statuses_map_to_events(status: str, kind: EventKind) -> None:
    assert parse_status_callback(STATUS | {"MessageStatus": status}).kind is kind


def test_an_unknown_status_is_an_error() -> None:
    with pytest.raises(ChannelError):
        parse_status_callback(STATUS | {"MessageStatus": "teleported"})


def test_an_altered_parameter_is_refused() -> None:
    headers = signature(URL, STATUS)
    with pytest.raises(SignatureError):
        TwilioWebhookVerifier(TOKEN).verify(URL, STATUS | {"MessageStatus": "delivered"}, headers)


def test_a_signature_for_another_url_or_token_is_refused() -> None:
    with pytest.raises(SignatureError):
        TwilioWebhookVerifier(TOKEN).verify(URL, STATUS, signature(URL + "?x=1", STATUS))
    with pytest.raises(SignatureError):
        TwilioWebhookVerifier("other-token").verify(URL, STATUS, signature(URL, STATUS))


def test_a_missing_or_garbage_signature_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing"):
        TwilioWebhookVerifier(TOKEN).verify(URL, STATUS, {})
    with pytest.raises(SignatureError):
        TwilioWebhookVerifier(TOKEN).verify(URL, STATUS, {"X-Twilio-Signature": "!!"})


def test_a_replayed_callback_verifies_again_so_handling_must_be_idempotent() -> None:
    # Twilio signs no timestamp: the same request verifies twice and parses to the same event.
    headers = signature(URL, STATUS)
    verifier = TwilioWebhookVerifier(TOKEN)
    verifier.verify(URL, STATUS, headers)
    verifier.verify(URL, STATUS, headers)
    assert parse_status_callback(STATUS) == parse_status_callback(STATUS)


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop ",
        "S T O P",
        "unsubscribe",
        "Cancel",
        "END",
        "quit.",
        "\tQuit\n",
        "StopAll",
        "REVOKE",
        "revoke",
        "OptOut",
        "opt out",
    ],
)
def test_opt_out_keywords_in_any_case_and_spacing(body: str) -> None:
    assert keyword_event(body) is EventKind.OPTED_OUT


@pytest.mark.parametrize("body", ["START", "start", " Start! ", "unstop"])
def test_opt_in_keywords(body: str) -> None:
    assert keyword_event(body) is EventKind.OPTED_IN


@pytest.mark.parametrize("body", ["Please don't stop", "stopped", "", "STOP IT NOW", "starting"])
def test_other_text_is_not_a_keyword(body: str) -> None:
    assert keyword_event(body) is None


def test_an_inbound_stop_over_whatsapp_is_an_opt_out_for_the_sender() -> None:
    params = {
        "MessageSid": "SM9",
        "From": "whatsapp:+447400123456",
        "To": "whatsapp:+447400000001",
        "Body": " Stop ",
    }
    url = "https://hcs.example/webhooks/twilio/inbound"
    TwilioWebhookVerifier(TOKEN).verify(url, params, signature(url, params))
    event = parse_inbound(params)
    assert (event.kind, event.recipient) == (EventKind.OPTED_OUT, "+447400123456")
    assert parse_inbound(params | {"Body": "Where is my order?"}).kind is EventKind.RECEIVED


def test_twilio_advanced_opt_out_type_is_honoured() -> None:
    params = {"MessageSid": "SM8", "From": "+447400123456", "Body": "Arrêt", "OptOutType": "STOP"}
    assert parse_inbound(params).kind is EventKind.OPTED_OUT
    assert parse_inbound(params | {"OptOutType": "START"}).kind is EventKind.OPTED_IN
