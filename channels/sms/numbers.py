"""Phone numbers parsed with phonenumbers and normalised to E.164."""

from __future__ import annotations

import phonenumbers

from channels.errors import InvalidRecipient


def normalise_phone(raw: str, default_region: str | None = None) -> str:
    """The E.164 form of a valid number, or InvalidRecipient."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRecipient(f"not a phone number: {raw!r}", reason=str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidRecipient(f"not a valid phone number: {raw!r}", reason="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
