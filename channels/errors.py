"""The one exception tree of the channel adapters."""

from __future__ import annotations

import math
import socket
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.error import HTTPError, URLError

__all__ = [
    "ChannelError",
    "InvalidContent",
    "InvalidRecipient",
    "LookupUnavailable",
    "SignatureError",
    "TransientChannelError",
    "is_transient_status",
    "rate_limit_reset_seconds",
    "retry_after_seconds",
    "wait_asked",
    "was_refused",
]


class ChannelError(Exception):
    """A message could not be prepared or sent; retrying will not help.

    `refused` says the provider definitely did not take the message (it answered no): only such
    a refusal may move a message to a secondary provider, since any other failure might have
    been a send.
    """

    refused_by_default = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        refused: bool | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.refused = self.refused_by_default if refused is None else refused


class TransientChannelError(ChannelError):
    """The provider is busy or unreachable (429, 5xx, timeout): retry later.

    `retry_after` is how many seconds the provider asked us to wait (`Retry-After`), if it did.
    A transient error is a refusal only when we know nothing was sent (the connection was
    refused before the request went out); a timeout or a 5xx is not.
    """

    refused_by_default = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        refused: bool | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, reason=reason, refused=refused)
        self.retry_after = retry_after


class InvalidRecipient(ChannelError):
    """The recipient (address, number, conversation) is not usable."""


class UnreachableRecipient(InvalidRecipient):
    """The provider will not deliver to this recipient again (Twilio 21610: they unsubscribed
    at the carrier): the recipient is to be suppressed on the channel."""


class LookupUnavailable(ChannelError):
    """The provider cannot be asked about messages with this account (an add-on not enabled)."""


class InvalidContent(ChannelError):
    """The rendered content cannot become this channel's output (e.g. a header injection)."""


class SignatureError(ChannelError):
    """A webhook or token signature is missing, malformed, wrong or too old."""


def is_transient_status(status: int | None) -> bool:
    """Whether an HTTP status means "try again later"."""
    return status is not None and (status == 429 or status == 408 or status >= 500)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header (delay in seconds, or an HTTP date) as seconds from now."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


# An X-RateLimit-Reset past this is a moment (Unix seconds, as SendGrid sends it); below it, a
# number of seconds from now (as the IETF RateLimit drafts and some providers send it).
_EPOCH_FROM = 1_000_000_000


def rate_limit_reset_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """An `X-RateLimit-Reset` header (a Unix time, or seconds from now) as seconds from now."""
    try:
        reset = float((value or "").strip())
    except ValueError:
        return None
    if not math.isfinite(reset) or reset < 0:
        return None
    if reset < _EPOCH_FROM:
        return reset
    return max(reset - (now or datetime.now(UTC)).timestamp(), 0.0)


def wait_asked(headers: Any, now: datetime | None = None) -> float | None:
    """How long a provider's answer asks us to wait: `Retry-After`, else `X-RateLimit-Reset`;
    None when it asks nothing. `headers` is any mapping with `get` (case-insensitive ones
    included)."""
    if headers is None:
        return None
    asked = retry_after_seconds(_header(headers, "Retry-After"), now)
    if asked is not None:
        return asked
    return rate_limit_reset_seconds(_header(headers, "X-RateLimit-Reset"), now)


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name)
    if value is None and isinstance(headers, dict):  # a plain dict: its keys as sent
        value = next((v for k, v in headers.items() if str(k).lower() == name.lower()), None)
    return None if value is None else str(value)


def was_refused(exc: BaseException) -> bool:
    """Whether a connection error (or what caused it) shows that nothing reached the provider.

    True when the connection never opened (refused, a name that does not resolve) or when
    urllib failed before the request was fully written (a `URLError` wrapping an `OSError`:
    a connect timeout too). A timeout or a reset while waiting for the answer is not: the
    request may have been taken. Clients that say "connect timeout" themselves (requests'
    `ConnectTimeout`) are told apart by their adapters.
    """
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError | socket.gaierror):
            return True
        if _unsent_by_urllib(seen):
            return True
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else seen.__cause__ or seen.__context__
    return False


def _unsent_by_urllib(exc: BaseException) -> bool:
    """urllib wraps in `URLError` only what failed while connecting and writing the request."""
    return (
        isinstance(exc, URLError)
        and not isinstance(exc, HTTPError)
        and isinstance(exc.reason, OSError)
    )
