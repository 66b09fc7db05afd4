"""Email finishing, header safety, validation, unsubscribe tokens and the outbox provider."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.core import Category, Level
from channels.email import EMAIL_PROVIDERS, EmailChannel, EmailContent, EmailSettings, to_eml
from channels.email.headers import check_address, format_address
from channels.email.outbox import OutboxEmail
from channels.email.unsubscribe import (
    is_one_click_post,
    make_unsubscribe_token,
    verify_unsubscribe_token,
)
from channels.errors import InvalidContent, InvalidRecipient, SignatureError
from channels.invisible import strip_invisible

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECRET = b"unsubscribe-secret"
SETTINGS = EmailSettings(
    from_address="news@acme.example",
    from_name="Acme News",
    unsubscribe_base_url="https://hcs.acme.example/unsubscribe",
    unsubscribe_secret=SECRET,
)
HTML = (
    "<style>p { color: #c00 }</style><p>Hello <b>Ana</b></p>"
    '<p><a href="https://hcs.acme.example/unsubscribe?token=x">Unsubscribe</a></p>'
)


def channel(tmp_path: Path) -> EmailChannel:
    return EmailChannel(SETTINGS, EMAIL_PROVIDERS["outbox"](tmp_path))  # type: ignore[call-arg]


def prepare(
    tmp_path: Path, content: EmailContent, category: Category = Category.MARKETING, **kw: str
) -> bytes:
    prepared = channel(tmp_path).prepare(
        content, kw.pop("to", "ana@example.com"), category, reference="msg-1", now=NOW, **kw
    )
    return to_eml(prepared)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_a_marketing_mail_carries_one_click_unsubscribe_headers_with_a_valid_token(
    tmp_path: Path,
) -> None:
    message = parse(prepare(tmp_path, EmailContent("Autumn offers", HTML)))
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://hcs.acme.example/unsubscribe?token=")
    claim = verify_unsubscribe_token(SECRET, parse_qs(urlparse(url).query)["token"][0], now=NOW)
    assert (claim.recipient, claim.scope) == ("ana@example.com", "marketing")
    assert claim.expires_at == NOW + timedelta(days=60)


def test_a_transactional_mail_has_no_unsubscribe_headers(tmp_path: Path) -> None:
    message = parse(
        prepare(tmp_path, EmailContent("Order A-1", "<p>Hi</p>"), Category.TRANSACTIONAL)
    )
    assert message["List-Unsubscribe"] is None
    assert message["From"] == "Acme News <news@acme.example>"
    assert message["Message-ID"] == "<msg-1@acme.example>"


def test_css_is_inlined_and_a_text_part_is_generated_from_the_html(tmp_path: Path) -> None:
    message = parse(prepare(tmp_path, EmailContent("Hi", HTML)))
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Hello Ana" in text and "<" not in text.split("(")[0]
    assert 'style="color: #c00;"' in html and "<style>" not in html


def test_an_authors_text_part_is_kept_as_given(tmp_path: Path) -> None:
    message = parse(prepare(tmp_path, EmailContent("Hi", HTML, text="Exactly this.\n")))
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.replace("\r\n", "\n") == "Exactly this.\n"


def test_the_same_input_gives_byte_identical_eml(tmp_path: Path) -> None:
    content = EmailContent("Hi", HTML)
    assert prepare(tmp_path, content) == prepare(tmp_path, content)


@pytest.mark.parametrize(
    "subject",
    [
        "Hello\r\nBcc: victim@example.com",
        "Hello\nBcc: victim@example.com",
        "Hello =?UTF-8?Q?=0A?=Bcc: victim@example.com",
        "Hello =?utf-8?b?DQpCY2M6IHZpY3RpbUBleGFtcGxlLmNvbQ==?=",
        "Hello\x00",
        "Hello\u2028Bcc: x@example.com",
    ],
)
def test_a_subject_can_never_add_a_header(tmp_path: Path, subject: str) -> None:
    with pytest.raises(InvalidContent):
        prepare(tmp_path, EmailContent(subject, "<p>x</p>"))


@pytest.mark.parametrize(
    "to",
    [
        "ana@example.com, eve@evil.example",
        "ana@example.com\r\nBcc: eve@evil.example",
        "Ana <ana@example.com>",
        "ana@example.com;eve@evil.example",
        "not-an-address",
    ],
)
def test_a_recipient_is_exactly_one_plain_address(tmp_path: Path, to: str) -> None:
    with pytest.raises(InvalidRecipient):
        prepare(tmp_path, EmailContent("Hi", "<p>x</p>"), to=to)


def test_a_display_name_with_a_comma_stays_one_recipient(tmp_path: Path) -> None:
    raw = prepare(tmp_path, EmailContent("Hi", "<p>x</p>"), recipient_name="Doe, Jane")
    message = parse(raw)
    assert [a.addr_spec for a in message["To"].addresses] == ["ana@example.com"]
    assert message["To"].addresses[0].display_name == "Doe, Jane"


@pytest.mark.parametrize("name", ["Jane\r\nBcc: eve@evil.example", "=?utf-8?q?Jane=0A?="])
def test_a_display_name_cannot_inject_headers(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidContent):
        prepare(tmp_path, EmailContent("Hi", "<p>x</p>"), recipient_name=name)


def test_validation_warns_about_missing_unsubscribe_long_subject_and_missing_alt() -> None:
    content = EmailContent("x" * 120, '<p>Offer</p><img src="hero.png"><img src="ok.png" alt="ok">')
    issues = EmailChannel(SETTINGS, EMAIL_PROVIDERS["outbox"]("/tmp")).validate(  # type: ignore[call-arg]
        content, Category.MARKETING
    )
    codes = {issue.code: issue for issue in issues}
    assert set(codes) == {"subject_too_long", "image_without_alt", "missing_unsubscribe_link"}
    assert all(issue.level is Level.WARNING for issue in issues)
    assert (
        codes["image_without_alt"].part == "html"
        and "hero.png" in codes["image_without_alt"].message
    )


def test_validation_is_clean_for_a_good_marketing_mail() -> None:
    channel_ = EmailChannel(SETTINGS, EMAIL_PROVIDERS["outbox"]("/tmp"))  # type: ignore[call-arg]
    assert channel_.validate(EmailContent("Autumn offers", HTML), Category.MARKETING) == []


def test_validation_reports_a_header_injection_as_an_error() -> None:
    channel_ = EmailChannel(SETTINGS, EMAIL_PROVIDERS["outbox"]("/tmp"))  # type: ignore[call-arg]
    issues = channel_.validate(EmailContent("a\nb", "<p>x</p>"), Category.SERVICE)
    assert [(i.level, i.code, i.part) for i in issues] == [
        (Level.ERROR, "header_injection", "subject")
    ]


def test_an_unsubscribe_token_rejects_alteration_expiry_and_another_secret() -> None:
    token = make_unsubscribe_token(SECRET, "ana@example.com", "news", NOW + timedelta(days=1))
    assert verify_unsubscribe_token(SECRET, token, now=NOW).scope == "news"
    forged = make_unsubscribe_token(b"other", "eve@example.com", "news", NOW + timedelta(days=1))
    tampered = forged.split(".")[0] + "." + token.split(".")[1]
    for bad in (tampered, token + "x", "garbage", "", token.replace(".", "")):
        with pytest.raises(SignatureError):
            verify_unsubscribe_token(SECRET, bad, now=NOW)
    with pytest.raises(SignatureError, match="expired"):
        verify_unsubscribe_token(SECRET, token, now=NOW + timedelta(days=2))


def test_the_outbox_writes_a_real_eml_per_email(tmp_path: Path) -> None:
    ch = channel(tmp_path)
    prepared = ch.prepare(
        EmailContent("Hi", HTML), "ana@example.com", Category.SERVICE, reference="m-7", now=NOW
    )
    result = ch.send(prepared)
    path = tmp_path / "email" / "m-7.eml"
    assert result.provider == "outbox" and result.message_id == "m-7"
    assert path.read_bytes() == to_eml(prepared)
    assert parse(path.read_bytes())["Subject"] == "Hi"


def test_marketing_mail_is_refused_when_one_click_unsubscribe_is_not_configured(
    tmp_path: Path,
) -> None:
    bare = EmailChannel(EmailSettings(from_address="news@acme.example"), OutboxEmail(tmp_path))
    content = EmailContent("Offers", HTML)
    with pytest.raises(InvalidContent, match="unsubscribe"):
        bare.prepare(content, "ana@example.com", Category.MARKETING, reference="m", now=NOW)
    assert [i.code for i in bare.validate(content, Category.MARKETING)] == [
        "missing_unsubscribe_url"
    ]
    prepared = bare.prepare(content, "ana@example.com", Category.SERVICE, reference="m", now=NOW)
    assert prepared.header("List-Unsubscribe") is None


def test_one_click_posts_are_recognised() -> None:
    assert is_one_click_post(b"List-Unsubscribe=One-Click")
    assert not is_one_click_post(b"")
    assert not is_one_click_post(b"List-Unsubscribe=Other")


def test_a_message_gmail_would_clip_is_warned_about() -> None:
    channel_ = EmailChannel(SETTINGS, OutboxEmail("/tmp"))
    issues = channel_.validate(EmailContent("Hi", "<p>x</p>" * 15_000), Category.SERVICE)
    assert [i.code for i in issues] == ["html_clipped"]


@settings(max_examples=300, deadline=None)
@given(
    local=st.from_regex(r"[A-Za-z0-9+_-]{1,8}(\.[A-Za-z0-9+_-]{1,5})?", fullmatch=True),
    name=st.one_of(st.none(), st.text(alphabet="abZ09 .,'\"é()<>", max_size=14)),
)
def test_a_mailbox_is_written_exactly_as_the_email_package_writes_it(
    local: str, name: str | None
) -> None:
    # The header text is archived: a shortcut must give the email package's bytes, always.
    address = f"{local}@acme-mail.example"
    try:
        written = format_address(address, name, "to")
    except (InvalidContent, InvalidRecipient):
        return
    display = strip_invisible(name) if name else ""
    assert written == str(Address(display_name=display, addr_spec=check_address(address)))
    [(_, parsed)] = getaddresses([written])  # one mailbox, the checked address
    assert parsed == check_address(address)


PLAIN_HTML = (
    '<table role="presentation"><tr><td><p>Hello <b>Ana</b> &amp; co</p>'
    '<p style="color: #c00"><a href="https://acme.example/t/1">Track it</a></p></td></tr></table>'
)


def _html_part(raw: bytes) -> str:
    return parse(raw).get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_html_that_names_no_style_sheet_is_sent_exactly_as_rendered(tmp_path: Path) -> None:
    html = _html_part(prepare(tmp_path, EmailContent("Hi", PLAIN_HTML), Category.TRANSACTIONAL))
    assert html.replace("\r\n", "\n").rstrip("\n") == PLAIN_HTML


@pytest.mark.parametrize(
    "sheet",
    [
        "<STYLE>p { color: #c00 }</STYLE>",
        '<style type="text/css">p { color: #c00 }</style>',
        '<link rel="stylesheet" href="https://cdn.example/mail.css"/>',
        "<svg><style>p { color: #c00 }</style></svg>",
    ],
)
def test_html_that_names_a_style_sheet_is_still_inlined(tmp_path: Path, sheet: str) -> None:
    html = _html_part(prepare(tmp_path, EmailContent("Hi", sheet + PLAIN_HTML)))
    # The inliner's output, not the source: rules applied or dropped, the tables written out.
    assert "<style" not in html.lower() and "<link" not in html and "<tbody>" in html
    if sheet.lower().startswith("<style"):
        assert '<p style="color: #c00;">Hello' in html


def test_mail_finished_by_the_second_rules_is_still_written_out_by_the_inliner(
    tmp_path: Path,
) -> None:
    earlier = EmailSettings(from_address="news@acme.example", finishing=2)
    channel = EmailChannel(earlier, EMAIL_PROVIDERS["outbox"](tmp_path))  # type: ignore[call-arg]
    prepared = channel.prepare(
        EmailContent("Hi", PLAIN_HTML),
        "ana@example.com",
        Category.TRANSACTIONAL,
        reference="msg-1",
        now=NOW,
    )
    assert prepared.header("X-HCS-Finishing") == "2"
    assert prepared.html.startswith("<html><head></head><body>") and "<tbody>" in prepared.html
