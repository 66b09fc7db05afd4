"""Header values checked by us: this Python (3.11.7) is open to CVE-2024-6923.

An encoded word such as ``=?UTF-8?Q?=0A?=`` in a subject can become a real extra header when the
message is serialised, and a ``To`` with a comma becomes two recipients, so subjects, display
names and addresses are validated here before they reach :mod:`email`.
"""

from __future__ import annotations

import re
import unicodedata
from email.headerregistry import Address
from email.utils import getaddresses
from functools import lru_cache

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from channels.errors import InvalidContent, InvalidRecipient
from channels.invisible import strip_invisible

_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bq]\?", re.IGNORECASE)


def check_header_text(value: str, part: str) -> str:
    """Return `value` if it is safe as a header's text (no control characters, no encoded words)."""
    # In ASCII the control characters (Cc) are exactly the unprintable ones; Zl and Zp are not
    # ASCII. The per-character test, for other text, costs a call per character.
    if value.isascii():
        forbidden = not value.isprintable()
    else:
        forbidden = any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value)
    if forbidden:
        raise InvalidContent(f"{part} must not contain line breaks or control characters")
    if _ENCODED_WORD.search(value):
        raise InvalidContent(f"{part} must not contain an RFC 2047 encoded word (=?...?=)")
    return value


# The common address, in lower case: a dot-atom of ASCII before the @, and after it at least two
# labels of letters, digits and single inner hyphens (no `--`: no punycode, no R-LDH label),
# ending in letters. Every address of this shape that also keeps to the lengths and is not a
# special-use name is one email-validator accepts and gives back unchanged
# (tests/channels/test_email_addresses.py compares them), in 1 µs where it takes 23, paid once
# a message at finishing and at acceptance. Anything else goes the whole way.
_COMMON = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@((?:[a-z0-9]+(?:-[a-z0-9]+)*\.)+([a-z]+))"
)
_SPECIAL_TLDS = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def is_common_address(address: str) -> bool:
    """Whether `address` is a common one, valid and normalised already (see `_COMMON`)."""
    found = _COMMON.fullmatch(address) if address.isascii() else None
    return (
        found is not None
        and len(found[1]) <= 63  # so is every label
        and len(address) - len(found[1]) <= 65  # the local part and the @
        and found[2] not in _SPECIAL_TLDS
    )


@lru_cache(maxsize=4096)
def check_address(address: str) -> str:
    """Return the normalised form of one plain e-mail address, or raise InvalidRecipient."""
    if is_common_address(address):
        return address
    if any(char in address for char in ',;<>"\r\n\0') or address != address.strip():
        raise InvalidRecipient("an e-mail address must be one plain address", reason=address)
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidRecipient(f"invalid e-mail address: {exc}", reason=address) from exc
    return checked.normalized


# A display name of plain words and a dot-atom address: the email package writes them as they
# are (`Name <local@domain>`), which is one mailbox by construction (no specials, no quotes).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9+_-]+(?:\.[A-Za-z0-9+_-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)


@lru_cache(maxsize=1024)
def format_address(address: str, name: str | None = None, part: str = "address") -> str:
    """One mailbox as header text, with the display name quoted; exactly one address guaranteed."""
    addr_spec = check_address(address)
    display = check_header_text(strip_invisible(name), f"{part} name") if name else ""
    if _PLAIN_ADDRESS.fullmatch(addr_spec) and (not display or _PLAIN_NAME.fullmatch(display)):
        return f"{display} <{addr_spec}>" if display else addr_spec
    text = str(Address(display_name=display, addr_spec=addr_spec))
    parsed = getaddresses([text])
    if len(parsed) != 1 or parsed[0][1] != addr_spec:
        raise InvalidContent(f"{part} does not form exactly one address")
    return text


def domain_of(address: str) -> str:
    """The domain part of an address."""
    return address.rpartition("@")[2]
