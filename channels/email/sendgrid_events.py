"""SendGrid's signed event webhook: ECDSA verification with a replay window, and parsing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sendgrid.helpers.eventwebhook import EventWebhook  # type: ignore[import-untyped]

from channels.core import DeliveryEvent, EventKind, Headers
from channels.errors import ChannelError, SignatureError

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

_KINDS = {
    "processed": EventKind.ACCEPTED,
    "deferred": EventKind.DEFERRED,
    "delivered": EventKind.DELIVERED,
    "bounce": EventKind.BOUNCED,
    "blocked": EventKind.BOUNCED,
    "dropped": EventKind.FAILED,
    "open": EventKind.OPENED,
    "click": EventKind.CLICKED,
    "spamreport": EventKind.COMPLAINED,
    "unsubscribe": EventKind.OPTED_OUT,
    "group_unsubscribe": EventKind.OPTED_OUT,
    "group_resubscribe": EventKind.OPTED_IN,
}


def _header(headers: Headers, name: str) -> str:
    value = next((v for k, v in headers.items() if k.lower() == name.lower()), "")
    if not value:
        raise SignatureError(f"missing {name} header")
    return value


def _check_age(timestamp: str, now: datetime, tolerance: timedelta) -> None:
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError) as exc:
        raise SignatureError("malformed webhook timestamp") from exc
    if abs(now - signed_at) > tolerance:
        raise SignatureError("webhook timestamp is outside the replay window")


class SendGridEventVerifier:
    """Verifies SendGrid event webhook requests with the account's public key."""

    def __init__(self, public_key: str, *, tolerance: timedelta = timedelta(minutes=5)) -> None:
        self.webhook = EventWebhook(public_key=public_key)
        self.tolerance = tolerance

    def verify(self, body: bytes, headers: Headers, *, now: datetime | None = None) -> None:
        """Raise SignatureError unless `body` (byte-exact) carries a fresh, valid signature."""
        signature = _header(headers, SIGNATURE_HEADER)
        timestamp = _header(headers, TIMESTAMP_HEADER)
        _check_age(timestamp, now or datetime.now(UTC), self.tolerance)
        try:
            valid = self.webhook.verify_signature(body.decode("utf-8"), signature, timestamp)
        except (ValueError, TypeError) as exc:  # the SDK raises on a malformed signature
            raise SignatureError("malformed webhook signature") from exc
        if not valid:
            raise SignatureError("webhook signature does not match")

    def events(
        self, body: bytes, headers: Headers, *, now: datetime | None = None
    ) -> list[DeliveryEvent]:
        """Verify, then parse, one webhook request."""
        self.verify(body, headers, now=now)
        return parse_sendgrid_events(body)


def _occurred_at(timestamp: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(timestamp)), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _event(item: Mapping[str, Any]) -> DeliveryEvent | None:
    kind = _KINDS.get(str(item.get("event")))
    if kind is None:
        return None
    message_id = str(item.get("sg_message_id") or "").split(".", 1)[0] or None
    reason = item.get("reason") or item.get("response") or item.get("url")
    return DeliveryEvent(
        kind=kind,
        provider="sendgrid",
        provider_message_id=message_id,
        recipient=item.get("email"),
        occurred_at=_occurred_at(item.get("timestamp")),
        reason=str(reason) if reason else None,
        reference=item.get("hcs_reference"),
        data={
            "event": str(item.get("event")),
            "sg_event_id": str(item.get("sg_event_id", "")),
            # A bounce of type `blocked` is a soft one (the receiver refused for now).
            "type": str(item.get("type") or ""),
        },
    )


def parse_sendgrid_events(body: bytes) -> list[DeliveryEvent]:
    """Delivery events from a (verified) SendGrid webhook body; unknown events are skipped."""
    try:
        items = json.loads(body)
    except ValueError as exc:
        raise ChannelError("webhook body is not JSON") from exc
    if not isinstance(items, list):
        raise ChannelError("webhook body is not a list of events")
    events = (_event(item) for item in items if isinstance(item, dict))
    return [event for event in events if event is not None]
