"""The quick check of common addresses agrees with email-validator on every address it passes."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from channels.email.headers import check_address
from channels.errors import InvalidRecipient
from hcs.channels.addresses import normal_email
from hcs.errors import ValidationFailed

ATEXT = "abcxyzABCXYZ0189!#$%&'*+-/=?^_`{|}~"
# Labels near every rule a domain can break: special-use names, hyphens at the edges or twice
# at the third character, punycode, a 63- and a 64-character label, digits only, upper case.
LABELS = st.one_of(
    st.sampled_from(
        [
            "test", "local", "localhost", "invalid", "onion", "arpa", "com", "co", "example",
            "xn--bcher-kva", "ab--cd", "a--b", "a" * 63, "b" * 64, "123", "-a", "a-", "Example",
            "acme-mail", "x", "",
        ]
    ),
    st.text(alphabet="abcz019-é_.", max_size=12),
)  # fmt: skip
LOCALS = st.one_of(
    st.text(alphabet=ATEXT + ".", max_size=70),
    st.sampled_from(["Postmaster", "ABUSE", "ana.b", "a" * 64, "a" * 65, ".a", "a.", "a..b"]),
    st.text(alphabet=ATEXT + '.é\u212a"@ ', max_size=12),
)
# Mostly the common shape, near its edges: lengths at the limits, hyphens, odd top-level names.
NEAR_COMMON = st.builds(
    lambda local, labels, tld, upper: (
        (f"{local}@{'.'.join([*labels, tld])}").upper()
        if upper
        else f"{local}@{'.'.join([*labels, tld])}"
    ),
    st.from_regex(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(\.[a-z0-9_-]{1,8}){0,2}", fullmatch=True),
    st.lists(st.from_regex(r"[a-z0-9-]{1,64}", fullmatch=True), min_size=1, max_size=3),
    st.one_of(
        st.sampled_from(["com", "org", "test", "local", "arpa", "onion", "invalid", "io", "c"]),
        st.from_regex(r"[a-z0-9]{1,4}", fullmatch=True),
    ),
    st.booleans(),
)
ADDRESSES = st.one_of(
    NEAR_COMMON,
    st.builds(
        lambda local, labels: f"{local}@{'.'.join(labels)}",
        LOCALS,
        st.lists(LABELS, min_size=1, max_size=6),
    ),
    st.text(max_size=30),
)


def _validated(address: str, *, lower: bool) -> str | None:
    try:
        normalized = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
    return normalized.lower() if lower else normalized


@settings(max_examples=3000, deadline=None)
@given(ADDRESSES)
@example("ana@example.com")
@example("Ana.B@Example.COM")
@example("postmaster@acme.test")
@example(f"{'a' * 64}@{'b' * 63}.com")
@example(f"{'a' * 65}@example.com")
@example("ana@ab--cd.example.com")
@example(f"{'a' * 64}@{'b' * 60}.{'c' * 60}.{'d' * 60}.{'e' * 60}.com")
@example("\u212aate@example.com")  # the Kelvin sign lower-cases to an ASCII k
def test_an_address_is_accepted_and_normalised_exactly_as_email_validator_does(
    address: str,
) -> None:
    # Finishing: the address as it will be written in the To header.
    expected = _validated(address, lower=False)
    if expected is None or any(char in address for char in ',;<>"\r\n\0'):
        with pytest.raises(InvalidRecipient):
            check_address(address)
    elif address != address.strip():
        with pytest.raises(InvalidRecipient):
            check_address(address)
    else:
        assert check_address(address) == expected
    # Acceptance: the address the recipient is known by.
    expected = _validated(address, lower=True)
    if expected is None:
        with pytest.raises(ValidationFailed):
            normal_email(address)
    else:
        assert normal_email(address) == expected
