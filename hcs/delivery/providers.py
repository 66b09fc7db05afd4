"""The providers each channel sends through, built once from the settings.

Switching to SMTP, SendGrid, Twilio or a chat webhook is configuration: the `HCS_*_PROVIDER`
variables and each provider's own settings (see `hcs.config.PROVIDER_VARIABLES`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from channels.chat import ChatSettings, OutboxChat, TwilioWhatsApp, WebhookChat
from channels.email import EmailSettings, OutboxEmail, SendGridEmail, SmtpEmail
from channels.errors import ChannelError
from channels.letter import FolderLetter, LetterSettings, OutboxLetter
from channels.sms import OutboxSms, SmsSettings, TwilioSms
from hcs.config import Settings


def unsubscribe_secret(settings: Settings) -> bytes:
    """The key that signs one-click unsubscribe tokens, derived from the secret key."""
    return hashlib.sha256(b"hcs-unsubscribe\0" + settings.secret_key.encode()).digest()


def _email(settings: Settings, o: dict[str, str]) -> Any:
    name = settings.email_provider
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
            o["SENDGRID_API_KEY"], host=o.get("HCS_SENDGRID_HOST", "https://api.sendgrid.com")
        )
    raise ChannelError(f"unknown email provider {name!r}")


def _sms(settings: Settings, o: dict[str, str]) -> Any:
    if settings.sms_provider == "outbox":
        return OutboxSms(settings.outbox_dir)
    if settings.sms_provider == "twilio":
        return TwilioSms(
            o["TWILIO_ACCOUNT_SID"],
            o["TWILIO_AUTH_TOKEN"],
            from_number=o.get("HCS_TWILIO_FROM"),
            status_callback=f"{settings.public_url}/webhooks/twilio/status",
            base_url=o.get("HCS_TWILIO_BASE_URL"),
        )
    raise ChannelError(f"unknown SMS provider {settings.sms_provider!r}")


def _chat(settings: Settings, o: dict[str, str]) -> Any:
    if settings.chat_provider == "outbox":
        return OutboxChat(settings.outbox_dir)
    if settings.chat_provider == "webhook":
        return WebhookChat(o["HCS_CHAT_WEBHOOK_URL"], o["HCS_CHAT_WEBHOOK_SECRET"].encode())
    if settings.chat_provider == "twilio":
        return TwilioWhatsApp(
            o["TWILIO_ACCOUNT_SID"],
            o["TWILIO_AUTH_TOKEN"],
            from_number=o["HCS_WHATSAPP_FROM"],
            status_callback=f"{settings.public_url}/webhooks/twilio/status",
            base_url=o.get("HCS_TWILIO_BASE_URL"),
        )
    raise ChannelError(f"unknown chat provider {settings.chat_provider!r}")


def _letter(settings: Settings, o: dict[str, str]) -> Any:
    if settings.letter_provider == "outbox":
        return OutboxLetter(settings.outbox_dir)
    if settings.letter_provider == "folder":
        return FolderLetter(o.get("HCS_LETTER_FOLDER", str(settings.var_dir / "print")))
    raise ChannelError(f"unknown letter provider {settings.letter_provider!r}")


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

    def name(self, channel: str) -> str:
        """The configured provider's name for a channel."""
        return str(getattr(self.settings, f"{channel}_provider"))

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
        page = self.settings.provider_options.get("HCS_LETTER_PAGE_SIZE", "A4")
        return LetterSettings(
            page_size=page, pdf_variant="pdf/a-3b", brand_assets=assets, language=language
        )


def build_providers(settings: Settings) -> Providers:
    """Every channel's provider from the settings; raises ChannelError for an unknown one."""
    o = settings.provider_options
    return Providers(
        settings=settings,
        email=_email(settings, o),
        sms=_sms(settings, o),
        chat=_chat(settings, o),
        letter=_letter(settings, o),
        sms_settings=SmsSettings(default_region=o.get("HCS_SMS_REGION")),
    )
