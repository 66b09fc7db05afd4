"""What `to` holds per channel, checked and reduced to one key for consent and search."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hcs.channels.addresses import lookup_key
from hcs.channels.registry import CHANNELS
from templates_store.errors import ValidationFailed


def recipient_key(channel: str, to: Any) -> str:
    """The address a channel sends to, normalised: email, E.164 phone, chat id, address hash."""
    if not isinstance(to, Mapping):
        raise ValidationFailed({"to": ["must be an object"]})
    return CHANNELS[channel].recipient_key(to)


__all__ = ["lookup_key", "recipient_key"]
