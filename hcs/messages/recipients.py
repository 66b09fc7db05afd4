"""What `to` holds per channel, checked and reduced to one key for consent and search."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email

from channels.errors import InvalidRecipient
from channels.sms import normalise_phone
from templates_store.errors import ValidationFailed

FIELD_FOR = {"email": "email", "sms": "phone", "chat": "chat", "letter": "address"}


def address_lines(to: Mapping[str, Any]) -> list[str]:
    """A postal address as printable lines (a list, or one string with newlines)."""
    address = to.get("address")
    lines = address.splitlines() if isinstance(address, str) else address
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise ValidationFailed({"to.address": ["must be a list of lines or one string"]})
    cleaned = [line.strip() for line in lines if line.strip()]
    if not 2 <= len(cleaned) <= 8:
        raise ValidationFailed({"to.address": ["needs between 2 and 8 lines"]})
    return cleaned


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed({"to.email": [str(exc)]}) from exc


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except InvalidRecipient as exc:
        raise ValidationFailed({"to.phone": [f"{exc}; use E.164, e.g. +447400123456"]}) from exc


def recipient_key(channel: str, to: Any) -> str:
    """The address a channel sends to, normalised: email, E.164 phone, chat id, address hash."""
    if not isinstance(to, Mapping):
        raise ValidationFailed({"to": ["must be an object"]})
    field = FIELD_FOR[channel]
    value = to.get(field)
    if channel == "letter":
        joined = "\n".join(address_lines(to)).casefold()
        return "address:" + hashlib.sha256(joined.encode()).hexdigest()[:32]
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed({f"to.{field}": [f"is required for the {channel} channel"]})
    if channel == "email":
        return _email(value)
    if channel == "sms":
        return _phone(value)
    if value.startswith("whatsapp:") or value.startswith("+"):
        return _phone(value.removeprefix("whatsapp:"))
    return value.strip()


def lookup_key(raw: str) -> str:
    """The key to look a recipient up by, from what a person types (email, phone or id)."""
    text = raw.strip()
    if "@" in text:
        return _email(text)
    if text.startswith("+"):
        return _phone(text)
    return text
