"""Where each channel sends: its provider and fallback, and every provider's settings, read once.

`HCS_<CHANNEL>_PROVIDER` picks a provider by its name in the channel's registry
(`channels.email.EMAIL_PROVIDERS`, ...); the provider is built with the keyword arguments its
settings object gives (`arguments`), so a new provider needs a class here and no other code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from hcs.infrastructure.destinations import check_destination, guarded_opener
from hcs.infrastructure.environment import env, read, values


class Site(Protocol):
    """What provider arguments may depend on besides their own variables."""

    @property
    def public_url(self) -> str: ...

    @property
    def var_dir(self) -> Path: ...

    @property
    def outbox_dir(self) -> Path: ...

    @property
    def allowed_private_destinations(self) -> tuple[str, ...]: ...


class ProviderConfig(Protocol):
    """A provider's settings: the keyword arguments its class is built with."""

    def arguments(self, site: Site) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        ...


@dataclass(frozen=True)
class ChannelOptions:
    """A channel's provider and secondary: `HCS_<CHANNEL>_PROVIDER`, `..._FALLBACK_PROVIDER`."""

    provider: str = env("PROVIDER", "outbox")
    fallback: str = env("FALLBACK_PROVIDER", "")


@dataclass(frozen=True)
class EmailOptions(ChannelOptions):
    """Email's providers, and the sender that overrides every brand's (`HCS_EMAIL_FROM[_NAME]`)."""

    from_address: str = env("FROM", "")
    from_name: str = env("FROM_NAME", "")


@dataclass(frozen=True)
class SmsOptions(ChannelOptions):
    """SMS's providers, and the region of numbers written without a country code."""

    region: str | None = env("REGION", None)


@dataclass(frozen=True)
class LetterOptions(ChannelOptions):
    """Letters' providers, and their paper (`HCS_LETTER_PAGE_SIZE`: A4 or Letter)."""

    page_size: str = env("PAGE_SIZE", "A4")


@dataclass(frozen=True)
class NoSettings:
    """A provider built without arguments (one registered with no settings of its own)."""

    def arguments(self, site: Site) -> dict[str, Any]:
        """No arguments."""
        return {}


@dataclass(frozen=True)
class OutboxSettings:
    """The `outbox` providers write what they would send under `<HCS_VAR_DIR>/outbox/`."""

    def arguments(self, site: Site) -> dict[str, Any]:
        """The outbox folder."""
        return {"directory": site.outbox_dir}


@dataclass(frozen=True)
class SmtpSettings:
    """An SMTP relay for email."""

    host: str = env("HCS_SMTP_HOST", "127.0.0.1")
    port: int = env("HCS_SMTP_PORT", 587)
    username: str | None = env("HCS_SMTP_USERNAME", None)
    password: str | None = env("HCS_SMTP_PASSWORD", None, secret=True)
    starttls: bool = env("HCS_SMTP_STARTTLS", True)

    def arguments(self, site: Site) -> dict[str, Any]:
        """Host, port, login and STARTTLS."""
        return values(self)


@dataclass(frozen=True)
class SendGridSettings:
    """SendGrid's mail API for email."""

    api_key: str = env("SENDGRID_API_KEY", "", secret=True, required=True)
    host: str = env("HCS_SENDGRID_HOST", "https://api.sendgrid.com")
    timeout: float = env("HCS_SENDGRID_TIMEOUT", 10.0)

    def arguments(self, site: Site) -> dict[str, Any]:
        """The key, the API host and the seconds SendGrid has to answer."""
        return values(self)


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio for SMS; its status callbacks come to this installation's webhook."""

    account_sid: str = env("TWILIO_ACCOUNT_SID", "", required=True)
    auth_token: str = env("TWILIO_AUTH_TOKEN", "", secret=True, required=True)
    from_number: str | None = env("HCS_TWILIO_FROM", None)
    base_url: str | None = env("HCS_TWILIO_BASE_URL", None)
    # Seconds Twilio has to answer a create; after that the outcome is unknown, never resent.
    timeout: float = env("HCS_TWILIO_TIMEOUT", 10.0)

    def arguments(self, site: Site) -> dict[str, Any]:
        """The account, the sender, the API host, the timeout and the status callback."""
        return {**values(self), "status_callback": f"{site.public_url}/webhooks/twilio/status"}


@dataclass(frozen=True)
class WhatsAppSettings(TwilioSettings):
    """Twilio's WhatsApp for chat: the same account, its own sender."""

    from_number: str = env("HCS_WHATSAPP_FROM", "", required=True)


@dataclass(frozen=True)
class ChatWebhookSettings:
    """The company's chat platform, reached by a signed JSON webhook."""

    url: str = env("HCS_CHAT_WEBHOOK_URL", "", required=True)
    secret: str = env("HCS_CHAT_WEBHOOK_SECRET", "", secret=True, required=True)

    def arguments(self, site: Site) -> dict[str, Any]:
        """The URL (refused when it leads to an internal address), the secret, a guarded opener."""
        allow = site.allowed_private_destinations
        check_destination(self.url, allow=allow, field="HCS_CHAT_WEBHOOK_URL", https_only=False)
        return {"url": self.url, "secret": self.secret.encode(), "opener": guarded_opener(allow)}


@dataclass(frozen=True)
class FolderSettings:
    """A folder a print house collects letters from (default `<HCS_VAR_DIR>/print`)."""

    directory: str = env("HCS_LETTER_FOLDER", "")

    def arguments(self, site: Site) -> dict[str, Any]:
        """The folder."""
        return {"directory": self.directory or str(site.var_dir / "print")}


@dataclass(frozen=True)
class Delivery:
    """Every channel's choice of provider and every provider's settings."""

    email: EmailOptions = field(default_factory=EmailOptions)
    sms: SmsOptions = field(default_factory=SmsOptions)
    chat: ChannelOptions = field(default_factory=ChannelOptions)
    letter: LetterOptions = field(default_factory=LetterOptions)
    # A channel's secondary provider takes over once its primary failed a message this often.
    failover_after: int = env("HCS_FAILOVER_AFTER", 3)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    sendgrid: SendGridSettings = field(default_factory=SendGridSettings)
    sendgrid_webhook_key: str = env("SENDGRID_WEBHOOK_PUBLIC_KEY", "", secret=True)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)
    chat_webhook: ChatWebhookSettings = field(default_factory=ChatWebhookSettings)
    letter_folder: FolderSettings = field(default_factory=FolderSettings)
    # Settings of providers registered beyond these, by channel and provider name.
    more: Mapping[str, Mapping[str, ProviderConfig]] = field(default_factory=dict)


def read_delivery(environ: Mapping[str, str]) -> Delivery:
    """Every channel's and provider's settings from the environment."""
    return replace(
        read(Delivery, environ),
        email=read(EmailOptions, environ, prefix="HCS_EMAIL_"),
        sms=read(SmsOptions, environ, prefix="HCS_SMS_"),
        chat=read(ChannelOptions, environ, prefix="HCS_CHAT_"),
        letter=read(LetterOptions, environ, prefix="HCS_LETTER_"),
        smtp=read(SmtpSettings, environ),
        sendgrid=read(SendGridSettings, environ),
        twilio=read(TwilioSettings, environ),
        whatsapp=read(WhatsAppSettings, environ),
        chat_webhook=read(ChatWebhookSettings, environ),
        letter_folder=read(FolderSettings, environ),
    )
