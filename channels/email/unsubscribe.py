"""Signed, expiring unsubscribe tokens for List-Unsubscribe (RFC 8058 one-click).

A token is ``base64url(recipient "\\n" scope "\\n" expiry) "." base64url(HMAC-SHA256)``, the
HMAC keyed with a secret the application passes in, over the first part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode

from channels.errors import SignatureError


@dataclass(frozen=True)
class UnsubscribeClaim:
    """Who asked to leave what, as a verified token says."""

    recipient: str
    scope: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("utf-8"), hashlib.sha256).digest())


def make_unsubscribe_token(secret: bytes, recipient: str, scope: str, expires_at: datetime) -> str:
    """A token proving `recipient` may leave `scope` until `expires_at`."""
    if not secret:
        raise ValueError("an unsubscribe secret is required")
    body = f"{recipient}\n{scope}\n{int(expires_at.timestamp())}"
    payload = _b64(body.encode("utf-8"))
    return f"{payload}.{_mac(secret, payload)}"


def verify_unsubscribe_token(
    secret: bytes, token: str, *, now: datetime | None = None
) -> UnsubscribeClaim:
    """The claim a token carries; raises SignatureError when altered, malformed or expired."""
    payload, _, mac = token.partition(".")
    if not payload or not mac or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise SignatureError("unsubscribe token signature does not match")
    try:
        recipient, scope, expiry = _unb64(payload).decode("utf-8").split("\n")
        expires_at = datetime.fromtimestamp(int(expiry), UTC)
    except (ValueError, binascii.Error) as exc:
        raise SignatureError("unsubscribe token is malformed") from exc
    if (now or datetime.now(UTC)) >= expires_at:
        raise SignatureError("unsubscribe token has expired")
    return UnsubscribeClaim(recipient, scope, expires_at)


def is_one_click_post(body: bytes) -> bool:
    """Whether a POST body is RFC 8058's one-click request (``List-Unsubscribe=One-Click``)."""
    pairs = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return pairs.get("List-Unsubscribe") == ["One-Click"]


def unsubscribe_url(
    base_url: str,
    secret: bytes,
    recipient: str,
    scope: str,
    *,
    now: datetime,
    ttl: timedelta = timedelta(days=60),
) -> str:
    """The one-click unsubscribe URL for `recipient` (also for the link in the mail's body)."""
    token = make_unsubscribe_token(secret, recipient, scope, now + ttl)
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}{urlencode({'token': token})}"
