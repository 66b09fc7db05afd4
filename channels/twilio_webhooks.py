"""Twilio status callbacks and inbound messages (SMS and WhatsApp): verification and parsing.

Twilio signs the public URL plus the sorted POST parameters (``X-Twilio-Signature``); the URL
must be the one Twilio called (https, behind a proxy too). The signature carries no timestamp,
so a replay cannot be told from a retry: callers make event handling idempotent on
(MessageSid, MessageStatus).
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from channels.core import DeliveryEvent, EventKind, Headers
from channels.errors import ChannelError, SignatureError
from channels.keywords import keyword_event

__all__ = [
    "SIGNATURE_HEADER",
    "TwilioWebhookVerifier",
    "parse_inbound",
    "parse_status_callback",
]


SIGNATURE_HEADER = "X-Twilio-Signature"

# Twilio's message statuses as delivery events (status callbacks and lookups alike).
STATUS_KINDS = {
    "accepted": EventKind.ACCEPTED,
    "queued": EventKind.ACCEPTED,
    "scheduled": EventKind.ACCEPTED,
    "sending": EventKind.SENT,
    "sent": EventKind.SENT,
    "delivered": EventKind.DELIVERED,
    "read": EventKind.READ,
    "undelivered": EventKind.BOUNCED,
    "failed": EventKind.FAILED,
    "canceled": EventKind.FAILED,
}


_OPT_OUT_TYPES = {"STOP": EventKind.OPTED_OUT, "START": EventKind.OPTED_IN}


def _strip_channel(address: str | None) -> str | None:
    """`whatsapp:+44...` becomes `+44...`; plain numbers pass through."""
    return address.partition(":")[2] if address and ":" in address else address


class TwilioWebhookVerifier:
    """Checks X-Twilio-Signature with the account's auth token."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)

    def verify(self, url: str, params: Mapping[str, str], headers: Headers) -> None:
        """Raise SignatureError unless the request is signed for exactly this URL and params."""
        signature = next((v for k, v in headers.items() if k.lower() == "x-twilio-signature"), "")
        if not signature:
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        if not self.validator.validate(url, dict(params), signature):
            raise SignatureError("Twilio signature does not match")


def parse_status_callback(params: Mapping[str, str], reference: str | None = None) -> DeliveryEvent:
    """A delivery event from a (verified) message status callback; `reference` is our message
    id from the callback URL's query (`channels.twilio_client.callback_for`), when it had one."""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    kind = STATUS_KINDS.get(status.lower())
    if kind is None:
        raise ChannelError(f"unknown Twilio message status {status!r}")
    code = params.get("ErrorCode")
    return DeliveryEvent(
        kind=kind,
        provider="twilio",
        provider_message_id=params.get("MessageSid") or params.get("SmsSid"),
        recipient=_strip_channel(params.get("To")),
        occurred_at=None,
        reason=f"Twilio error {code}" if code else None,
        reference=reference or None,
        data={"status": status, "error_code": code or ""},
    )


def parse_inbound(params: Mapping[str, str]) -> DeliveryEvent:
    """An inbound message: opted_out / opted_in for keywords, otherwise received."""
    body = params.get("Body", "")
    # With Advanced Opt-Out, Twilio names the keyword it matched itself.
    kind = _OPT_OUT_TYPES.get(params.get("OptOutType", "").upper()) or keyword_event(body)
    return DeliveryEvent(
        kind=kind or EventKind.RECEIVED,
        provider="twilio",
        provider_message_id=params.get("MessageSid"),
        recipient=_strip_channel(params.get("From")),
        occurred_at=None,
        data={"body": body, "to": params.get("To", "")},
    )
