"""Email in the registry: SMTP, SendGrid or the outbox; brand senders and one-click unsubscribe."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from email import policy
from email.parser import BytesHeaderParser
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy.orm import Session

from channels.core import BatchSender, Category, Issue, SendResult
from channels.email import (
    EMAIL_PROVIDERS,
    FINISHING_HEADER,
    Attachment,
    EmailChannel,
    EmailContent,
    EmailProvider,
    EmailSettings,
    PreparedEmail,
    to_eml,
    unsubscribe_url,
    validate_email,
)
from hcs.channels.addresses import header_safe, normal_email, plain_address, required
from hcs.channels.entry import Finishing, Outgoing, build_provider
from hcs.infrastructure.config import Settings
from hcs.infrastructure.delivery import EmailOptions, ProviderConfig
from templates_store.closure import resolve_closure
from templates_store.composing import Rendered, brand_of
from templates_store.models import TemplateVersion

# Previews check the author's content, not a brand's sender.
PREVIEW_SENDER = EmailSettings(
    from_address="preview@hcs.invalid", unsubscribe_base_url="https://unsubscribe.invalid/"
)
DEFAULT_SENDER = "no-reply@hcs.example"
Brand = Mapping[str, Any]


def unsubscribe_secret(settings: Settings) -> bytes:
    """The key that signs one-click unsubscribe tokens, derived from the secret key."""
    return _unsubscribe_key(settings.secret_key)


@lru_cache(maxsize=8)
def _unsubscribe_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"hcs-unsubscribe\0" + secret_key.encode()).digest()


@lru_cache(maxsize=64)
def _sender(
    address: str, name: str | None, public_url: str, secret: bytes, finishing: int | None
) -> EmailSettings:
    """One sender's settings, made once: every message of a brand is sent with the same."""
    sender = EmailSettings(
        from_address=address,
        from_name=name,
        unsubscribe_base_url=f"{public_url}/unsubscribe",
        unsubscribe_secret=secret,
    )
    return sender if finishing is None else replace(sender, finishing=finishing)


def content_of(parts: Mapping[str, Any]) -> EmailContent:
    """The rendered subject, HTML and optional text part."""
    return EmailContent(parts["subject"], parts["html"], parts.get("text"))


@dataclass(frozen=True)
class EmailOutlet:
    """Email through one provider; the sender is the brand's unless `HCS_EMAIL_FROM` is set."""

    name: str
    provider: EmailProvider
    settings: Settings
    secret: bytes
    content_type: str = "message/rfc822"

    def sender(self, brand: Mapping[str, Any], finishing: int | None = None) -> EmailSettings:
        """The brand's sender, with the platform's one-click unsubscribe endpoint."""
        options = self.settings.delivery.email
        address = options.from_address or brand.get("from_address") or DEFAULT_SENDER
        name = options.from_name or brand.get("from_name")
        if isinstance(address, str) and (name is None or isinstance(name, str)):
            return _sender(address, name, self.settings.public_url, self.secret, finishing)
        return _sender.__wrapped__(address, name, self.settings.public_url, self.secret, finishing)

    def finish(
        self, session: Session, version: TemplateVersion, message: Outgoing, rendered: Rendered
    ) -> Finishing:
        """The exact .eml of the message, from its brand's sender."""
        brand = brand_of(resolve_closure(session, version))
        sender = self.sender(brand, message.finishing)
        prepared = EmailChannel(sender, self.provider).prepare(
            content_of(rendered.parts),
            message.recipient,
            Category(message.category),
            reference=message.reference,
            now=message.created_at,
            recipient_name=message.to.get("name"),
        )
        return Finishing(prepared, to_eml(prepared))

    def send(self, prepared: PreparedEmail) -> SendResult:
        """Hand the mail to the provider."""
        return self.provider.send(prepared)

    @cached_property
    def _batcher(self) -> BatchSender | None:
        # Asked once: a runtime Protocol check costs more than finishing a mail's headers.
        return self.provider if isinstance(self.provider, BatchSender) else None

    @property
    def batch_size(self) -> int:
        """How many mails one provider call takes (1: the provider has no batch call)."""
        return 1 if self._batcher is None else self._batcher.batch_size

    def batch_key(self, prepared: PreparedEmail) -> object | None:
        """What mails of one call share; None when this one goes alone."""
        return None if self._batcher is None else self._batcher.batch_key(prepared)

    def send_many(self, prepared: Sequence[PreparedEmail]) -> list[SendResult]:
        """Hand several mails of one batch key to the provider in one call."""
        if self._batcher is None:
            raise ValueError(f"{self.name} takes one mail a call")
        return self._batcher.send_many(prepared)

    def send_file(
        self, message: Outgoing, content: EmailContent, attached: Attachment, brand: Brand
    ) -> SendResult:
        """Send the platform's own mail with one file (a test letter) from the brand's sender."""
        prepared = EmailChannel(self.sender(brand), self.provider).prepare(
            content,
            message.recipient,
            Category.TRANSACTIONAL,
            reference=message.reference,
            now=message.created_at,
        )
        return self.provider.send(replace(prepared, attachments=(attached,)))


def finishing_of(output: bytes) -> int:
    """The finishing rules an archived mail was made with (1: before they were named in it)."""
    named = BytesHeaderParser(policy=policy.compat32).parsebytes(output).get(FINISHING_HEADER)
    return int(named) if named and str(named).strip().isdigit() else 1


def mail_sender(settings: Settings) -> EmailOutlet:
    """The configured email provider (`HCS_EMAIL_PROVIDER`), for the platform's own mail."""
    return EmailEntry().outlet(settings, settings.delivery.email.provider)


class EmailEntry:
    """The email channel."""

    name = "email"
    recipient_field = "email"
    renders_isolated = False
    displays_html = True

    def options(self, settings: Settings) -> EmailOptions:
        """`HCS_EMAIL_PROVIDER`, `HCS_EMAIL_FALLBACK_PROVIDER`, `HCS_EMAIL_FROM[_NAME]`."""
        return settings.delivery.email

    def outlet(self, settings: Settings, provider: str) -> EmailOutlet:
        """Email through `provider`."""
        delivery = settings.delivery
        configs: dict[str, ProviderConfig] = {
            "outbox": delivery.outbox,
            "smtp": delivery.smtp,
            "sendgrid": delivery.sendgrid,
        }
        built = build_provider(
            EMAIL_PROVIDERS, configs, provider, settings, channel=self.name, title="email"
        )
        return EmailOutlet(provider, built, settings, unsubscribe_secret(settings))

    def recipient_key(self, to: Mapping[str, Any]) -> str:
        """The address (one plain address), normalised and lower-cased; a header-safe name."""
        if to.get("name") is not None:
            header_safe(to["name"], "to.name")
        return normal_email(plain_address(required(to, "email", self.name)))

    def issues(self, category: Category, parts: Mapping[str, Any]) -> list[Issue]:
        """Subject, header and unsubscribe-link findings."""
        return validate_email(PREVIEW_SENDER, content_of(parts), category)

    def preview_extras(self, rendered: Rendered) -> dict[str, Any]:
        """Nothing beyond the parts."""
        return {}

    def render_extras(self, message: Outgoing, settings: Settings) -> dict[str, Any]:
        """The recipient's signed unsubscribe link, for the body."""
        url = unsubscribe_url(
            f"{settings.public_url}/unsubscribe",
            unsubscribe_secret(settings),
            message.recipient,
            message.category,
            now=message.created_at,
        )
        return {"unsubscribe_url": url}
