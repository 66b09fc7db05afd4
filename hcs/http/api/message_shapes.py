"""What the API shows of a message: the same fields in one message, the log and a batch."""

from __future__ import annotations

from typing import Any

from hcs.identity.principal import Principal
from hcs.messages.erasure import ERASED, is_erased
from hcs.messages.models import Message
from templates_store.errors import NotFound


def summary(message: Message) -> dict[str, Any]:
    """A message's fields without its events, as the log lists it; `[erased]` for an erased
    recipient's address, data and metadata."""
    erased = is_erased(message)
    return {
        "id": message.id,
        "status": message.status,
        "reason": message.reason,
        "template": message.template_key,
        "version": message.version_number,
        "channel": message.channel,
        "category": message.category,
        "locale": message.locale,
        "to": ERASED if erased else message.to,
        "provider": message.provider,
        "provider_message_id": message.provider_message_id,
        "batch_id": message.batch_id,
        "reference": message.reference,
        "metadata": ERASED if erased else message.caller_metadata,
        "test": message.is_test,
        "created_at": message.created_at,
        "send_at": message.send_at,
        "sent_at": message.sent_at,
    }


def detail(message: Message) -> dict[str, Any]:
    """A message with its events."""
    events = [{"kind": e.kind, "at": e.at, "detail": e.detail} for e in message.events]
    return {**summary(message), "events": events}


def owner_filter(principal: Principal) -> str | None:
    """Whose messages the log shows `principal`: `None` for everyone's, else its own."""
    return None if principal.sees_all_messages else principal.email


def check_visible(principal: Principal, message: Message | None, message_id: str) -> Message:
    """The message if `principal` may see it; another caller's message is as if absent."""
    if message is None or not _may_see(principal, message):
        raise NotFound(f"no message {message_id!r}")
    return message


def _may_see(principal: Principal, message: Message) -> bool:
    # People who sign off messages read the ones they are shown, whoever sent them.
    signs_off = principal.is_person and principal.may("signoff", "read")
    owner = owner_filter(principal)
    return owner is None or signs_off or message.requested_by == owner
