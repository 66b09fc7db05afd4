"""The providers each channel sends through, built once from the settings.

Switching to SMTP, SendGrid, Twilio or a chat webhook is configuration: the `HCS_*_PROVIDER`
variables and each provider's own settings (see `hcs.infrastructure.config.PROVIDER_VARIABLES`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from channels.chat import ChatSettings, OutboxChat, TwilioWhatsApp, WebhookChat
from channels.email import EmailSettings, OutboxEmail, SendGridEmail, SmtpEmail
from channels.errors import ChannelError
from channels.letter import FolderLetter, LetterSettings, OutboxLetter
from channels.sms import OutboxSms, SmsSettings, TwilioSms
from hcs.ai.providers import build_provider as build_ai_provider
from hcs.infrastructure.config import Settings


def unsubscribe_secret(settings: Settings) -> bytes:
    """The key that signs one-click unsubscribe tokens, derived from the secret key."""
    return hashlib.sha256(b"hcs-unsubscribe\0" + settings.secret_key.encode()).digest()


def _email(name: str, settings: Settings, o: dict[str, str]) -> Any:
    if name == "outbox":
        return OutboxEmail(settings.outbox_dir)
    if name == "smtp":
        return SmtpEmail(
            o.get("HCS_SMTP_HOST", "127.0.0.1"),
            int(o.get("HCS_SMTP_PORT", "587")),
            username=o.get("HCS_SMTP_USERNAME"),
            password=o.get("HCS_SMTP_PASSWORD"),
            starttls=o.get("HCS_SMTP_STARTTLS", "1") not in ("0", "false", "no"),
        )
    if name == "sendgrid":
        return SendGridEmail(
            o["SENDGRID_API_KEY"],
            host=o.get("HCS_SENDGRID_HOST", "https://api.sendgrid.com"),
            timeout=float(o.get("HCS_SENDGRID_TIMEOUT", "10")),
        )
    raise ChannelError(f"unknown email provider {name!r}")


def _sms(name: str, settings: Settings, o: dict[str, str]) -> Any:
    if name == "outbox":
        return OutboxSms(settings.outbox_dir)
    if name == "twilio":
        return TwilioSms(
            o["TWILIO_ACCOUNT_SID"],
            o["TWILIO_AUTH_TOKEN"],
            from_number=o.get("HCS_TWILIO_FROM"),
            status_callback=f"{settings.public_url}/webhooks/twilio/status",
            base_url=o.get("HCS_TWILIO_BASE_URL"),
        )
    raise ChannelError(f"unknown SMS provider {name!r}")


def _chat(name: str, settings: Settings, o: dict[str, str]) -> Any:
    if name == "outbox":
        return OutboxChat(settings.outbox_dir)
    if name == "webhook":
        return WebhookChat(o["HCS_CHAT_WEBHOOK_URL"], o["HCS_CHAT_WEBHOOK_SECRET"].encode())
    if name == "twilio":
        return TwilioWhatsApp(
            o["TWILIO_ACCOUNT_SID"],
            o["TWILIO_AUTH_TOKEN"],
            from_number=o["HCS_WHATSAPP_FROM"],
            status_callback=f"{settings.public_url}/webhooks/twilio/status",
            base_url=o.get("HCS_TWILIO_BASE_URL"),
        )
    raise ChannelError(f"unknown chat provider {name!r}")


def _letter(name: str, settings: Settings, o: dict[str, str]) -> Any:
    if name == "outbox":
        return OutboxLetter(settings.outbox_dir)
    if name == "folder":
        return FolderLetter(o.get("HCS_LETTER_FOLDER", str(settings.var_dir / "print")))
    raise ChannelError(f"unknown letter provider {name!r}")


BUILDERS = {"email": _email, "sms": _sms, "chat": _chat, "letter": _letter}


@dataclass
class Providers:
    """One provider per channel, plus the channel settings that do not depend on the brand."""

    settings: Settings
    email: Any
    sms: Any
    chat: Any
    letter: Any
    sms_settings: SmsSettings = field(default_factory=SmsSettings)
    chat_settings: ChatSettings = field(default_factory=ChatSettings)
    # The secondary provider per channel (`HCS_<CHANNEL>_FALLBACK_PROVIDER`), by channel.
    fallbacks: dict[str, tuple[str, Any]] = field(default_factory=dict)
    failover_after: int = 3
    # The AI personalizer for template versions with AI slots (`HCS_AI_PROVIDER`).
    ai: Any = None
    names: dict[str, str] = field(default_factory=dict)

    def name(self, channel: str) -> str:
        """The name of the provider a channel sends through."""
        return self.names.get(channel) or str(getattr(self.settings, f"{channel}_provider"))

    def for_attempt(self, channel: str, refusals: int) -> Providers:
        """These providers, or with the channel's secondary once the primary refused this often.

        Only definite refusals count (a 4xx other than 408/429, a refused connection): a timeout
        or a 5xx may have been a send, and a second provider would make it two.
        """
        if channel not in self.fallbacks or refusals < self.failover_after:
            return self
        name, provider = self.fallbacks[channel]
        return replace(self, **{channel: provider}, names={**self.names, channel: name})

    def as_sent(self, channel: str, name: str | None) -> Providers:
        """These providers, or with the channel's secondary when `name` (the sender) is it."""
        secondary = self.fallbacks.get(channel)
        if secondary is None or name == self.name(channel) or name != secondary[0]:
            return self
        return self.for_attempt(channel, self.failover_after)

    def email_settings(self, brand: dict[str, Any]) -> EmailSettings:
        """The sender of a brand, with the platform's one-click unsubscribe endpoint."""
        o = self.settings.provider_options
        return EmailSettings(
            from_address=o.get("HCS_EMAIL_FROM")
            or brand.get("from_address")
            or "no-reply@hcs.example",
            from_name=o.get("HCS_EMAIL_FROM_NAME") or brand.get("from_name"),
            unsubscribe_base_url=f"{self.settings.public_url}/unsubscribe",
            unsubscribe_secret=unsubscribe_secret(self.settings),
        )

    def letter_settings(self, assets: dict[str, bytes], language: str) -> LetterSettings:
        """Paper and the brand's files for one letter."""
        return letter_settings(self.settings, assets, language)


def letter_settings(settings: Settings, assets: dict[str, bytes], language: str) -> LetterSettings:
    """Paper and the brand's files for one letter."""
    page = settings.provider_options.get("HCS_LETTER_PAGE_SIZE", "A4")
    return LetterSettings(
        page_size=page, pdf_variant="pdf/a-3b", brand_assets=assets, language=language
    )


def build_providers(settings: Settings) -> Providers:
    """Every channel's provider from the settings; raises ChannelError for an unknown one."""
    o = settings.provider_options
    fallbacks = {}
    for channel, build in BUILDERS.items():
        if name := o.get(f"HCS_{channel.upper()}_FALLBACK_PROVIDER"):
            fallbacks[channel] = (name, build(name, settings, o))
    return Providers(
        settings=settings,
        email=_email(settings.email_provider, settings, o),
        sms=_sms(settings.sms_provider, settings, o),
        chat=_chat(settings.chat_provider, settings, o),
        letter=_letter(settings.letter_provider, settings, o),
        sms_settings=SmsSettings(default_region=o.get("HCS_SMS_REGION")),
        fallbacks=fallbacks,
        failover_after=int(o.get("HCS_FAILOVER_AFTER", "3")),
        ai=build_ai_provider(settings),
    )
