"""A theme's settings that become mail headers (the sender's name and address) are header-safe.

The worker refuses a line break, a control character or an RFC 2047 encoded word in a header
(Python 3.11.7 is open to CVE-2024-6923), so a theme holding one would pass review and then
fail every send: it is refused when it is saved and when it is submitted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from templates_store.errors import ValidationFailed

NAMES = ("from_name", "sender_name")
ADDRESSES = ("from_address", "reply_to")
MAX_CHARS = 200
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?", re.IGNORECASE)
_NOT_IN_ADDRESS = frozenset(',;<>"() \t')


def _problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > MAX_CHARS:
        return f"is longer than {MAX_CHARS} characters"
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        return "must not contain line breaks or control characters"
    if _ENCODED_WORD.search(value):
        return "must not contain an RFC 2047 encoded word (=?...?=)"
    if key in ADDRESSES and (_NOT_IN_ADDRESS & set(value) or value.count("@") != 1):
        return "must be one plain e-mail address"
    return None


def clean_theme_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as given, or `ValidationFailed` naming each header field that is unsafe."""
    if not isinstance(settings, Mapping):
        raise ValidationFailed({"settings": ["must be an object"]})
    errors = {}
    for key in (*NAMES, *ADDRESSES):
        if settings.get(key) not in (None, ""):
            problem = _problem(key, settings[key])
            if problem:
                errors[f"settings.{key}"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    return dict(settings)
