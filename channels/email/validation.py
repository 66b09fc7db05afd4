"""What an email author is warned about in preview."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from channels.core import Category, Issue, error, warning
from channels.email.headers import check_header_text
from channels.email.message import EmailContent, EmailSettings
from channels.errors import InvalidContent

# Gmail clips HTML over about 102 kB, hiding the rest (the unsubscribe link included).
CLIP_BYTES = 102_000
_UNSUBSCRIBE_WORDS = re.compile(r"unsubscribe|opt[\s-]?out|abmelden|désabonner|baja", re.I)


class _Scan(HTMLParser):
    """Collects images without alt text and the links of an HTML body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images_without_alt: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and not (values.get("alt") or "").strip():
            self.images_without_alt.append(values.get("src") or "")
        elif tag == "a":
            self._href, self._text = values.get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


def _has_unsubscribe_link(links: list[tuple[str, str]], settings: EmailSettings) -> bool:
    base = settings.unsubscribe_base_url
    return any(
        (base and href.startswith(base)) or _UNSUBSCRIBE_WORDS.search(f"{href} {text}")
        for href, text in links
    )


def _subject_issues(content: EmailContent, settings: EmailSettings) -> list[Issue]:
    try:
        check_header_text(content.subject, "subject")
    except InvalidContent as exc:
        return [error("header_injection", str(exc), "subject")]
    if not content.subject.strip():
        return [error("empty_subject", "the subject is empty", "subject")]
    if len(content.subject) > settings.max_subject_chars:
        return [
            warning(
                "subject_too_long",
                f"the subject has {len(content.subject)} characters; inboxes show about "
                f"{settings.max_subject_chars}",
                "subject",
            )
        ]
    return []


def validate_email(
    settings: EmailSettings, content: EmailContent, category: Category
) -> list[Issue]:
    """Warnings and errors for an email's rendered parts."""
    issues = _subject_issues(content, settings)
    scan = _Scan()
    scan.feed(content.html)
    scan.close()
    for src in scan.images_without_alt:
        issues.append(warning("image_without_alt", f"image {src!r} has no alt text", "html"))
    if category is Category.MARKETING:
        if not _has_unsubscribe_link(scan.links, settings):
            message = "marketing mail needs an unsubscribe link"
            issues.append(warning("missing_unsubscribe_link", message, "html"))
        if not settings.unsubscribe_base_url:
            issues.append(
                error("missing_unsubscribe_url", "no one-click unsubscribe URL is configured")
            )
    if len(content.html.encode("utf-8")) > CLIP_BYTES:
        message = f"the HTML is over {CLIP_BYTES // 1000} kB; Gmail will clip the message"
        issues.append(warning("html_clipped", message, "html"))
    if not content.html.strip() and not (content.text or "").strip():
        issues.append(error("empty_body", "the email has no body", "html"))
    return issues
