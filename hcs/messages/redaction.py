"""Provider texts lose personal data before a message's reason or events keep them.

A provider's free-text reason often quotes the recipient ("550 5.1.1 <ana@example.com>: no such
user", "The 'To' number +447400123456 is not a valid phone number"). Reasons and events are
shown to every key with `read` and kept for years, so the message's own recipient values, and
any e-mail address or international number, are replaced before they are stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

RECIPIENT = "[recipient]"
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_PHONE = re.compile(r"\+\d[\d ()-]{6,18}\d")


def redact(text: str, to: Mapping[str, Any] | None = None, key: str = "") -> str:
    """`text` without the recipient's values, e-mail addresses or international numbers."""
    values = {value for value in (to or {}).values() if isinstance(value, str)} | {key}
    for value in sorted((v.strip() for v in values if len(v.strip()) >= 3), key=len, reverse=True):
        text = re.sub(re.escape(value), RECIPIENT, text, flags=re.IGNORECASE)
    return _PHONE.sub(RECIPIENT, _EMAIL.sub(RECIPIENT, text))
