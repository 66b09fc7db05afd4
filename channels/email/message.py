"""Email finishing: rendered parts become one exact, archivable MIME message (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache

import css_inline
from inscriptis import get_text
from inscriptis.model.config import ParserConfig

from channels.core import Category
from channels.email.headers import check_address, check_header_text, domain_of, format_address
from channels.email.mime import mime_boundary, write_eml
from channels.email.plaintext import html_to_text as plain_text
from channels.email.unsubscribe import unsubscribe_url
from channels.errors import InvalidContent
from channels.invisible import strip_invisible

# Remote stylesheets are never fetched while inlining: the mail is finished offline.
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
_TEXT_CONFIG = ParserConfig(display_links=True)
ONE_CLICK = "List-Unsubscribe=One-Click"
# The version of the finishing rules: 1 wrote the text alternative with inscriptis; 2 writes it
# with `plaintext.html_to_text` (several times faster) and says so in `FINISHING_HEADER`, so an
# archived mail can be finished again byte for byte under the rules it was sent with; 3 sends
# HTML that names no style sheet as it was rendered, instead of parsing and writing it again
# with nothing to inline (`finished_html`).
FINISHING = 3
# An element that brings style rules for the inliner: a <style>, or a <link> it would drop.
_STYLE_SHEET = re.compile(r"<(?:style|link)[\s/>]", re.IGNORECASE)
FINISHING_HEADER = "X-HCS-Finishing"
# Long one-click URLs must stay literal, not be folded into encoded words.
_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class EmailContent:
    """The rendered parts of an email."""

    subject: str
    html: str
    text: str | None = None


@dataclass(frozen=True)
class EmailSettings:
    """The brand's sender and unsubscribe settings, passed in by the application."""

    from_address: str
    from_name: str | None = None
    reply_to: str | None = None
    unsubscribe_base_url: str | None = None
    unsubscribe_secret: bytes = b""
    unsubscribe_mailto: str | None = None
    unsubscribe_ttl: timedelta = timedelta(days=60)
    max_subject_chars: int = 78
    finishing: int = FINISHING


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email (e.g. a test letter's PDF)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class PreparedEmail:
    """Exactly what will be sent: headers in order and both bodies."""

    reference: str
    recipient: str
    subject: str
    html: str
    text: str
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    from_address: str = ""
    from_name: str | None = None
    recipient_name: str | None = None
    reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()

    def header(self, name: str) -> str | None:
        """The value of one header, if present."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def html_to_text(html: str, finishing: int = FINISHING) -> str:
    """A plain-text alternative generated from HTML (links kept as text), by `finishing`'s rules."""
    if finishing < 2:
        return str(get_text(html, _TEXT_CONFIG)).strip() + "\n"
    return plain_text(html)


def inline_css(html: str) -> str:
    """The HTML with its <style> rules inlined into style attributes."""
    try:
        return str(_INLINER.inline(html))
    except ValueError as exc:
        raise InvalidContent(f"the email HTML could not be finished: {exc}") from exc


def finished_html(html: str, finishing: int = FINISHING) -> str:
    """The HTML as sent by `finishing`'s rules: style sheets inlined; from 3, markup that names
    none is kept as rendered (the inliner would only have written it out again)."""
    if finishing >= 3 and _STYLE_SHEET.search(html) is None:
        return html
    return inline_css(html)


def list_unsubscribe(
    settings: EmailSettings, recipient: str, scope: str, now: datetime
) -> tuple[tuple[str, str], ...]:
    """RFC 8058 headers for a marketing mail; refuses when unsubscribing is not configured."""
    if not settings.unsubscribe_base_url or not settings.unsubscribe_secret:
        raise InvalidContent("marketing mail needs a one-click unsubscribe URL and secret")
    url = unsubscribe_url(
        settings.unsubscribe_base_url,
        settings.unsubscribe_secret,
        recipient,
        scope,
        now=now,
        ttl=settings.unsubscribe_ttl,
    )
    targets = [f"<{url}>"]
    if settings.unsubscribe_mailto:
        targets.append(f"<mailto:{settings.unsubscribe_mailto}?subject=unsubscribe>")
    return (("List-Unsubscribe", ", ".join(targets)), ("List-Unsubscribe-Post", ONE_CLICK))


def prepare_email(
    settings: EmailSettings,
    content: EmailContent,
    recipient: str,
    category: Category,
    *,
    reference: str,
    now: datetime,
    recipient_name: str | None = None,
    scope: str | None = None,
) -> PreparedEmail:
    """Finish an email: checked headers, inlined CSS, a text part, unsubscribe headers."""
    address = check_address(recipient)
    # bidi controls and zero-width text never go into a header
    subject = check_header_text(strip_invisible(content.subject), "subject")
    recipient_name = strip_invisible(recipient_name) if recipient_name else recipient_name
    check_header_text(reference, "reference")
    headers = [
        ("From", format_address(settings.from_address, settings.from_name, "from")),
        ("To", format_address(address, recipient_name, "to")),
        ("Subject", subject),
        ("Date", format_datetime(now)),
        ("Message-ID", f"<{reference}@{domain_of(settings.from_address)}>"),
    ]
    if settings.reply_to:
        headers.append(("Reply-To", format_address(settings.reply_to, None, "reply-to")))
    if category is Category.MARKETING:
        headers.extend(list_unsubscribe(settings, address, scope or category.value, now))
    if settings.finishing >= 2:
        headers.append((FINISHING_HEADER, str(settings.finishing)))
    text = content.text
    if text is None:
        text = html_to_text(content.html, settings.finishing)
    return PreparedEmail(
        reference,
        address,
        subject,
        finished_html(content.html, settings.finishing),
        text,
        tuple(headers),
        from_address=settings.from_address,
        from_name=settings.from_name,
        recipient_name=recipient_name,
        reply_to=settings.reply_to,
    )


def to_mime(prepared: PreparedEmail) -> EmailMessage:
    """The MIME message (multipart/alternative: text, then HTML)."""
    message = EmailMessage(policy=_POLICY)
    for name, value in prepared.headers:
        message[name] = value
    message.set_content(prepared.text)
    message.add_alternative(prepared.html, subtype="html")
    # A boundary derived from the content keeps the archived bytes reproducible.
    message.set_boundary(mime_boundary(prepared.reference, prepared.html))
    for attached in prepared.attachments:
        maintype, _, subtype = attached.content_type.partition("/")
        message.add_attachment(
            attached.data, maintype=maintype, subtype=subtype, filename=attached.filename
        )
    if prepared.attachments:  # now multipart/mixed around the alternative
        message.set_boundary(mime_boundary(prepared.reference + "\0mixed", prepared.html))
    return message


@lru_cache(maxsize=256)
def to_eml(prepared: PreparedEmail) -> bytes:
    """The message as .eml bytes, exactly as archived and sent over SMTP.

    Remembered for the last few hundred messages, a worker's round of email (200) and more: the
    pipeline archives the bytes the provider sends, finished before the round's first call,
    and building MIME is the costliest step of finishing an email. Most messages are written
    directly (see `mime.write_eml`); the rest go through the email package.
    """
    if prepared.attachments:
        return to_mime(prepared).as_bytes()
    boundary = mime_boundary(prepared.reference, prepared.html)
    fast = write_eml(prepared.headers, prepared.text, prepared.html, boundary)
    return fast if fast is not None else to_mime(prepared).as_bytes()
