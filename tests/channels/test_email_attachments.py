"""A file sent with an email (a test letter's PDF): in the .eml and in SendGrid's request body."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy

from channels.core import Category
from channels.email.message import (
    Attachment,
    EmailContent,
    EmailSettings,
    PreparedEmail,
    prepare_email,
    to_eml,
)
from channels.email.sendgrid import mail_body

PDF = Attachment("notice-v1-en-TEST.pdf", "application/pdf", b"%PDF-1.7\n\x00\xff binary")


def _prepared() -> PreparedEmail:
    return prepare_email(
        EmailSettings(from_address="no-reply@hcs.example"),
        EmailContent("[TEST] Letter", "<p>The letter is attached.</p>"),
        "ana@example.com",
        Category.TRANSACTIONAL,
        reference="test_1",
        now=datetime(2026, 12, 6, tzinfo=UTC),
    )


def test_an_attached_file_travels_in_the_eml_beside_both_bodies_byte_for_byte() -> None:
    prepared = replace(_prepared(), attachments=(PDF,))
    mail = message_from_bytes(to_eml(prepared), policy=policy.default)
    assert mail.get_content_type() == "multipart/mixed"
    kinds = [part.get_content_type() for part in mail.walk()]
    assert "text/plain" in kinds and "text/html" in kinds
    (attached,) = list(mail.iter_attachments())
    assert attached.get_filename() == PDF.filename and attached.get_content() == PDF.data
    assert to_eml(prepared) == to_eml(replace(prepared))  # the same bytes each time


def test_sendgrid_gets_the_attached_file_base64_encoded() -> None:
    prepared = replace(_prepared(), attachments=(PDF,))
    (sent,) = mail_body(prepared)["attachments"]
    assert base64.b64decode(sent["content"]) == PDF.data
    assert sent["filename"] == PDF.filename and sent["type"] == "application/pdf"
    assert "attachments" not in mail_body(_prepared())
