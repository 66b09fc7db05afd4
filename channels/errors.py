"""The one exception tree of the channel adapters."""

from __future__ import annotations

__all__ = [
    "ChannelError",
    "InvalidContent",
    "InvalidRecipient",
    "SignatureError",
    "TransientChannelError",
    "is_transient_status",
]


class ChannelError(Exception):
    """A message could not be prepared or sent; retrying will not help."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason


class TransientChannelError(ChannelError):
    """The provider is busy or unreachable (429, 5xx, timeout): retry later."""


class InvalidRecipient(ChannelError):
    """The recipient (address, number, conversation) is not usable."""


class InvalidContent(ChannelError):
    """The rendered content cannot become this channel's output (e.g. a header injection)."""


class SignatureError(ChannelError):
    """A webhook or token signature is missing, malformed, wrong or too old."""


def is_transient_status(status: int | None) -> bool:
    """Whether an HTTP status means "try again later"."""
    return status is not None and (status == 429 or status == 408 or status >= 500)
