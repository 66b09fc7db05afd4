"""Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def headers(message_id: str, at: datetime, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The three headers of one delivery attempt, signed with every secret given.

    During a rotation both secrets sign (space-separated `v1,` signatures, as the specification
    allows), so a receiver holding either one verifies.
    """
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)  # ours are naive UTC
    signatures = [Webhook(secret).sign(message_id, moment, body) for secret in secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
