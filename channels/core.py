"""The shape every channel shares: issues shown in preview, send results, delivery events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "BatchSender",
    "Category",
    "Headers",
    "DeliveryEvent",
    "EventKind",
    "Issue",
    "Level",
    "Lookup",
    "Preview",
    "SendResult",
    "error",
    "has_errors",
    "warning",
]


class Headers(Protocol):
    """A request's headers as webhooks read them: a mapping, or a web framework's own type."""

    def items(self) -> Iterable[tuple[str, str]]:
        """Each header's name and value."""
        ...


class Category(StrEnum):
    """A message's category, which decides e.g. whether unsubscribe headers are required."""

    TRANSACTIONAL = "transactional"
    SERVICE = "service"
    MARKETING = "marketing"
    SENSITIVE = "sensitive"


class Level(StrEnum):
    """How bad a validation issue is: errors block sending, warnings are shown."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Issue:
    """One validation finding an author sees in preview."""

    level: Level
    code: str
    message: str
    part: str | None = None


def warning(code: str, message: str, part: str | None = None) -> Issue:
    """A warning issue."""
    return Issue(Level.WARNING, code, message, part)


def error(code: str, message: str, part: str | None = None) -> Issue:
    """An error issue."""
    return Issue(Level.ERROR, code, message, part)


def has_errors(issues: list[Issue]) -> bool:
    """Whether any issue blocks sending."""
    return any(issue.level is Level.ERROR for issue in issues)


@dataclass(frozen=True)
class Preview:
    """What an author sees in preview: the channel's output parts and the issues found."""

    output: Mapping[str, object]
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class SendResult:
    """What a provider said about one accepted message."""

    provider: str
    message_id: str
    status: int | None = None
    detail: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class BatchSender(Protocol):
    """A provider that takes several messages in one call (SendGrid personalizations, files).

    `send_many` is one provider call: it returns a result per message, in order, or raises one
    `ChannelError` for the whole call (nothing of it was taken when the error is a refusal; an
    ambiguous error leaves every message of the call in doubt). `batch_size` caps a call.
    """

    batch_size: int

    def batch_key(self, prepared: Any) -> object | None:
        """What messages of one call must share (e.g. the sender); None: it goes alone."""
        ...

    def send_many(self, prepared: Sequence[Any]) -> list[SendResult]:
        """Hand several prepared messages to the provider in one call."""
        ...


class EventKind(StrEnum):
    """Delivery events that provider webhooks become."""

    ACCEPTED = "accepted"
    SENT = "sent"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    READ = "read"
    BOUNCED = "bounced"
    FAILED = "failed"
    OPENED = "opened"
    CLICKED = "clicked"
    COMPLAINED = "complained"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    RECEIVED = "received"


@dataclass(frozen=True)
class DeliveryEvent:
    """One thing a provider reported about a message or a recipient."""

    kind: EventKind
    provider: str
    provider_message_id: str | None
    recipient: str | None
    occurred_at: datetime | None
    reason: str | None = None
    reference: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Lookup(Protocol):
    """A provider that can be asked what became of a message whose send ended ambiguously."""

    def look_up(
        self, prepared: Any, *, provider_message_id: str | None, since: datetime
    ) -> list[DeliveryEvent]:
        """What the provider holds that may be this message, best first (empty: nothing yet).

        Several when it cannot tell copies apart (the same body to the same number twice):
        the caller takes the first that no other message of its own already holds.

        Raises TransientChannelError when it cannot be asked now, and LookupUnavailable when
        this account cannot ask at all (an API that is not enabled).
        """
        ...
