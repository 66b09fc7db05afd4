"""Invisible characters are removed by whole Unicode classes, and never leave in a channel."""

from __future__ import annotations

import sys
import unicodedata
from datetime import UTC, datetime

from channels.chat import ChatContent, ChatSettings, prepare_chat
from channels.core import Category
from channels.email import EmailContent, EmailSettings, prepare_email, to_eml
from channels.invisible import KEPT, is_invisible, strip_data, strip_invisible
from channels.sms import SmsContent, SmsSettings, prepare_sms

HIDDEN = "\u202e\u200b\U000e0041\u2066\ufeff\u00ad"


def test_every_format_control_and_every_tag_character_is_removed() -> None:
    format_controls = [
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    ]
    assert len(format_controls) > 150
    assert all(is_invisible(c) for c in format_controls if c not in KEPT)
    assert all(is_invisible(chr(c)) for c in range(0xE0000, 0xE0080))  # tags
    assert all(is_invisible(chr(c)) for c in range(0xE0100, 0xE01F0))  # variation selectors
    assert is_invisible("\u3164") and is_invisible("\u115f")  # Hangul fillers
    assert not any(is_invisible(c) for c in "aZ09 \n\t€éßЖ中😀")


def test_joiners_that_visible_text_needs_are_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert strip_invisible(family) == family and strip_invisible(persian) == persian


def test_data_is_cleaned_everywhere_and_the_changed_fields_named() -> None:
    data = {"name": f"An{HIDDEN}a", "lines": [{"sku": "A\u200b1"}], "n": 3, "k\u200be": "v"}
    cleaned, fields = strip_data(data, "data")
    assert cleaned == {"name": "Ana", "lines": [{"sku": "A1"}], "n": 3, "ke": "v"}
    assert sorted(fields) == ["data.ke", "data.lines.0.sku", "data.name"]


def test_an_sms_a_chat_text_and_email_headers_never_carry_them() -> None:
    sms = prepare_sms(
        SmsSettings(), SmsContent(f"Order {HIDDEN}A-1"), "+447400123456", reference="r"
    )
    assert sms.body == "Order A-1" and sms.analysis.encoding.value == "GSM-7"
    chat = prepare_chat(
        ChatSettings(), ChatContent(f"Hi{HIDDEN}", (f"Yes{HIDDEN}",)), "conv-1", reference="r"
    )
    assert (chat.body, chat.quick_replies) == ("Hi", ("Yes",))
    settings = EmailSettings(from_address="news@acme.example.com", from_name=f"Acme{HIDDEN}")
    content = EmailContent(f"Your order{HIDDEN}", "<p>Hi</p>")
    email = prepare_email(
        settings,
        content,
        "ana@example.com",
        Category.TRANSACTIONAL,
        reference="r1",
        now=datetime.now(UTC),
        recipient_name=f"Ana{HIDDEN} Ruiz",
    )
    headers = to_eml(email).split(b"\r\n\r\n", 1)[0].decode()
    assert "Subject: Your order" in headers
    assert (
        "To: Ana Ruiz <ana@example.com>" in headers
        and "From: Acme <news@acme.example.com>" in headers
    )
    assert not any(char in headers for char in HIDDEN) and "=?" not in headers
