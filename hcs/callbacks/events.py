"""The events a callback endpoint may choose, and how a delivery's body is shaped."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

# Message statuses a move or a first write can reach, and provider reports that move nothing.
EVENTS = (
    "accepted",
    "sent",
    "delivered",
    "failed",
    "suppressed",
    "unknown",
    "awaiting_signoff",
    "opened",
    "clicked",
    "rejected",
    "cancelled",
)
# The event of `POST /api/v1/webhooks/{id}/test`: sent to one endpoint whatever it chose.
TEST_EVENT = "test"


def stored(events: list[str]) -> str:
    """Chosen events as the `events` column holds them: sorted, a space at each end."""
    return " " + " ".join(sorted(set(events))) + " "


def chosen(column: str) -> list[str]:
    """The `events` column as a list."""
    return column.split()


def event_type(event: str) -> str:
    """The `type` of a delivery's body: `message.sent`, ..., `webhook.test`."""
    return "webhook.test" if event == TEST_EVENT else f"message.{event}"


def body(event: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """The exact bytes delivered (and signed): Standard Webhooks' `type`, `timestamp`, `data`."""
    stamp = occurred_at.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    document = {"type": event_type(event), "timestamp": stamp, "data": data}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
