"""Addresses as a message's `to` holds them, checked and normalised."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email

from channels.email.headers import check_header_text, is_common_address
from channels.errors import InvalidContent, InvalidRecipient
from channels.sms import normalise_phone
from templates_store.errors import ValidationFailed


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


def required(to: Mapping[str, Any], field: str, channel: str) -> str:
    """The text in `to[field]`; a channel cannot send without it."""
    value = to.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed({f"to.{field}": [f"is required for the {channel} channel"]})
    return value


# A display name longer than this is no name; mail clients cut far shorter.
MAX_NAME = 200


def header_safe(value: Any, field: str) -> str:
    """A value that goes into a mail header (a name): text, no line breaks, no encoded words.

    Python 3.11.7 is open to CVE-2024-6923, so `=?UTF-8?Q?=0A?=` could become a header.
    """
    if not isinstance(value, str):
        raise ValidationFailed({field: ["must be a string"]})
    if len(value) > MAX_NAME:
        raise ValidationFailed({field: [f"is longer than {MAX_NAME} characters"]})
    try:
        return check_header_text(value, field)
    except InvalidContent as exc:
        raise ValidationFailed({field: [str(exc)]}) from None


# What turns one address into a list, a display name or a second header (the stdlib's parser
# would read `a@x, b@x` as two recipients: CVE-2024-6923); its syntax is `normal_email`'s.
NOT_PLAIN = frozenset(',;<>"\r\n\0')


def plain_address(value: str) -> str:
    """One plain e-mail address: no list, no display name, no quoting (a comma is two)."""
    if value != value.strip() or NOT_PLAIN & set(value):
        raise ValidationFailed({"to.email": ["must be one plain address (no list, no name)"]})
    return value


def normal_email(value: str) -> str:
    """An email address, normalised and lower-cased (no DNS lookup)."""
    lowered = value.lower()
    if value.isascii() and is_common_address(lowered):  # what email-validator would give
        return lowered
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed({"to.email": [str(exc)]}) from exc


def normal_phone(value: str) -> str:
    """A phone number in E.164."""
    try:
        return normalise_phone(value)
    except InvalidRecipient as exc:
        raise ValidationFailed({"to.phone": [f"{exc}; use E.164, e.g. +447400123456"]}) from exc


def address_key(to: Mapping[str, Any]) -> str:
    """A letter's recipient key: a digest of the address lines (case-folded), never the address."""
    joined = "\n".join(address_lines(to)).casefold()
    return "address:" + hashlib.sha256(joined.encode()).hexdigest()[:32]


def lookup_key(raw: str) -> str:
    """The key to look a recipient up by, from what a person types: an email address, a phone
    or WhatsApp number, a postal address (its lines), or a chat conversation id."""
    text = raw.strip()
    if "@" in text:
        return normal_email(text)
    if text.startswith(("+", "whatsapp:")):
        return normal_phone(text.removeprefix("whatsapp:"))
    if "\n" in text:
        return address_key({"address": text})
    return text
