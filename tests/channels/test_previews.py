"""Each channel's preview: the output parts an author sees, with the issues."""

from __future__ import annotations

from typing import Any

from channels.chat import ChatChannel, ChatContent, ChatSettings
from channels.chat.outbox import OutboxChat
from channels.core import Category
from channels.email import EmailChannel, EmailContent, EmailSettings
from channels.email.outbox import OutboxEmail
from channels.letter import LetterContent
from channels.sms import SmsChannel, SmsContent, SmsSettings
from channels.sms.outbox import OutboxSms
from tests.channels.letter_support import BODY, channel, reader


def test_an_sms_preview_shows_encoding_segments_and_the_culprits() -> None:
    preview = SmsChannel(SmsSettings(), OutboxSms("/tmp")).preview(
        SmsContent("Olá! " + "x" * 70), Category.SERVICE, max_segments=1
    )
    assert preview.output == {
        "body": "Olá! " + "x" * 70,
        "encoding": "UCS-2",
        "segments": 2,
        "characters": 75,
        "units": 75,
        "per_segment": 67,
        "ucs2_characters": ["á"],
    }
    assert [i.code for i in preview.issues] == ["too_many_segments", "ucs2_forced"]


def test_an_email_preview_shows_the_finished_parts() -> None:
    settings = EmailSettings(from_address="news@acme.example")
    preview = EmailChannel(settings, OutboxEmail("/tmp")).preview(
        EmailContent("Hi", "<style>p{color:red}</style><p>Hello</p><img src=a.png>"),
        Category.TRANSACTIONAL,
    )
    assert preview.output["subject"] == "Hi"
    assert 'style="color: red;"' in str(preview.output["html"])
    assert preview.output["text"] == "Hello\n"
    assert [i.code for i in preview.issues] == ["image_without_alt"]


def test_a_chat_preview_shows_body_and_quick_replies() -> None:
    preview = ChatChannel(ChatSettings(), OutboxChat("/tmp")).preview(ChatContent("Hi", ("Yes",)))
    assert preview.output == {"body": "Hi", "quick_replies": ["Yes"]} and preview.issues == ()


def test_a_letter_preview_is_the_pdf_or_the_error(letter_renderers: Any) -> None:
    letters = channel(letter_renderers, "a4")
    good = letters.preview(LetterContent(BODY))
    assert good.output["pages"] == 1 and good.issues == ()
    assert "1 Sample Street" in reader(good.output["pdf"]).pages[0].extract_text()  # type: ignore[arg-type]
    bad = letters.preview(LetterContent('<img src="file:///etc/passwd" alt="x">'))
    assert bad.output == {"pdf": None, "pages": 0}
    assert [i.code for i in bad.issues] == ["refused_resource"]
