"""The signed chat webhook scheme, for senders (us) and receivers (the chat platform).

Each POST carries two headers:

- ``X-HCS-Timestamp``: the send time in Unix seconds;
- ``X-HCS-Signature``: ``v1=`` + lowercase hex HMAC-SHA256, keyed with the shared secret, over
  ``timestamp + "." + raw body`` (the body's exact bytes). Several comma-separated ``v1=``
  values may be present while a secret is being rotated.

A receiver recomputes the HMAC over the raw body it received (before any JSON parsing),
compares in constant time, and refuses a timestamp more than the replay window (default five
minutes) away from its clock; to refuse replays inside the window too, it remembers the ``id``
of each message it accepted for that long. :func:`verify_chat_signature` does all but the last.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from channels.core import Headers
from channels.errors import SignatureError

TIMESTAMP_HEADER = "X-HCS-Timestamp"
SIGNATURE_HEADER = "X-HCS-Signature"
REPLAY_WINDOW = timedelta(minutes=5)


def chat_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for one request."""
    mac = hmac.new(secret, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def signed_headers(secret: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers a sender adds."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: chat_signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def _header(headers: Headers, name: str) -> str:
    value = next((v for k, v in headers.items() if k.lower() == name.lower()), "")
    if not value:
        raise SignatureError(f"missing {name} header")
    return value


def verify_chat_signature(
    secret: bytes,
    body: bytes,
    headers: Headers,
    *,
    now: float,
    window: timedelta = REPLAY_WINDOW,
) -> int:
    """Raise SignatureError unless signed with `secret` within the window; return the timestamp."""
    raw_timestamp = _header(headers, TIMESTAMP_HEADER)
    if not raw_timestamp.isdigit():
        raise SignatureError("malformed timestamp")
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > window.total_seconds():
        raise SignatureError("timestamp is outside the replay window")
    expected = chat_signature(secret, timestamp, body)
    offered = [part.strip() for part in _header(headers, SIGNATURE_HEADER).split(",")]
    if not any(hmac.compare_digest(expected, value) for value in offered):
        raise SignatureError("signature does not match")
    return timestamp
