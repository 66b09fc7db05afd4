"""Provider texts lose the recipient and any address or number before they are kept."""

from __future__ import annotations

from hcs.messages.redaction import redact


def test_the_recipients_values_addresses_and_numbers_are_replaced() -> None:
    to = {"email": "Ana.Ruiz@Example.com", "name": "Ana Ruiz"}
    text = "550 <ana.ruiz@example.com> (Ana Ruiz) unknown; cc bo@example.org"
    assert redact(text, to, "ana.ruiz@example.com") == (
        "550 <[recipient]> ([recipient]) unknown; cc [recipient]"
    )
    twilio = "21211: The 'To' number +44 7400 123456 is not a valid phone number."
    assert redact(twilio, {"phone": "+447400123456"}) == (
        "21211: The 'To' number [recipient] is not a valid phone number."
    )


def test_text_without_personal_data_is_kept_as_it_is() -> None:
    text = "TransientChannelError: chat webhook answered 503: busy (retry in 20 s)"
    assert redact(text, {"chat": "c1"}) == text
