"""Email: finishing (pure), validation, and sending through outbox, SMTP or SendGrid."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from channels.core import Category, Issue, Preview, SendResult, error
from channels.email.message import (
    FINISHING_HEADER,
    Attachment,
    EmailContent,
    EmailSettings,
    PreparedEmail,
    finished_html,
    html_to_text,
    prepare_email,
    to_eml,
)
from channels.email.outbox import OutboxEmail
from channels.email.sendgrid import SendGridEmail
from channels.email.sendgrid_events import SendGridEventVerifier
from channels.email.smtp import SmtpEmail
from channels.email.unsubscribe import (
    UnsubscribeClaim,
    is_one_click_post,
    unsubscribe_url,
    verify_unsubscribe_token,
)
from channels.email.validation import validate_email
from channels.errors import InvalidContent

__all__ = [
    "EMAIL_PROVIDERS",
    "FINISHING_HEADER",
    "Attachment",
    "EmailChannel",
    "EmailContent",
    "EmailProvider",
    "EmailSettings",
    "PreparedEmail",
    "SendGridEventVerifier",
    "UnsubscribeClaim",
    "is_one_click_post",
    "to_eml",
    "unsubscribe_url",
    "validate_email",
    "verify_unsubscribe_token",
]


class EmailProvider(Protocol):
    """Something that delivers a prepared email and says what id the provider gave it."""

    name: str

    def send(self, prepared: PreparedEmail) -> SendResult:
        """Deliver one message."""
        ...


EMAIL_PROVIDERS: dict[str, type[EmailProvider]] = {
    "outbox": OutboxEmail,
    "smtp": SmtpEmail,
    "sendgrid": SendGridEmail,
}


class EmailChannel:
    """The email channel: the brand's settings plus one provider."""

    def __init__(self, settings: EmailSettings, provider: EmailProvider) -> None:
        self.settings = settings
        self.provider = provider

    def prepare(
        self,
        content: EmailContent,
        recipient: str,
        category: Category,
        *,
        reference: str,
        now: datetime,
        recipient_name: str | None = None,
        scope: str | None = None,
    ) -> PreparedEmail:
        """Finish the rendered parts into exactly what will be sent (pure)."""
        return prepare_email(
            self.settings,
            content,
            recipient,
            category,
            reference=reference,
            now=now,
            recipient_name=recipient_name,
            scope=scope,
        )

    def validate(self, content: EmailContent, category: Category) -> list[Issue]:
        """Warnings and errors shown to the author in preview."""
        return validate_email(self.settings, content, category)

    def preview(self, content: EmailContent, category: Category) -> Preview:
        """The finished subject, HTML (CSS inlined) and text part, with the issues."""
        issues = self.validate(content, category)
        try:
            html = finished_html(content.html, self.settings.finishing)
        except InvalidContent as exc:
            html, issues = content.html, [*issues, error("invalid_html", str(exc), "html")]
        text = content.text
        if text is None:
            text = html_to_text(content.html, self.settings.finishing)
        return Preview({"subject": content.subject, "html": html, "text": text}, tuple(issues))

    def send(self, prepared: PreparedEmail) -> SendResult:
        """Deliver through the configured provider."""
        return self.provider.send(prepared)
